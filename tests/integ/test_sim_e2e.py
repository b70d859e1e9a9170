"""sbems against sbems-sim, end to end on loopback: the simulated office's
BACnet controllers discovered and accepted, its Modbus meters, MQTT sensors,
REST thermostats and weather service read through sbems's own drivers; a
setpoint written through the sbems API lands in the simulated controller's
priority array and moves the zone; an injected device-offline fault makes
the points stale and is labelled; a backfill writes history through
`sbems ingest`.  Also: npm BACnet clients read the simulated AHU and tshark
sees no malformed packet."""
import asyncio
import importlib.util
import json
import os
import signal
import subprocess
import time

import pytest
import requests
import websockets

from conftest import BIN, FAST, PASSWORD, ROOT, SIM, sim_config, sim_json, udp_port, start_daemon, wait_for

NET = "127.0.9"                      # this test's block of loopback addresses
POLL_S = 2


def demo_setup():
    spec = importlib.util.spec_from_file_location("demo_setup", os.path.join(ROOT, "scripts", "demo_setup.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_sim_end_to_end(sbems, tmp_path, broker):
    cfg_path, cfg = sim_config(tmp_path, NET, broker, POLL_S)
    devices = sim_json(cfg_path, "--list")
    protos = {}
    for d in devices:
        protos.setdefault(d["protocol"], []).append(d)
    assert len(protos["bacnet/ip"]) == 20 and len(protos["mqtt"]) == 15, {k: len(v) for k, v in protos.items()}
    assert any(p.startswith("modbus") for p in protos) and "rest" in protos

    # the site (zones, meters, sensors, thermostats, weather) with fast polls
    full = sim_json(cfg_path, "--site-json")
    doc = sim_json(cfg_path, "--site-json", "--no-bacnet")
    assert len(doc["zones"]) == 15 and doc["buildings"][0]["id"] == "hpo"
    for p in doc["points"]:
        p["source"]["poll_s"] = POLL_S
    (tmp_path / "site.json").write_text(json.dumps(doc))
    sbems.run("import", str(tmp_path / "site.json"))
    drv = sim_json(cfg_path, "--drivers-json")
    # COV keeps quiet devices' points fresh; the heartbeat finds a dead one
    assert drv["bacnet"]["devices"]["1001"] == f"{NET}.20:47808"
    drv["bacnet"].update(bind="127.0.0.1", port=udp_port(), apdu_timeout_ms=500, retries=1, cov_heartbeat_s=5)
    assert drv["modbus"]["profiles"] == os.path.join(ROOT, "profiles")
    dj = tmp_path / "data" / "drivers.json"
    dj.write_text(json.dumps(drv))
    dj.chmod(0o600)
    sbems.run("user", "add", "op", "--role", "admin", "--password-stdin", "--set", "auth.password_cost=min",
              stdin=PASSWORD + "\n")
    labels = tmp_path / "labels.jsonl"
    # a working morning in the simulated building, whatever the wall clock: outside
    # occupancy its AHUs' fans are off and zones do not answer a setpoint quickly
    sim = subprocess.Popen([SIM, "--start", "2026-07-15T14:00:00Z", "--config", str(cfg_path), "--labels", str(labels)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert '"ready"' in sim.stdout.readline()
        proc, hp = start_daemon(sbems, *FAST, "--set", "drivers.stale_factor=3", drivers=True)
        base = f"http://127.0.0.1:{hp}"
        ds = demo_setup()
        api = ds.Api(base, "op", PASSWORD)
        ds.discover_and_accept(api, devices, {e["name"]: e for e in full["equipment"]}, poll_s=POLL_S)
        h = {"Authorization": "Bearer " + api.token}
        points = api.all_points()
        bac = [p for p in points if p["source"]["driver"] == "bacnet"]
        assert len({p["source"]["address"]["device"] for p in bac}) == 20
        # discovery + accept gives the ids, kinds and units --site-json writes
        want = {p["id"]: (p["kind"], p.get("unit"), bool(p.get("writable"))) for p in full["points"]
                if p["source"]["driver"] == "bacnet"}
        assert {p["id"]: (p["kind"], p.get("unit"), bool(p.get("writable"))) for p in bac} == want
        # the accept is audited even though its image is larger than an audit record holds
        audit = requests.get(base + "/api/v1/audit?action=bacnet.accept", headers=h).json()["items"]
        assert audit and audit[0]["actor"] == "op", audit
        assert audit[0]["after"]["points"]["count"] == len(want), audit[0]["after"]
        vav = requests.get(base + "/api/v1/equipment/vav-1-01", headers=h).json()
        assert vav["zone"] == "f1-south" and vav["parent"] == "ahu-1", vav

        # every point receives data within two poll intervals (plus start-up)
        def missing():
            return [p["id"] for p in points if requests.get(base + f"/api/v1/points/{p['id']}/latest",
                                                            headers=h).status_code != 200]
        assert wait_for(lambda: not missing(), timeout=2 * POLL_S + 20, step=1), (missing(), requests.get(base + "/api/v1/drivers", headers=h).text)

        # a cooling setpoint written through sbems reaches the controller's
        # priority array and cools the zone
        sp = next(p for p in bac if p["id"].startswith("vav-1-01.") and "cooling-setpoint" in p["id"])
        temp = next(p for p in bac if p["id"] == "vav-1-01.space-temperature")
        t0 = requests.get(base + f"/api/v1/points/{temp['id']}/latest", headers=h).json()["value"]
        r = requests.post(base + f"/api/v1/points/{sp['id']}/write", headers=h,
                          json={"value": round(t0 - 3, 1), "priority": 8, "reason": "e2e"})
        assert r.status_code == 200, r.text
        pa = requests.get(base + f"/api/v1/points/{sp['id']}/priority", headers=h).json()
        assert pa["in_control"] == 8, pa
        assert wait_for(lambda: requests.get(base + f"/api/v1/points/{temp['id']}/latest",
                                             headers=h).json()["value"] < t0 - 1, timeout=90, step=2)

        # device offline: its points go stale, the label has the truth
        http = next(d for d in devices if d["protocol"] == "rest")
        ctl = f"http://{http['address']}:{http['port']}/control/v1/faults"
        r = requests.post(ctl, json={"class": "device_offline", "equipment": "AHU-2"})
        assert r.status_code == 201, r.text
        ahu2 = [p["id"] for p in bac if p["id"].startswith("ahu-2.")]

        def stale():
            d = {x["device"]: x for x in requests.get(base + "/api/v1/drivers", headers=h).json()["devices"]}
            a = d.get("bacnet:1002", {})
            return a.get("points") == len(ahu2) and a.get("stale_points") == len(ahu2) and a["state"] != "ok"
        assert wait_for(stale, timeout=5 + POLL_S * 3 + 30, step=1), requests.get(base + "/api/v1/drivers", headers=h).text
        others = {x["device"]: x for x in requests.get(base + "/api/v1/drivers", headers=h).json()["devices"]}
        assert others["bacnet:1001"]["stale_points"] == 0 and others["bacnet:1001"]["state"] == "ok"
        recs = [json.loads(x) for x in labels.read_text().splitlines()]
        assert recs[-1]["class"] == "device_offline" and recs[-1]["equipment"] == "AHU-2" and recs[-1]["end"] is None
        # the held values are flagged stale (quality bit 0) for REST and WebSocket clients:
        # a COV-kept point sends no reading while it holds, so clients cannot judge by age
        q = lambda pid: requests.get(base + f"/api/v1/points/{pid}/latest", headers=h).json()["quality"]
        assert wait_for(lambda: all(q(p) & 1 for p in ahu2), timeout=5, step=0.5), [q(p) for p in ahu2]
        assert q("vav-1-01.space-temperature") & 1 == 0

        async def snapshot():
            async with websockets.connect(f"ws://127.0.0.1:{hp}/api/v1/ws") as ws:
                await ws.send(json.dumps({"type": "auth", "token": api.token}))
                assert json.loads(await ws.recv())["type"] == "ready"
                await ws.send(json.dumps({"type": "subscribe", "id": 1, "channels": ["equipment:ahu-2"]}))
                rows = []
                for _ in range(10):
                    m = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if m["type"] == "readings":
                        rows += m["data"]
                        break
                return rows
        rows = asyncio.run(snapshot())
        assert rows and all(r[3] & 1 for r in rows), rows[:5]
        fid = r.json()["id"]
        assert requests.delete(f"{ctl}/{fid}").status_code == 204
        # back online: fresh again (new readings or COV confirmation clear the flag)
        assert wait_for(lambda: not any(q(p) & 1 for p in ahu2), timeout=30, step=1), [q(p) for p in ahu2]
        recs = [json.loads(x) for x in labels.read_text().splitlines()]
        assert recs[-1]["id"] == fid and recs[-1]["end"] is not None

        # backfill through the running daemon (its control socket): a day of
        # history, values as the devices report them, for points accepted
        # through the API after the daemon started
        (tmp_path / "points.json").write_text(json.dumps({"points": points}))
        until_ms = int(time.time() * 1000) - 3 * 86400 * 1000
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(until_ms / 1000))
        bf = subprocess.Popen([SIM, "--config", str(cfg_path), "--backfill", "1", "--points",
                               str(tmp_path / "points.json"), "--until", until, "--step", "300"],
                              stdout=subprocess.PIPE, cwd=ROOT)
        ing = subprocess.run([BIN, "ingest", "-", "--units", "source", "--data-dir", sbems.data_dir],
                             stdin=bf.stdout, capture_output=True, text=True, timeout=300)
        bf.stdout.close()
        assert bf.wait(timeout=60) == 0 and ing.returncode == 0, ing.stdout[-500:] + ing.stderr[-500:]
        assert "through the daemon" in ing.stderr and "refused=0" in ing.stderr, ing.stderr
        for pid in (next(p["id"] for p in points if p["id"].startswith("mtr-main.") and p["kind"] == "power"),
                    "vav-1-01.space-temperature"):
            got = requests.get(base + f"/api/v1/points/{pid}/history?from={until_ms - 86400000}&to={until_ms + 1}"
                                      f"&resolution=raw&limit=1000", headers=h).json()["samples"]
            assert len(got) == 288, (pid, len(got))          # 288 five-minute rows in a day
            assert all(10 < x["value"] < 200 for x in got), got[:3]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        sim.send_signal(signal.SIGTERM)
        assert sim.wait(timeout=20) == 0, sim.stderr.read()[-2000:]
