"""Two sbems nodes sharing one Redis (docs/internals/cluster.md): readings
ingested on node A reach a WebSocket client of node B and B's live table; a
rate limit exhausted through A is refused on B; failed sign-ins on A lock the
account on B; a session revoked on A is refused on B.

Each node has its own data directory (so its own user database, SQLite per
node): the test creates the same users in the same order on both (same ids)
and points both at one token key file (auth.key_file), which is what lets an
access token of A be checked by B.  Refresh tokens live in each node's
database, so one node's refresh token means nothing to the other (asserted).
Redis is a throwaway redis-server on a free loopback port, stopped by PID."""
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests
import websockets

from conftest import (FAST, PASSWORD, SITE, USERS, Sbems, free_port, start_daemon,
                      wait_for)

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisProc:
    """The throwaway server: its URL and process (stopped by PID)."""
    proc = None
    url = ""


@pytest.fixture
def redis_server(tmp_path):
    if not os.path.exists(REDIS):
        pytest.skip("no redis-server (apt-get install redis-server)")
    port = free_port()
    d = tmp_path / "redis"
    d.mkdir()
    p = subprocess.Popen([REDIS, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                          "--appendonly", "no", "--dir", str(d), "--daemonize", "no"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, timeout=10)
    rp = RedisProc()
    rp.proc, rp.url = p, f"redis://127.0.0.1:{port}"
    yield rp
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=10)


class Node:
    def __init__(self, sbems, proc, port):
        self.sbems, self.proc, self.port = sbems, proc, port
        self.base = f"http://127.0.0.1:{port}"

    def url(self, path):
        return self.base + path

    def login(self, user, password=PASSWORD):
        return requests.post(self.url("/api/v1/auth/login"),
                             json={"username": user, "password": password}, timeout=30)

    def get(self, path, token):
        return requests.get(self.url(path), headers={"Authorization": "Bearer " + token},
                            timeout=30)

    def metric(self, name):
        text = requests.get(self.url("/metrics"), timeout=30).text
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None


@pytest.fixture
def nodes(tmp_path, redis_server):
    redis_url = redis_server.url
    keys = tmp_path / "token-keys.json"
    made = []
    try:
        out = []
        for name in ("a", "b"):
            s = Sbems(tmp_path / name)
            made.append(s)
            s.run("import", SITE)
            for user, (roles, grants) in USERS.items():      # same order: same ids
                args = ["user", "add", user, "--role", roles, "--password-stdin",
                        "--set", "auth.password_cost=min"]
                if grants:
                    args += ["--grant", grants]
                s.run(*args, stdin=PASSWORD + "\n")
            proc, port = start_daemon(
                s, "--set", "auth.password_cost=min", "--set", "api.rate_limit_ip=0",
                "--set", "api.rate_limit=5", "--set", "api.rate_burst=5",
                "--set", "auth.lockout_failures=4", "--set", "auth.lockout=60s",
                "--set", f"auth.key_file={keys}", "--set", f"redis.url={redis_url}",
                "--set", f"store.node={name}")
            out.append(Node(s, proc, port))
        a, b = out
        # both connected to Redis before the test acts
        assert wait_for(lambda: a.metric("sbems_redis_up") == 1 and b.metric("sbems_redis_up") == 1,
                        timeout=15)
        yield a, b
    finally:
        for s in made:
            s.stop_all()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


async def recv_until(ws, pred, timeout=10):
    end = time.monotonic() + timeout
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, end - time.monotonic())))
        if pred(m):
            return m


