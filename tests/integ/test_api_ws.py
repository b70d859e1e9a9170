"""WebSocket /api/v1/ws on the real daemon (python3-websockets as the peer):
authentication, subscriptions within grants, readings pushed after ingest,
coalescing, snapshots, token expiry, and a slow consumer that must neither
slow the server nor other clients."""
import asyncio
import json
import socket
import time

import pytest
import requests
import websockets

from conftest import start_api


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


async def connect(api, token=None, **kw):
    ws = await websockets.connect(f"ws://127.0.0.1:{api.port}/api/v1/ws", max_size=2**24, **kw)
    if token:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        m = json.loads(await ws.recv())
        assert m["type"] == "ready", m
    return ws


async def until(ws, pred, timeout=10):
    """Messages until pred(msg) is true; returns (that message, all seen)."""
    seen = []
    end = time.monotonic() + timeout
    while True:
        m = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, end - time.monotonic())))
        seen.append(m)
        if pred(m):
            return m, seen


def post(api, user, readings, wait=1):
    r = api.req("POST", f"/api/v1/readings?wait={wait}", user, json={"readings": readings})
    assert r.status_code in (200, 202), r.text
    return r.json()


def test_auth_required_and_refused(api):
    async def go():
        ws = await connect(api)
        await ws.send(json.dumps({"type": "subscribe", "id": 1, "channels": ["point:1"]}))
        m = json.loads(await ws.recv())
        assert m["type"] == "error" and m["code"] == "unauthenticated"
        await ws.send(json.dumps({"type": "auth", "token": "bad"}))
        m = json.loads(await ws.recv())
        assert m["type"] == "error" and m["code"] == "invalid_token"
        with pytest.raises(websockets.ConnectionClosed):
            for _ in range(5):
                await ws.recv()
        # a page from another site may not open it (cross-site WebSocket hijacking)
        # the handshake is refused (lws hangs up rather than answer 403)
        with pytest.raises((websockets.InvalidHandshake, EOFError, OSError)):
            await websockets.connect(f"ws://127.0.0.1:{api.port}/api/v1/ws",
                                     origin="https://evil.example")
        with pytest.raises((websockets.InvalidHandshake, EOFError, OSError)):
            await websockets.connect(f"ws://127.0.0.1:{api.port}/api/v1/other")
        ok = await websockets.connect(f"ws://127.0.0.1:{api.port}/api/v1/ws",
                                      origin=f"http://127.0.0.1:{api.port}")   # same origin
        await ok.close()
    run(go())


def test_subscribe_ingest_receive(api):
    async def go():
        vic = await connect(api, api.token("vic"))
        await vic.send(json.dumps({"type": "subscribe", "id": 7, "channels": [
            "point:ahu-1.sat", "zone:f1-north", "point:annex-tstat.t", "alerts", "nonsense"]}))
        errs, sub = [], None
        while sub is None:
            m = json.loads(await vic.recv())
            if m["type"] == "error":
                errs.append(m)
            elif m["type"] == "subscribed":
                sub = m
        assert sub["id"] == 7 and "point:annex-tstat.t" not in sub["channels"]
        assert {e["code"] for e in errs} == {"not_found"} and len(errs) == 2   # annex, nonsense
        assert sub["points"] >= 2
        now = int(time.time() * 1000)
        post(api, "opal", [{"point": "ahu-1.sat", "t": now, "v": 12.75},
                           {"point": "vav-1-north.zn-t", "t": now, "v": 22.5},
                           {"point": "ahu-2.sat", "t": now, "v": 99}])
        got = {}
        while len(got) < 2:
            m, _ = await until(vic, lambda m: m["type"] == "readings")
            for p, t, v, q in m["data"]:
                got[p] = (t, v)
        ids = {p["id"]: p["point_id"] for p in
               api.req("GET", "/api/v1/points?limit=1000", "vic").json()["items"]}
        assert got[ids["ahu-1.sat"]] == (now, 12.75) and got[ids["vav-1-north.zn-t"]] == (now, 22.5)
        assert ids["ahu-2.sat"] not in got                         # not subscribed
        # the other point never arrives; the annex reading is not leaked either
        admin_post = post(api, "ann", [{"point": "annex-tstat.t", "t": now, "v": 1}])
        assert admin_post["accepted"] == 1
        await vic.send(json.dumps({"type": "ping"}))
        m, seen = await until(vic, lambda m: m["type"] == "pong")
        assert all(m["type"] != "readings" or all(r[0] in ids.values() for r in m["data"])
                   for m in seen)
        # unsubscribe stops the flow
        await vic.send(json.dumps({"type": "unsubscribe", "id": 8, "channels": ["point:ahu-1.sat"]}))
        await until(vic, lambda m: m["type"] == "unsubscribed")
        post(api, "opal", [{"point": "ahu-1.sat", "t": now + 5, "v": 1.0},
                           {"point": "vav-1-north.zn-t", "t": now + 5, "v": 23.0}])
        m, _ = await until(vic, lambda m: m["type"] == "readings")
        assert [r[0] for r in m["data"]] == [ids["vav-1-north.zn-t"]]
        # overlapping channels: dropping a point that the zone channel also
        # covers keeps it; dropping the zone then stops it
        await vic.send(json.dumps({"type": "subscribe", "id": 9, "channels": ["point:vav-1-north.zn-t"]}))
        await until(vic, lambda m: m["type"] == "subscribed")
        await vic.send(json.dumps({"type": "unsubscribe", "id": 10, "channels": ["point:vav-1-north.zn-t"]}))
        m, _ = await until(vic, lambda m: m["type"] == "unsubscribed")
        assert m["points"] >= 1
        post(api, "opal", [{"point": "vav-1-north.zn-t", "t": now + 10, "v": 23.5}])
        m, _ = await until(vic, lambda m: m["type"] == "readings")
        assert [r[0] for r in m["data"]] == [ids["vav-1-north.zn-t"]]
        await vic.send(json.dumps({"type": "unsubscribe", "id": 11, "channels": ["zone:f1-north"]}))
        m, _ = await until(vic, lambda m: m["type"] == "unsubscribed")
        assert m["points"] == 0, m
        await vic.close()
    run(go())


