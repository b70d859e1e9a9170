"""sbems's BACnet stack against independent ones, under tshark.

1. The daemon's driver against the npm device (@bacnet-js/client): directed
   Who-Is, ReadPropertyMultiple, COV subscription and notifications, writes
   at a priority with read-back of who holds the point, relinquish.
2. The npm clients (@bacnet-js/client and node-bacnet) against our server
   (`sbems bacnet serve`): Who-Is, ReadProperty, RPM with ALL, WriteProperty at
   priorities and NULL, SubscribeCOV confirmed and unconfirmed.
Every datagram is decoded by tshark; any it marks malformed fails the test.
Devices are on their own 127.0.0.x addresses (a broadcast does not reach
sockets bound to loopback addresses)."""
import json
import signal
import subprocess
import time

import pytest
import requests

from bacnet_peers import Client, TsharkCapture, capture_unavailable, run_client, start_device
from conftest import BIN, FAST, PASSWORD, start_daemon, wait_for

NPM_DEV = "127.0.0.81"
OUR_DEV = "127.0.0.82"
DAEMON_PORT = 47811            # the daemon's BACnet socket
CLIENT_PORT = 47810            # the npm client's socket (not 47808: see interop doc)
PORTS = (47808, 47812)


def capture(tmp_path, hosts=(NPM_DEV, OUR_DEV)):
    if capture_unavailable():
        return None
    c = TsharkCapture(ports=PORTS, path=tmp_path / "interop.pcapng", hosts=hosts)
    c.__enter__()
    return c


def site():
    pt = lambda pid, kind, unit, obj, **kw: dict(
        {"id": pid, "equipment": "vav", "name": pid, "kind": kind, "unit": unit,
         "source": {"driver": "bacnet", "address": {"device": 3001, "object": obj},
                    "poll_s": 10}}, **kw)
    return {
        "format": "sbems-site", "version": 1,
        "sites": [{"id": "s", "name": "S"}],
        "buildings": [{"id": "b", "site": "s", "name": "B", "timezone": "UTC"}],
        "zones": [],
        "equipment": [{"id": "vav", "building": "b", "name": "VAV", "type": "vav"}],
        "points": [
            pt("vav.zn-t", "temperature", "°C", "analog-input:1"),
            pt("vav.zn-sp", "setpoint", "°C", "analog-value:1", writable=True, min=15, max=30),
            pt("vav.fan", "command", "", "binary-output:1", writable=True),
        ]} | {"points": [
            pt("vav.zn-t", "temperature", "°C", "analog-input:1"),
            pt("vav.zn-sp", "setpoint", "°C", "analog-value:1", writable=True, min=15, max=30),
            pt("vav.fan", "command", "", "binary-output:1", writable=True),
            # polled, never subscribed: reaches the device as ReadPropertyMultiple
            {"id": "vav.mode", "equipment": "vav", "name": "mode", "kind": "other", "unit": "",
             "source": {"driver": "bacnet", "poll_s": 1,
                        "address": {"device": 3001, "object": "multi-state-value:1", "cov": False}}},
        ]}


def test_our_driver_against_the_npm_device(sbems, tmp_path):
    cap = capture(tmp_path)
    dev = start_device(ip=NPM_DEV, device=3001, args=("--freeze", "--log-reads"), tmp_path=tmp_path)
    proc = None
    try:
        doc = tmp_path / "site.json"
        doc.write_text(json.dumps(site()))
        sbems.run("import", str(doc))
        sbems.run("user", "add", "op", "--role", "admin", "--password-stdin",
                  "--set", "auth.password_cost=min", stdin=PASSWORD + "\n")
        dj = tmp_path / "data" / "drivers.json"
        dj.write_text(json.dumps({"bacnet": {"bind": "127.0.0.1", "port": DAEMON_PORT,
                                             "apdu_timeout_ms": 1000, "whois": [NPM_DEV]}}))
        dj.chmod(0o600)
        proc, hp = start_daemon(sbems, *FAST, "--set", "drivers.write_interval=100ms", drivers=True)
        base = f"http://127.0.0.1:{hp}"
        tok = requests.post(base + "/api/v1/auth/login",
                            json={"username": "op", "password": PASSWORD}).json()["access_token"]
        h = {"Authorization": "Bearer " + tok}
        latest = lambda p: requests.get(f"{base}/api/v1/points/{p}/latest", headers=h).json().get("value")

        assert wait_for(lambda: latest("vav.zn-t") is not None, timeout=20)
        assert abs(latest("vav.zn-t") - 21.5) < 1e-4
        assert wait_for(lambda: latest("vav.mode") is not None, timeout=10)
        # the point without COV is polled by ReadPropertyMultiple
        rd = dev.wait_event("read", service="read-property-multiple", timeout=10)
        assert rd is not None

        # COV: the device subscribed us; a physical change arrives well before
        # the next 10 s poll
        sub = dev.wait_event("subscribe", since=0, timeout=15)
        assert sub is not None and sub.get("lifetime", 1) > 0
        time.sleep(0.5)
        dev.command("set", object="analog-input:1", value=23.25)
        t0 = time.monotonic()
        assert wait_for(lambda: abs((latest("vav.zn-t") or 0) - 23.25) < 1e-4, timeout=8)
        assert time.monotonic() - t0 < 8

        # a write at priority 8: the device saw priority 8; sbems says who holds it
        m = dev.mark()
        r = requests.post(base + "/api/v1/points/vav.zn-sp/write", headers=h,
                          json={"value": 19.5, "priority": 8})
        assert r.status_code == 200, r.text
        assert r.json()["holder"] == "priority 8 (ours)" and abs(r.json()["readback"] - 19.5) < 1e-4
        w = dev.wait_event("write", since=m, timeout=5)
        assert w["priority"] == 8 and len(w["value"]) == 1, w
        v0 = w["value"][0]
        assert abs((v0["value"] if isinstance(v0, dict) else v0) - 19.5) < 1e-4, w
        time.sleep(0.2)
        m = dev.mark()
        r = requests.post(base + "/api/v1/points/vav.zn-sp/write", headers=h,
                          json={"value": None, "priority": 8})
        assert r.status_code == 200, r.text
        assert r.json()["holder"] == "relinquish default"
        w = dev.wait_event("write", since=m, timeout=5)
        assert w["priority"] == 8 and w["value"][0]["type"] == "null", w
        time.sleep(0.2)
        r = requests.post(base + "/api/v1/points/vav.fan/write", headers=h, json={"value": 1})
        assert r.status_code == 200 and r.json()["readback"] == 1, r.text

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        dev.stop()
        if cap:
            cap.__exit__(None, None, None)
    if cap:
        cap.assert_clean(min_bacnet=10)


