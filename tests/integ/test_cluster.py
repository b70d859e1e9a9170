"""Three sbems nodes on one PostgreSQL, one Redis and one Mosquitto, polling
one simulated building (sbems-sim: BACnet/IP controllers, Modbus meters, MQTT
sensors, REST thermostats) on loopback, with device leases
(cluster.leases; docs/internals/cluster-leases.md).

- the devices are shared out: every device is owned by exactly one node,
  each node polls some;
- kill -9 of one node mid-run: the other two take its devices within about
  one lease period, their WebSocket clients keep receiving readings (those of
  the dead node's devices too, through Redis), and every reading the dead
  node had acknowledged (what its own API answered just before the kill) is
  in the store afterwards;
- a command sent to a node that does not poll the device is forwarded through
  Redis and run by the node that does (read back, audited once there), and
  so is a read of the device's priority array; the override it holds is released at its expiry by the node that polls the
  box then, after the node that recorded it was killed;
- no device is ever talked to by two nodes at once: a packet capture of the
  BACnet traffic (dumpcap/tshark, independent of sbems) shows, for every
  controller, the confirmed requests (reads, COV subscriptions) come from one
  node at a time; two nodes polling one device at 1 s would interleave.
"""
import asyncio
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest
import requests
import websockets

import pgserver
from bacnet_peers import TsharkCapture
from conftest import (FAST, PASSWORD, ROOT, SIM, Sbems, sim_config, sim_json, start_daemon,
                      udp_port, wait_for)
from test_redis import redis_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.skipif(not pgserver.available(),
                                reason="PostgreSQL 15 is not installed (scripts/bootstrap check)")

NET = "127.0.14"                     # this test's block of loopback addresses
POLL_S = 1
LEASE_S = 3


class Node:
    def __init__(self, name, sbems, proc, port, bacnet_port):
        self.name, self.sbems, self.proc, self.port = name, sbems, proc, port
        self.bacnet_port = bacnet_port
        self.base = f"http://127.0.0.1:{port}"
        r = requests.post(self.base + "/api/v1/auth/login",
                          json={"username": "op", "password": PASSWORD}, timeout=30).json()
        self.token, self.refresh = r["access_token"], r["refresh_token"]

    def get(self, path):
        r = requests.get(self.base + path, headers={"Authorization": "Bearer " + self.token},
                         timeout=30)
        assert r.status_code == 200, (path, r.status_code, r.text)
        return r.json()

    def owned(self):
        return set(self.get("/api/v1/cluster")["owned"])


class WsClient:
    """A WebSocket client of one node on its own thread: every reading it
    receives, as (arrival time, point id, t)."""

    def __init__(self, node):
        self.node, self.got, self.err = node, [], None
        self.stop = False
        self.t = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self.t.start()

    async def _run(self):
        try:
            async with websockets.connect(f"ws://127.0.0.1:{self.node.port}/api/v1/ws") as ws:
                await ws.send(json.dumps({"type": "auth", "token": self.node.token}))
                while json.loads(await asyncio.wait_for(ws.recv(), 15)).get("type") != "ready":
                    pass                            # subscribing before "ready" is refused
                await ws.send(json.dumps({"type": "subscribe", "id": 1,
                                          "channels": ["building:hpo"]}))
                while not self.stop:
                    try:
                        m = json.loads(await asyncio.wait_for(ws.recv(), 0.5))
                    except asyncio.TimeoutError:
                        continue
                    if m.get("type") == "readings":
                        now = time.monotonic()
                        self.got.extend((now, x[0], x[1]) for x in m["data"])
        except Exception as e:                      # reported by the test
            self.err = repr(e)

    def close(self):
        self.stop = True
        self.t.join(timeout=10)


def start_node(tmp_path, name, pg, redis_url, drv, url=None):
    s = Sbems(tmp_path / name)
    os.makedirs(s.data_dir, exist_ok=True)
    # one account database for all nodes (store.appdb): the account made
    # once by the import step signs in on every node
    s.env.update(SBEMS_STORE_BACKEND="postgres", SBEMS_STORE_URL=url or pg.url("sbems"),
                 SBEMS_STORE_NODE=name, SBEMS_STORE_APPDB="postgres")
    port = udp_port()
    d = json.loads(json.dumps(drv))
    d["bacnet"].update(bind="127.0.0.1", port=port, apdu_timeout_ms=300, retries=1,
                       cov_heartbeat_s=5)
    dj = os.path.join(s.data_dir, "drivers.json")
    with open(dj, "w") as f:
        json.dump(d, f)
    os.chmod(dj, 0o600)
    # one signing key file for all nodes (auth.key_file): a token one node
    # issues verifies on every other, as behind a round-robin proxy
    keys = str(tmp_path / "token-keys.json")
    proc, hp = start_daemon(s, *FAST, "--set", "cluster.leases=true", "--set", f"auth.key_file={keys}",
                            "--set", f"cluster.lease={LEASE_S}s", "--set", "drivers.timeout=500ms",
                            "--set", f"redis.url={redis_url}", "--set", "store.flush_interval=1s",
                            drivers=True)
    return Node(name, s, proc, hp, port)