def test_readings_from_a_reach_b(nodes):
    a, b = nodes
    ann_b = b.login("ann").json()["access_token"]
    opal_a = a.login("opal").json()["access_token"]

    async def go():
        ws = await websockets.connect(f"ws://127.0.0.1:{b.port}/api/v1/ws")
        await ws.send(json.dumps({"type": "auth", "token": ann_b}))
        assert (await recv_until(ws, lambda m: m["type"] in ("ready", "error")))["type"] == "ready"
        await ws.send(json.dumps({"type": "subscribe", "id": 1, "channels": ["point:ahu-1.sat"]}))
        await recv_until(ws, lambda m: m["type"] == "subscribed")
        # the link is up once a reading crosses; then check one exactly
        now = int(time.time() * 1000)
        got = None
        for i in range(20):
            r = requests.post(a.url("/api/v1/readings?wait=1"),
                              headers={"Authorization": "Bearer " + opal_a},
                              json={"readings": [{"point": "ahu-1.sat", "t": now + i,
                                                  "v": 12.5 + i}]}, timeout=30)
            assert r.status_code in (200, 202), r.text
            try:
                got = await recv_until(ws, lambda m: m["type"] == "readings"
                                       and any(x[1] == now + i for x in m["data"]), timeout=1)
                break
            except asyncio.TimeoutError:
                continue
        assert got, "no reading from node A reached node B's WebSocket client"
        row = [x for x in got["data"] if x[1] >= now][-1]
        assert row[2] == 12.5 + (row[1] - now)
        await ws.close()
        return row

    row = run(go())
    # B's live table has it too (snapshots, /latest), though B's store does not
    lt = b.get("/api/v1/points/ahu-1.sat/latest", ann_b)
    assert lt.status_code == 200, lt.text
    assert lt.json()["ts"] == row[1] and lt.json()["value"] == row[2]
    assert b.metric("sbems_redis_received_total") >= 1
    assert a.metric("sbems_redis_published_total") >= 1


def test_rate_limit_exhausted_on_a_refused_on_b(nodes):
    a, b = nodes
    tok = a.login("max").json()["access_token"]
    codes = [a.get("/api/v1/auth/me", tok).status_code for _ in range(5)]
    assert codes == [200] * 5                                    # the burst
    r = a.get("/api/v1/auth/me", tok)
    assert r.status_code == 429, r.text
    # A's refusal reaches B: B's own bucket for max is still almost full
    # once A's "deny" message is in, B's very first request for max is refused
    # (B's own bucket for max is full: B has not seen max yet)
    assert wait_for(lambda: b.metric("sbems_redis_received_total") >= 1, timeout=3)
    r = b.get("/api/v1/auth/me", tok)
    assert r.status_code == 429, r.text
    assert int(r.headers["Retry-After"]) >= 1
    # another user is not affected
    other = b.login("vic").json()["access_token"]
    assert b.get("/api/v1/auth/me", other).status_code == 200


def test_login_throttle_shared(nodes):
    a, b = nodes
    for _ in range(4):                      # the 4th failure locks the account for 60 s
        r = a.login("vic", "wrong password!")
        assert r.status_code in (401, 429), r.text
    # the right password on B: refused while locked, though B saw no failure
    # both "deny" messages (account and address) in
    assert wait_for(lambda: b.metric("sbems_redis_received_total") >= 2, timeout=3)
    r = b.login("vic")
    assert r.status_code == 429, "node B let a locked account sign in: " + r.text
    assert r.json()["error"]["code"] == "too_many_attempts"
    assert int(r.headers["Retry-After"]) > 10
    # every attempt came from 127.0.0.1: the address is locked on B as well
    r = b.login("opal")
    assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_attempts"


def test_revoked_on_a_refused_on_b(nodes):
    a, b = nodes
    t = a.login("ann").json()
    tok = t["access_token"]
    assert b.get("/api/v1/auth/me", tok).status_code == 200
    # refresh tokens are per node (each has its own user database)
    r = requests.post(b.url("/api/v1/auth/refresh"), json={"refresh_token": t["refresh_token"]},
                      timeout=30)
    assert r.status_code == 401
    assert requests.post(a.url("/api/v1/auth/logout"), headers={"Authorization": "Bearer " + tok},
                         timeout=30).status_code == 204
    assert wait_for(lambda: b.get("/api/v1/auth/me", tok).status_code == 401, timeout=3)

    async def ws_refused():
        ws = await websockets.connect(f"ws://127.0.0.1:{b.port}/api/v1/ws")
        await ws.send(json.dumps({"type": "auth", "token": tok}))
        m = json.loads(await asyncio.wait_for(ws.recv(), 10))
        await ws.close()
        return m
    m = run(ws_refused())
    assert m["type"] == "error" and m["code"] == "invalid_token"
    assert a.get("/api/v1/auth/me", tok).status_code == 401
    # B's own sessions are untouched
    mine = b.login("ann").json()["access_token"]
    assert b.get("/api/v1/auth/me", mine).status_code == 200