def test_snapshot_and_coalescing(api):
    async def go():
        now = int(time.time() * 1000)
        post(api, "opal", [{"point": "ahu-1.sat", "t": now - 1000, "v": 11.0}])
        ws = await connect(api, api.token("vic"))
        await ws.send(json.dumps({"type": "subscribe", "id": 1, "channels": ["point:ahu-1.sat"]}))
        m, _ = await until(ws, lambda m: m["type"] == "readings")
        assert m["data"][0][1:3] == [now - 1000, 11.0]                   # the current value
        # 50 readings of one point at once: at most a few go out (ws.max_rate,
        # 10/s by default), the newest last
        r = post(api, "opal", [{"point": "ahu-1.sat", "t": now + i, "v": 10.0 + i / 2}
                               for i in range(50)])
        assert r["accepted"] == 50
        _, seen = await until(ws, lambda m: m["type"] == "readings" and m["data"][-1][1] == now + 49)
        sent = [r for m in seen if m["type"] == "readings" for r in m["data"]]
        assert len(sent) <= 3 and sent[-1][1:3] == [now + 49, 34.5]
        await ws.close()
    run(go())


def test_token_expiry_reauth(sbems):
    api = start_api(sbems, "--set", "auth.access_ttl=1m")
    async def go():
        t = api.login("vic")
        ws = await connect(api, t["access_token"])
        # a fresh token for the same user is accepted as re-authentication
        t2 = requests.post(api.url("/api/v1/auth/refresh"),
                           json={"refresh_token": t["refresh_token"]}).json()
        await ws.send(json.dumps({"type": "auth", "token": t2["access_token"]}))
        m, _ = await until(ws, lambda m: m["type"] in ("reauthed", "error"))
        assert m["type"] == "reauthed"
        # another user's token on the same connection closes it
        await ws.send(json.dumps({"type": "auth", "token": api.token("opal")}))
        with pytest.raises(websockets.ConnectionClosed):
            for _ in range(5):
                await ws.recv()
        # with a 1-minute token the server asks for a new one at once
        ws = await connect(api, api.login("vic")["access_token"])
        m, _ = await until(ws, lambda m: m["type"] == "reauth", timeout=5)
        assert 0 < m["expires_in"] <= 60
        await ws.close()
    run(go())


def test_slow_consumer_is_dropped_not_waited_for(sbems):
    api = start_api(sbems, "--set", "ws.client_queue=16k", "--set", "ws.max_rate=1000")
    async def go():
        # every point of the building, each at a value inside its range
        pts = [(p["id"], (p["min"] + p["max"]) / 2 if "min" in p and "max" in p else
                p.get("min", p.get("max", 1.0)))
               for p in api.req("GET", "/api/v1/points?building=hpo&limit=1000",
                                "vic").json()["items"] if p["kind"] != "energy"]
        # The slow client's socket takes almost nothing; it never reads.
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect(("127.0.0.1", api.port))
        slow = await websockets.connect(f"ws://127.0.0.1:{api.port}/api/v1/ws", sock=s,
                                        max_size=2**24, max_queue=1)
        await slow.send(json.dumps({"type": "auth", "token": api.token("vic")}))
        await slow.send(json.dumps({"type": "subscribe", "id": 1, "channels": ["building:hpo"]}))
        fast = await connect(api, api.token("vic"))
        await fast.send(json.dumps({"type": "subscribe", "id": 1, "channels": ["building:hpo"]}))
        await until(fast, lambda m: m["type"] == "subscribed")
        t0 = int(time.time() * 1000) - 600000
        last = None
        start = time.monotonic()
        for k in range(600):
            rows = [{"point": p, "t": t0 + k, "v": v} for p, v in pts]
            r = api.req("POST", "/api/v1/readings?wait=1&units=source", "opal",
                        json={"readings": rows}).json()
            assert r["rejected"] == 0, r
            last = t0 + k
        elapsed = time.monotonic() - start
        # the fast client sees the last batch promptly
        m, _ = await until(fast, lambda m: m["type"] == "readings" and
                           any(r[1] == last for r in m["data"]), timeout=20)
        # the slow one, once it reads, is told what it lost and carries on
        lagged = None
        for _ in range(100000):
            m = json.loads(await asyncio.wait_for(slow.recv(), 20))
            if m["type"] == "lagged":
                lagged = m
                break
        assert lagged and lagged["dropped"] > 0
        m, _ = await until(slow, lambda m: m["type"] == "readings", timeout=20)
        metrics = requests.get(api.url("/metrics")).text
        assert "sbems_ws_clients 2" in metrics
        assert api.proc.poll() is None
        return elapsed
    elapsed = run(go())
    assert elapsed < 60