class BlackHole:
    """A TCP relay to PostgreSQL that can stop passing bytes without closing
    anything: the network between one node and the database goes silent, as
    in a partition (the kernel still acknowledges, so no TCP timeout fires)."""

    def __init__(self, target_port):
        self.target, self.blocked, self.stop = target_port, threading.Event(), False
        self.ls = socket.socket()
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target))
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, a, b):
        a.settimeout(0.2)
        while not self.stop:
            if self.blocked.is_set():
                time.sleep(0.05)
                continue
            try:
                d = a.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not d:
                break
            try:
                b.sendall(d)
            except OSError:
                break
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.blocked.clear()
        self.ls.close()


def wire_runs(cap, nodes):
    """Per BACnet controller, the nodes its confirmed requests came from, in
    order, with the first and last request time of each run."""
    ports = {n.bacnet_port: n.name for n in nodes}
    rows = cap._tshark("-Y", "bacapp.type == 0 && udp.dstport == 47808", "-T", "fields",
                       "-e", "frame.time_epoch", "-e", "ip.dst", "-e", "udp.srcport")
    seq = {}
    for t, dst, sport in rows:
        seq.setdefault(dst, []).append((float(t), ports.get(int(sport), sport)))
    runs = {}
    for dst, reqs in seq.items():
        reqs.sort()
        r = []
        for t, who in reqs:
            if r and r[-1][0] == who:
                r[-1][2] = t
            else:
                r.append([who, t, t])
        runs[dst] = r
    return runs, len(rows)


def history(node, point, t0, t1):
    h = node.get(f"/api/v1/points/{point}/history?from={t0}&to={t1}&limit=10000")
    assert not h["truncated"], (point, h["count"])
    return {(x["ts"], x["value"]) for x in h["samples"]}