def test_redis_down_fails_open_to_local_limits(nodes, redis_server):
    a, _ = nodes
    tok = a.login("max").json()["access_token"]
    assert a.get("/api/v1/auth/me", tok).status_code == 200
    redis_server.proc.send_signal(signal.SIGKILL)
    redis_server.proc.wait(timeout=10)
    # noticed within about a second (an idle PING), and counted
    assert wait_for(lambda: a.metric("sbems_redis_up") == 0, timeout=5)
    codes = [a.get("/api/v1/auth/me", tok).status_code for _ in range(4)]
    assert codes == [200] * 4                  # not refused for lack of Redis
    assert a.metric("sbems_redis_fallback_total") >= 4
    assert a.get("/api/v1/auth/me", tok).status_code == 429   # the node's own bucket still holds
    assert a.metric("sbems_redis_errors_total") >= 1


def test_alert_raised_on_a_reaches_b(nodes):
    a, b = nodes
    r = requests.post(a.url("/api/v1/alert-rules"),
                      headers={"Authorization": "Bearer " + a.login("max").json()["access_token"]},
                      json={"id": "sat-high", "name": "AHU-1 discharge air too warm",
                            "type": "threshold", "point": "ahu-1.sat", "severity": "major",
                            "above": 20}, timeout=30)
    assert r.status_code == 201, r.text
    vic_b = b.login("vic").json()["access_token"]
    opal_a = a.login("opal").json()["access_token"]

    async def go():
        ws = await websockets.connect(f"ws://127.0.0.1:{b.port}/api/v1/ws")
        await ws.send(json.dumps({"type": "auth", "token": vic_b}))
        assert json.loads(await ws.recv())["type"] == "ready"
        await ws.send(json.dumps({"type": "subscribe", "id": 1, "channels": ["alerts"]}))
        await recv_until(ws, lambda m: m["type"] == "subscribed")
        r = requests.post(a.url("/api/v1/readings?wait=1"),
                          headers={"Authorization": "Bearer " + opal_a},
                          json={"readings": [{"point": "ahu-1.sat", "t": int(time.time() * 1000),
                                              "v": 21.5}]}, timeout=30)
        assert r.status_code in (200, 202), r.text
        m = await recv_until(ws, lambda m: m["type"] == "event" and m["channel"] == "alerts",
                             timeout=10)
        await ws.close()
        return m["data"]
    ev = run(go())
    # raised by node A's rules (B has no such rule: the event is A's, relayed)
    assert ev["event"] == "raised" and ev["alert"]["rule"] == "sat-high"
    assert ev["alert"]["value"] == 21.5


def resp_command(url, *args):
    """One command to Redis in its protocol (RESP), over a plain socket: the
    test's own view, not through sbems.  Returns the first reply line."""
    host, port = url[len("redis://"):].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        out = f"*{len(args)}\r\n".encode()
        for a in args:
            a = str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        s.sendall(out)
        return s.recv(4096).split(b"\r\n")[0]


def test_refresh_checks_redis_revocation(nodes, redis_server):
    # A session revoked by a node sharing this node's user database (here:
    # written straight into Redis, no message, so only the check at refresh
    # can know) is refused at refresh.
    import base64
    a, _ = nodes
    t = a.login("ann").json()
    claims = t["access_token"].split(".")[1]
    sid = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["sid"]
    other = a.login("ann").json()
    assert resp_command(redis_server.url, "SET", f"sbems:rev:{sid}", "1", "PX", "60000") == b"+OK"
    r = requests.post(a.url("/api/v1/auth/refresh"), json={"refresh_token": t["refresh_token"]},
                      timeout=30)
    assert r.status_code == 401, r.text
    # refused again once Redis forgets it: the family was revoked in A's database
    # too (and the token counts as used)
    assert resp_command(redis_server.url, "DEL", f"sbems:rev:{sid}") == b":1"
    r = requests.post(a.url("/api/v1/auth/refresh"), json={"refresh_token": t["refresh_token"]},
                      timeout=30)
    assert r.status_code == 401
    # another session of the same user is untouched
    r = requests.post(a.url("/api/v1/auth/refresh"),
                      json={"refresh_token": other["refresh_token"]}, timeout=30)
    assert r.status_code == 200, r.text