SERVED = {"devices": [{
    "instance": 4001, "name": "CH-1", "vendor_id": 2, "vendor_name": "Trane", "model": "CVHF",
    "bind": OUR_DEV,
    "objects": [
        {"object": "analog-input:1", "name": "Chilled Water Supply Temp", "units": "degrees-celsius",
         "value": 6.7, "cov_increment": 0.01, "wave": {"amplitude": 0.5, "period_s": 10}},
        {"object": "analog-value:1", "name": "Chilled Water Setpoint", "units": "degrees-celsius",
         "value": 7.0, "commandable": True},
        {"object": "binary-value:1", "name": "Chiller Enable", "value": 1, "commandable": True},
        {"object": "multi-state-value:1", "name": "Chiller Mode", "value": 1, "states": 3}]}]}


@pytest.mark.parametrize("lib", ["bacnet-js", "node-bacnet"])
def test_npm_clients_against_our_server(tmp_path, lib):
    f = tmp_path / "dev.json"
    f.write_text(json.dumps(SERVED))
    cap = capture(tmp_path)
    srv = subprocess.Popen([BIN, "bacnet", "serve", str(f)], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        assert '"ready"' in srv.stdout.readline()
        addr = f"{OUR_DEV}:47808"
        call = lambda op, **kw: run_client(op, lib=lib, bind_port=CLIENT_PORT, **kw)
        val = lambda r: [x["value"] for x in r["values"]] if len(r["values"]) != 1 else r["values"][0]["value"]

        r = call("whois", address=OUR_DEV, low=4000, high=4100)
        assert r["ok"], r
        iam = [d for d in r["devices"] if d["device"] == 4001]
        assert iam and iam[0]["max_apdu"] == 1476 and iam[0]["vendor_id"] == 2

        r = call("read", address=addr, object="analog-input:1", property="object-name")
        assert r["ok"] and val(r) == "Chilled Water Supply Temp", r
        r = call("read", address=addr, object="device:4001", property="object-list", index=0)
        assert r["ok"] and val(r) == 5, r                         # device + 4 objects
        r = call("read", address=addr, object="analog-input:99", property="present-value")
        assert not r["ok"] and r["error"]["kind"] == "error" and r["error"]["code"] == 31, r

        r = call("rpm", address=addr, specs=[{"object": "analog-value:1", "properties": ["all"]}])
        assert r["ok"], r
        props = {p["property"] for obj in r["results"] for p in obj["properties"]}
        for need in ("present-value", "priority-array", "relinquish-default", "status-flags",
                     "units", "object-name"):
            assert need in props, (need, props)

        # priorities: 8 then 5 win in turn; NULL releases
        r = call("write", address=addr, object="analog-value:1", property="present-value",
                 value=6.5, type="real", priority=8)
        assert r["ok"], r
        r = call("write", address=addr, object="analog-value:1", property="present-value",
                 value=5.5, type="real", priority=5)
        assert r["ok"], r
        r = call("read", address=addr, object="analog-value:1", property="priority-array")
        arr = val(r)
        assert abs(arr[4] - 5.5) < 1e-4 and abs(arr[7] - 6.5) < 1e-4 and arr[0] is None, r
        r = call("write", address=addr, object="analog-value:1", property="present-value",
                 value=None, priority=5)
        assert r["ok"], r
        r = call("read", address=addr, object="analog-value:1", property="present-value")
        assert abs(val(r) - 6.5) < 1e-4, r
        r = call("write", address=addr, object="binary-value:1", property="present-value",
                 value=0, type="enumerated", priority=8)
        assert r["ok"], r

        # COV, unconfirmed and confirmed: the initial notification, then changes
        for confirmed in (False, True):
            r = call("subscribe", address=addr, object="analog-input:1", process_id=7,
                     confirmed=confirmed, lifetime=60, listen_s=3)
            assert r["ok"], r
            cov = [e for e in r.get("notifications", []) if e.get("event") == "cov"]
            assert len(cov) >= 2, r
            assert all(e["object"] == "analog-input:1" for e in cov)
    finally:
        srv.send_signal(signal.SIGTERM)
        srv.wait(timeout=10)
        if cap:
            cap.__exit__(None, None, None)
    if cap:
        cap.assert_clean(min_bacnet=10)


def test_sbems_as_a_bacnet_device(sbems, tmp_path):
    """drivers.json bacnet.expose: a BMS (here the npm client) finds sbems
    by Who-Is, reads its points as Analog Values with their units, cannot
    write them, and gets COV notifications as readings arrive."""
    cap = capture(tmp_path, hosts=("127.0.0.1",))
    port = 47812
    try:
        doc = tmp_path / "site.json"
        doc.write_text(json.dumps({
            "format": "sbems-site", "version": 1, "sites": [{"id": "s", "name": "S"}],
            "buildings": [{"id": "b", "site": "s", "name": "B", "timezone": "UTC"}], "zones": [],
            "equipment": [{"id": "meter", "building": "b", "name": "Main meter", "type": "meter"}],
            "points": [{"id": "meter.kw", "equipment": "meter", "name": "Main power",
                        "kind": "power", "unit": "kW"},
                       {"id": "meter.kwh", "equipment": "meter", "name": "Main energy",
                        "kind": "energy", "unit": "kWh"}]}))
        sbems.run("import", str(doc))
        sbems.run("user", "add", "op", "--role", "admin", "--password-stdin",
                  "--set", "auth.password_cost=min", stdin=PASSWORD + "\n")
        dj = tmp_path / "data" / "drivers.json"
        dj.write_text(json.dumps({"bacnet": {"bind": "127.0.0.1", "port": port, "expose": {
            "device": 599, "name": "sbems-test", "points": ["meter.kw"]}}}))
        dj.chmod(0o600)
        proc, hp = start_daemon(sbems, *FAST, drivers=True)
        base = f"http://127.0.0.1:{hp}"
        h = {"Authorization": "Bearer " + requests.post(
            base + "/api/v1/auth/login", json={"username": "op", "password": PASSWORD}).json()["access_token"]}
        pid = requests.get(base + "/api/v1/points/meter.kw", headers=h).json()["point_id"]
        addr = f"127.0.0.1:{port}"
        obj = f"analog-value:{pid}"
        call = lambda op, **kw: run_client(op, bind_port=CLIENT_PORT, **kw)
        val = lambda r: r["values"][0]["value"]

        r = call("whois", address=addr)
        assert r["ok"] and [d["device"] for d in r["devices"]] == [599], r
        r = call("read", address=addr, object=obj, property="object-name")
        assert val(r) == "meter.kw", r
        assert val(call("read", address=addr, object=obj, property="units")) == 48       # kilowatts
        assert val(call("read", address=addr, object=obj, property="reliability")) == 1  # no-sensor yet
        r = call("read", address=addr, object="device:599", property="object-list", index=0)
        assert val(r) == 2                                  # the device and meter.kw only
        post = lambda v: requests.post(base + "/api/v1/readings", headers=h, json={"readings": [
            {"point": "meter.kw", "t": int(time.time() * 1000), "v": v}]})
        assert post(42.5).status_code == 200
        assert wait_for(lambda: abs(val(call("read", address=addr, object=obj,
                                             property="present-value")) - 42.5) < 1e-4, timeout=10)
        assert val(call("read", address=addr, object=obj, property="reliability")) == 0
        r = call("write", address=addr, object=obj, property="present-value", value=1, type="real")
        assert not r["ok"] and r["error"].get("code_name") == "write-access-denied", r

        cl = Client("bacnet-js", "127.0.0.1", CLIENT_PORT, 3000)
        try:
            r = cl.request("subscribe", address=addr, object=obj, process_id=9, confirmed=False,
                           lifetime=60)
            assert r["ok"], r
            assert post(43.5).status_code == 200
            n = cl.wait_notification(timeout=10, object=obj)
            assert n is not None
        finally:
            cl.stop()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if cap:
            cap.__exit__(None, None, None)
    if cap:
        cap.assert_clean(min_bacnet=10)