def test_three_nodes_share_devices_and_survive_kill(tmp_path, pg, redis_server, broker):  # noqa: F811
    cfg, _ = sim_config(tmp_path, NET, broker, POLL_S)
    devices = sim_json(cfg, "--list")
    bacnet_ips = sorted({d["address"] for d in devices if d["protocol"] == "bacnet/ip"})
    assert len(bacnet_ips) == 20
    site = sim_json(cfg, "--site-json")
    for p in site["points"]:
        p["source"]["poll_s"] = POLL_S
    (tmp_path / "site.json").write_text(json.dumps(site))
    drv = sim_json(cfg, "--drivers-json")
    # the model goes into the shared store once; every node loads it from there
    first = Sbems(tmp_path / "import")
    first.env.update(SBEMS_STORE_BACKEND="postgres", SBEMS_STORE_URL=pg.url("sbems"),
                     SBEMS_STORE_NODE="import", SBEMS_STORE_APPDB="postgres")
    first.run("import", str(tmp_path / "site.json"))
    first.run("user", "add", "op", "--role", "admin", "--password-stdin",
              "--set", "auth.password_cost=min", stdin=PASSWORD + "\n")
    point_ids = [p["id"] for p in site["points"]]

    sim = subprocess.Popen([SIM, "--start", "2026-07-15T14:00:00Z", "--config", str(cfg)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    nodes, clients = [], []
    cap = TsharkCapture(ports=(47808, 47808), path=tmp_path / "bacnet.pcapng", max_seconds=600,
                        hosts=bacnet_ips)
    try:
        assert '"ready"' in sim.stdout.readline()
        with cap:
            for name in ("n1", "n2", "n3"):
                nodes.append(start_node(tmp_path, name, pg, redis_server.url, drv))
            n1, n2, n3 = nodes
            all_devs = {d["driver"] + "/" + d["device"] for d in n1.get("/api/v1/drivers")["devices"]}
            assert len(all_devs) >= 20 + 3, all_devs

            # shared out: disjoint, complete, every node polls some
            def balanced():
                sets = [n.owned() for n in nodes]
                return (all(sets) and set().union(*sets) == all_devs
                        and sum(len(s) for s in sets) == len(all_devs))
            assert wait_for(balanced, timeout=6 * LEASE_S, step=0.5), \
                [sorted(n.owned()) for n in nodes]
            view = n2.get("/api/v1/cluster")
            assert {x["node"] for x in view["nodes"] if x["alive"]} == {"n1", "n2", "n3"}, view
            # one account database (store.appdb = postgres): the session n1
            # began is renewed by n2; replaying n1's used refresh token on n3
            # is reuse, and revokes the family on every node
            def refresh(node, rt):
                return requests.post(node.base + "/api/v1/auth/refresh",
                                     json={"refresh_token": rt}, timeout=30)
            def cluster_as(node, token):
                return requests.get(node.base + "/api/v1/cluster", timeout=30, headers={
                    "Authorization": "Bearer " + token}).status_code
            began = requests.post(n1.base + "/api/v1/auth/login", timeout=30, json={
                "username": "op", "password": PASSWORD}).json()
            r = refresh(n2, began["refresh_token"])
            assert r.status_code == 200, r.text
            renewed = r.json()
            assert cluster_as(n3, renewed["access_token"]) == 200
            assert refresh(n3, began["refresh_token"]).status_code == 401
            assert refresh(n1, renewed["refresh_token"]).status_code == 401
            # the session's access tokens die on every node (Redis), others live
            assert wait_for(lambda: cluster_as(n2, renewed["access_token"]) == 401, timeout=5,
                            step=0.1)
            assert cluster_as(n2, n1.token) == 200
            # n3 audited it; n1 reads it from the shared log
            assert wait_for(lambda: len(n1.get("/api/v1/audit?action=auth.token_reuse")["items"])
                            == 1, timeout=10, step=0.2)
            # the cluster's duties (analytics passes): one node at a time
            def duty_holders(ns):
                return [n.name for n in ns if n.get("/api/v1/cluster")["duties"]]
            assert wait_for(lambda: len(duty_holders(nodes)) == 1, timeout=4 * LEASE_S, step=0.5), \
                duty_holders(nodes)
            duties_before = duty_holders(nodes)[0]
            clients = [WsClient(n2), WsClient(n3)]
            # data flows from every node's devices to the clients of n2 and n3
            time.sleep(4 * POLL_S)
            owned1 = n1.owned()
            t_start = int(time.time() * 1000) - 60_000
            # what n1 acknowledged, read through its own API just before the kill
            before = {p: history(n1, p, t_start, int(time.time() * 1000) + 1000) for p in point_ids}
            assert sum(len(v) for v in before.values()) > len(point_ids), "nothing polled yet"
            # a command sent to a node that does not poll the device runs on
            # the node that does (through Redis), whole: written, read back,
            # audited once by the owner with the asking node named
            vav = next(p for p in site["points"]
                       if p["id"].endswith(".space-temperature-cooling-setpoint")
                       and f"bacnet/bacnet:{p['source']['address']['device']}" in n1.owned())
            # the anchor: the same box's heating setpoint written through n1 itself
            t_ask = time.monotonic()
            r = requests.post(n1.base + "/api/v1/points/" +
                              vav["id"].replace("-cooling-", "-heating-") + "/write", timeout=30,
                              headers={"Authorization": "Bearer " + n1.token},
                              json={"value": 20.5, "priority": 8})
            t_local = time.monotonic() - t_ask
            assert r.status_code == 200 and "node" in r.json() and r.json()["node"] == "n1", r.text
            t_ask = time.monotonic()
            r = requests.post(n2.base + f"/api/v1/points/{vav['id']}/write", timeout=30,
                              headers={"Authorization": "Bearer " + n2.token},
                              json={"value": 25.5, "priority": 8, "duration_s": 20,
                                    "reason": "forwarded"})
            assert r.status_code == 200, r.text
            wrote = r.json()
            assert wrote["node"] == "n1" and wrote["readback"] == 25.5 and wrote["by"] == "op", wrote
            t_wrote = time.monotonic()
            print(f"# a write sent to n2 for n1's {vav['id']}: run by n1, answered in "
                  f"{(t_wrote - t_ask) * 1000:.0f} ms; one sent to n1 itself: "
                  f"{t_local * 1000:.0f} ms (both: write and readback over BACnet)")
            audit_q = f"/api/v1/audit?action=point.write&target=point:{vav['id']}"
            assert wait_for(lambda: len(n3.get(audit_q)["items"]) == 1, timeout=10, step=0.2)
            rec = n3.get(audit_q)["items"][0]
            assert rec["result"] == "ok" and "forwarded by node n2" in rec["detail"], rec
            # the device's priority array, read live by n1 for a client of n3
            pv = n3.get(f"/api/v1/points/{vav['id']}/priority")
            slot8 = next(x for x in pv["slots"] if x["priority"] == 8)
            assert slot8["value"] == 25.5 and slot8["ours"] and slot8["by"] == "op", pv
            n1.proc.send_signal(signal.SIGKILL)
            n1.proc.wait(timeout=30)
            t_kill = time.monotonic()

            def taken():
                return n2.owned() | n3.owned() == all_devs
            assert wait_for(taken, timeout=4 * LEASE_S, step=0.1), (sorted(owned1),
                                                                     n2.get("/api/v1/cluster"))
            takeover = time.monotonic() - t_kill
            assert not (n2.owned() & n3.owned())
            print(f"# devices of the killed node taken over in {takeover:.2f} s "
                  f"(lease {LEASE_S} s, {len(owned1)} devices)")
            assert takeover <= LEASE_S + 2.0, takeover
            # the duties stay with one node; the dead node's move with its devices
            assert wait_for(lambda: len(duty_holders((n2, n3))) == 1, timeout=4 * LEASE_S,
                            step=0.2), duty_holders((n2, n3))
            print(f"# duties held by {duties_before} before the kill, by "
                  f"{duty_holders((n2, n3))[0]} after it")
            # the adoption of n1's unsealed head is counted and logged
            adopted = sum(n.get("/api/v1/cluster")["adopted_nodes"] for n in (n2, n3))
            assert adopted == 1
            time.sleep(4 * POLL_S)
            t_after = time.monotonic()
            for c in clients:
                c.close()
                assert c.err is None, c.err
                arrivals = sorted(a for a, _, _ in c.got)
                assert arrivals and arrivals[0] < t_kill and arrivals[-1] > t_after - 2, \
                    (c.node.name, len(arrivals))
                gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
                assert max(gaps) < LEASE_S + 2, (c.node.name, max(gaps))
                # readings of the dead node's devices' points after the takeover too
                late = {pid for a, pid, _ in c.got if a > t_kill + takeover}
                assert len(late) > 50, (c.node.name, len(late))

            # the override held for the forwarded command ends on time on the
            # node that polls the box now (n1, which recorded it, is dead)
            rel_q = "/api/v1/audit?action=point.release"
            assert wait_for(lambda: any(x["result"] == "ok" and "expired" in (x["detail"] or "")
                                        for x in n2.get(rel_q)["items"]),
                            timeout=max(5, 20 + 25 - (time.monotonic() - t_wrote)), step=0.5), \
                n2.get(rel_q)
            # nothing n1 acknowledged is lost
            now = int(time.time() * 1000) + 1000
            lost = {}
            for p, have in before.items():
                miss = have - history(n2, p, t_start, now)
                if miss:
                    lost[p] = sorted(miss)[:3]
            assert not lost, f"{len(lost)} points lost readings n1 had acknowledged: " \
                             f"{list(lost.items())[:5]}"
            for n in (n2, n3):
                n.proc.send_signal(signal.SIGTERM)
                assert n.proc.wait(timeout=60) == 0
        # the wire: confirmed requests to each controller come from one node at a time
        runs, nreq = wire_runs(cap, nodes)
        assert set(runs) == set(bacnet_ips), sorted(runs)
        talkers, moves = set(), 0
        for dst, r in runs.items():
            who = [x[0] for x in r]
            talkers.update(who)
            moves += len(who) - 1
            # at start-up a device may move once (a node joins), then once more
            # when n1 dies; two nodes polling at once would alternate every second
            assert len(who) <= 3, (dst, who[:10], len(r))
        assert talkers == {"n1", "n2", "n3"}, talkers
        print(f"# {nreq} confirmed BACnet requests to {len(runs)} controllers, "
              f"{moves} moves between nodes, {sum(len(v) for v in before.values())} readings "
              f"n1 had acknowledged checked")
    finally:
        for c in clients:
            c.close()
        for n in nodes:
            n.sbems.stop_all()
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=30)


def test_node_cut_off_from_the_database_stops_before_another_takes_over(
        tmp_path, pg, redis_server, broker):  # noqa: F811
    """n1 reaches PostgreSQL through a relay that goes silent: its lease
    rounds hang, so by its deadline (a third of a lease before expiry) it
    stops polling; n2 reaps it once its row expires and takes its devices.
    On the wire, no controller hears n2 before it last heard n1.  Then the
    relay passes bytes again: n1 learns its leases are gone, and the two
    share the devices out again."""
    cfg, _ = sim_config(tmp_path, NET, broker, POLL_S)
    listed = [d for d in sim_json(cfg, "--list") if d["protocol"] == "bacnet/ip"]
    bacnet_ips = sorted({d["address"] for d in listed})
    ip_of = {"bacnet/bacnet:" + str(d["device"]): d["address"] for d in listed}
    site = sim_json(cfg, "--site-json")
    site["points"] = [p for p in site["points"] if p["source"]["driver"] == "bacnet"]
    for p in site["points"]:
        p["source"]["poll_s"] = POLL_S
    (tmp_path / "site.json").write_text(json.dumps(site))
    drv = {"bacnet": sim_json(cfg, "--drivers-json")["bacnet"]}
    first = Sbems(tmp_path / "import")
    first.env.update(SBEMS_STORE_BACKEND="postgres", SBEMS_STORE_URL=pg.url("sbems"),
                     SBEMS_STORE_NODE="import", SBEMS_STORE_APPDB="postgres")
    first.run("import", str(tmp_path / "site.json"))
    first.run("user", "add", "op", "--role", "admin", "--password-stdin",
              "--set", "auth.password_cost=min", stdin=PASSWORD + "\n")
    hole = BlackHole(pg.port)
    sim = subprocess.Popen([SIM, "--start", "2026-07-15T14:00:00Z", "--config", str(cfg)],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
    nodes = []
    cap = TsharkCapture(ports=(47808, 47808), path=tmp_path / "bacnet.pcapng", max_seconds=600,
                        hosts=bacnet_ips)
    try:
        assert '"ready"' in sim.stdout.readline()
        with cap:
            via = f"host=127.0.0.1 port={hole.port} user=postgres dbname=sbems"
            n1 = start_node(tmp_path, "n1", pg, redis_server.url, drv, url=via)
            n2 = start_node(tmp_path, "n2", pg, redis_server.url, drv)
            nodes = [n1, n2]
            devs = set(ip_of)
            assert wait_for(lambda: n1.owned() and n2.owned() and n1.owned() | n2.owned() == devs,
                            timeout=6 * LEASE_S, step=0.5), (n1.owned(), n2.owned())
            # cut at once: n1 is still making its COV subscriptions (32 a
            # second), traffic of the driver's own that must stop too
            had = n1.owned()
            hole.blocked.set()
            t_cut, cut_wall = time.monotonic(), time.time()
            assert wait_for(lambda: n2.owned() == devs, timeout=4 * LEASE_S, step=0.1), \
                n2.get("/api/v1/cluster")
            moved = time.monotonic() - t_cut
            time.sleep(2 * POLL_S)
            # n1 keeps answering its API meanwhile; its last round failed or hangs
            assert n1.get("/api/v1/cluster")["leases"] is True
            hole.blocked.clear()
            # n1 hears it lost them, then both share the devices out again
            assert wait_for(lambda: n1.get("/api/v1/cluster")["lost"] >= len(had),
                            timeout=6 * LEASE_S, step=0.5), n1.get("/api/v1/cluster")
            assert wait_for(lambda: n1.owned() and n2.owned() and not (n1.owned() & n2.owned())
                            and n1.owned() | n2.owned() == devs, timeout=8 * LEASE_S, step=0.5)
            print(f"# {len(had)} devices of the cut-off node taken over {moved:.2f} s after the "
                  f"cut (lease {LEASE_S} s)")
            for n in nodes:
                n.proc.send_signal(signal.SIGTERM)
                assert n.proc.wait(timeout=60) == 0
        runs, nreq = wire_runs(cap, nodes)
        assert set(runs) == set(bacnet_ips)
        for dst, r in runs.items():
            who = [x[0] for x in r]
            assert len(who) <= 4, (dst, who[:10])
            for a, b in zip(r, r[1:]):          # every hand-over: the old owner had gone quiet
                assert a[2] < b[1], (dst, r)
        gaps = []
        for dev in had:
            r = runs[ip_of[dev]]
            cut = [(a, b) for a, b in zip(r, r[1:]) if a[0] == "n1" and b[0] == "n2"
                   and b[1] > cut_wall]
            assert cut, (dev, r)
            # n1 went quiet by its deadline, n2 began after the lease expired:
            # at least the third of a lease between them
            gaps.append(cut[0][1][1] - cut[0][0][2])
        assert min(gaps) >= LEASE_S / 3 - 0.05, sorted(gaps)[:5]
        print(f"# {nreq} confirmed requests on the wire; silence between n1's last and n2's first "
              f"request to each moved controller: {min(gaps):.2f} to {max(gaps):.2f} s")
    finally:
        hole.close()
        for n in nodes:
            n.sbems.stop_all()
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=30)
