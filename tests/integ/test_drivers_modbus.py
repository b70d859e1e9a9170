"""The driver framework end to end: the real daemon polls a pymodbus server
(an independent Modbus implementation) on loopback, stores what it reads in
canonical units, carries out a verified write through the API, notices the
device dying (back-off, breaker) and recovering, and says so in its health."""
import json
import os
import signal
import subprocess
import time

import requests

from conftest import FAST, PASSWORD, ROOT, free_port, start_daemon, wait_for

PEER = os.path.join(ROOT, "tests", "integ", "peers", "modbus_server.py")


def start_peer(tmp_path, port, layout):
    lay = tmp_path / f"layout{port}.json"
    lay.write_text(json.dumps(layout))
    ready = tmp_path / f"ready{port}"
    p = subprocess.Popen(["/usr/bin/python3", PEER, "--port", str(port), "--layout", str(lay),
                          "--log", str(tmp_path / f"req{port}.log"), "--ready", str(ready)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert wait_for(lambda: ready.exists(), timeout=20), "pymodbus server did not start"
    return p


def site(port):
    addr = lambda reg, typ, **kw: dict({"host": "127.0.0.1", "port": port, "unit": 1,
                                        "register": reg, "type": typ}, **kw)
    return {
        "format": "sbems-site", "version": 1,
        "sites": [{"id": "s", "name": "S"}],
        "buildings": [{"id": "b", "site": "s", "name": "B", "timezone": "UTC"}],
        "zones": [],
        "equipment": [{"id": "boiler", "building": "b", "name": "Boiler", "type": "boiler"}],
        "points": [
            {"id": "boiler.hws-t", "equipment": "boiler", "name": "HWS", "kind": "temperature",
             "unit": "°F", "source": {"driver": "modbus", "address": addr(30001, "float32"),
                                      "poll_s": 0.5}},
            {"id": "boiler.sp", "equipment": "boiler", "name": "SP", "kind": "setpoint",
             "unit": "°C", "writable": True, "min": 40, "max": 80,
             "source": {"driver": "modbus", "address": addr(40011, "int16", scale=0.1),
                        "poll_s": 0.5}},
            {"id": "boiler.bad", "equipment": "boiler", "name": "X", "kind": "other",
             "source": {"driver": "modbus", "address": {"host": "127.0.0.1", "port": port},
                        "poll_s": 1}},
        ]}


def test_poll_write_breaker(sbems, tmp_path):
    port = free_port()
    layout = {"units": {"1": {"fill": [{"table": "input", "start": 0, "count": 4},
                                        {"table": "holding", "start": 0, "count": 20}],
                              "values": [{"table": "input", "addr": 0, "type": "float32",
                                          "value": 140.0},
                                         {"table": "holding", "addr": 10, "type": "int16",
                                          "value": 550}]}}}
    peer = start_peer(tmp_path, port, layout)
    try:
        doc = tmp_path / "site.json"
        doc.write_text(json.dumps(site(port)))
        sbems.run("import", str(doc))
        sbems.run("user", "add", "op", "--role", "admin", "--password-stdin",
                  "--set", "auth.password_cost=min", stdin=PASSWORD + "\n")
        proc, hp = start_daemon(sbems, *FAST, "--set", "drivers.breaker_failures=2",
                                "--set", "drivers.breaker_cooldown=2s", "--set", "drivers.timeout=500ms",
                                "--set", "drivers.write_interval=100ms", drivers=True)
        base = f"http://127.0.0.1:{hp}"
        tok = requests.post(base + "/api/v1/auth/login",
                            json={"username": "op", "password": PASSWORD}).json()["access_token"]
        h = {"Authorization": "Bearer " + tok}
        get = lambda p: requests.get(base + p, headers=h).json()

        # polled and stored in °C (140 °F = 60 °C); the scaled register as 55.0
        latest = wait_for(lambda: (lambda r: r if r.get("value") is not None else None)(
            get("/api/v1/points/boiler.hws-t/latest")), timeout=20)
        assert abs(latest["value"] - 60.0) < 1e-9
        assert wait_for(lambda: get("/api/v1/points/boiler.sp/latest").get("value") == 55.0)
        health = get("/api/v1/drivers")
        dev = health["devices"][0]
        assert dev["device"] == f"tcp:127.0.0.1:{port}/1" and dev["state"] == "ok"
        assert dev["points"] == 2
        assert [m["point"] for m in health["misconfigured"]] == ["boiler.bad"]

        # a verified write: range-checked, written, read back, audited
        r = requests.post(base + "/api/v1/points/boiler.sp/write", headers=h, json={"value": 99})
        assert r.status_code == 400
        r = requests.post(base + "/api/v1/points/boiler.sp/write", headers=h, json={"value": 62.5})
        assert r.status_code == 200, r.text
        assert r.json()["result"] == "ok" and r.json()["readback"] == 62.5
        log = (tmp_path / f"req{port}.log").read_text()
        assert "set 6 10 1" in log or "set 16 10 1" in log          # the peer saw the write
        assert wait_for(lambda: get("/api/v1/points/boiler.sp/latest").get("value") == 62.5)
        a = get("/api/v1/audit?action=point.write")["items"][0]
        assert a["result"] == "ok" and a["after"]["readback"] == 62.5

        # the device dies: failures, then the breaker opens; it comes back: closed
        peer.send_signal(signal.SIGTERM)
        peer.wait(timeout=10)
        st = wait_for(lambda: (lambda d: d if d["state"] == "open" else None)(
            get("/api/v1/drivers")["devices"][0]), timeout=20)
        assert st["consecutive_failures"] >= 2 and st["last_error"]
        r = requests.post(base + "/api/v1/points/boiler.sp/write", headers=h, json={"value": 60})
        assert r.status_code in (504, 409), r.text
        metrics = requests.get(base + "/metrics").text
        assert "sbems_driver_devices_open 1" in metrics
        peer = start_peer(tmp_path, port, layout)
        assert wait_for(lambda: get("/api/v1/drivers")["devices"][0]["state"] == "ok", timeout=20)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        peer.send_signal(signal.SIGTERM)
        peer.wait(timeout=10)
