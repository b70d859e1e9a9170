"""The BACnet driver end to end: the real daemon finds devices served by
`sbems bacnet serve` (our object server behind our stack, each device on its
own 127.0.0.x address) with directed Who-Is, reads them with
ReadPropertyMultiple, subscribes to COV, commands a setpoint at a priority
and reads back who holds it, releases it, and marks a dead device without
stalling the others.  Everything on loopback."""
import json
import signal
import subprocess
import time

import requests

from bacnet_peers import TsharkCapture, capture_unavailable
from conftest import BIN, FAST, PASSWORD, start_daemon, wait_for

OUR_PORT = 47870          # the daemon's BACnet socket: inside the captured range


def udp_port():
    import socket
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(tmp_path, name, devices):
    f = tmp_path / f"{name}.json"
    f.write_text(json.dumps({"devices": devices}))
    p = subprocess.Popen([BIN, "bacnet", "serve", str(f)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert '"ready"' in line, line + p.stderr.read()
    return p


AHU = {"instance": 1001, "name": "AHU-1", "vendor_id": 2, "vendor_name": "Trane",
       "model": "Tracer SC+", "bind": "127.0.0.61",
       "objects": [
           {"object": "analog-input:1", "name": "Discharge Air Temp", "units": "degrees-fahrenheit",
            "value": 55.0, "cov_increment": 0.1, "wave": {"amplitude": 1.5, "period_s": 20}},
           {"object": "analog-value:1", "name": "Discharge Air Temp Setpoint",
            "units": "degrees-fahrenheit", "value": 55.0, "commandable": True},
           {"object": "binary-output:1", "name": "Supply Fan Start/Stop", "value": 1},
           {"object": "multi-state-value:1", "name": "Occupancy Mode", "value": 2, "states": 4}]}
VAV = {"instance": 2001, "name": "VAV-1-01", "vendor_id": 2, "bind": "127.0.0.62",
       "objects": [{"object": "analog-input:1", "name": "Space Temperature",
                    "units": "degrees-celsius", "value": 22.5}]}


def site():
    pt = lambda pid, eq, kind, unit, dev, obj, **kw: dict(
        {"id": pid, "equipment": eq, "name": pid, "kind": kind, "unit": unit,
         "source": {"driver": "bacnet", "address": {"device": dev, "object": obj}, "poll_s": 0.5}},
        **kw)
    return {
        "format": "sbems-site", "version": 1,
        "sites": [{"id": "s", "name": "S"}],
        "buildings": [{"id": "b", "site": "s", "name": "B", "timezone": "UTC"}],
        "zones": [],
        "equipment": [{"id": "ahu-1", "building": "b", "name": "AHU 1", "type": "ahu"},
                      {"id": "vav-1", "building": "b", "name": "VAV 1", "type": "vav"}],
        "points": [
            pt("ahu-1.dat", "ahu-1", "temperature", "°F", 1001, "analog-input:1"),
            pt("ahu-1.dat-sp", "ahu-1", "setpoint", "°F", 1001, "analog-value:1",
               writable=True, min=50, max=65),
            pt("ahu-1.sf", "ahu-1", "command", "", 1001, "binary-output:1", writable=True),
            pt("ahu-1.mode", "ahu-1", "other", "", 1001, "multi-state-value:1"),
            pt("ahu-1.nope", "ahu-1", "other", "", 1001, "analog-input:99"),
            pt("vav-1.zn-t", "vav-1", "temperature", "°C", 2001, "analog-input:1"),
        ]}


def test_bacnet_poll_cov_command_offline(sbems, tmp_path):
    # tshark decodes every datagram of the test (ours and our server's);
    # where capturing is not permitted the test runs without it.
    cap = None if capture_unavailable() else TsharkCapture(ports=(47808, OUR_PORT),
                                                           path=tmp_path / "bacnet.pcapng",
                                                           hosts=("127.0.0.61", "127.0.0.62"))
    if cap:
        cap.__enter__()
    ahu = serve(tmp_path, "ahu", [AHU])
    vav = serve(tmp_path, "vav", [VAV])
    try:
        doc = tmp_path / "site.json"
        doc.write_text(json.dumps(site()))
        sbems.run("import", str(doc))
        sbems.run("user", "add", "op", "--role", "admin", "--password-stdin",
                  "--set", "auth.password_cost=min", stdin=PASSWORD + "\n")
        dj = tmp_path / "data" / "drivers.json"
        dj.write_text(json.dumps({"bacnet": {
            "bind": "127.0.0.1", "port": OUR_PORT, "apdu_timeout_ms": 300, "retries": 1,
            "cov_lifetime_s": 60, "cov_heartbeat_s": 2, "whois": ["127.0.0.61", "127.0.0.62"]}}))
        dj.chmod(0o600)
        proc, hp = start_daemon(sbems, *FAST, "--set", "drivers.breaker_failures=2",
                                "--set", "drivers.breaker_cooldown=1s", "--set", "drivers.timeout=2s",
                                "--set", "drivers.write_interval=100ms", drivers=True)
        base = f"http://127.0.0.1:{hp}"
        tok = requests.post(base + "/api/v1/auth/login",
                            json={"username": "op", "password": PASSWORD}).json()["access_token"]
        h = {"Authorization": "Bearer " + tok}
        get = lambda p: requests.get(base + p, headers=h).json()
        latest = lambda p: get(f"/api/v1/points/{p}/latest").get("value")

        # found by directed Who-Is, read by RPM, stored in canonical units
        v = wait_for(lambda: latest("ahu-1.dat"), timeout=20)
        assert v is not None and 11.0 < v < 14.5          # 55 ± 1.5 °F in °C
        assert wait_for(lambda: latest("vav-1.zn-t") == 22.5, timeout=20)
        assert wait_for(lambda: latest("ahu-1.mode") == 2, timeout=10)
        assert wait_for(lambda: latest("ahu-1.sf") == 1, timeout=10)
        devs = {d["device"]: d for d in get("/api/v1/drivers")["devices"]}
        assert devs["bacnet:1001"]["state"] == "ok" and devs["bacnet:2001"]["state"] == "ok"
        # a point of an object the device does not have: its reason is data
        assert wait_for(lambda: "unknown-object" in (get("/api/v1/drivers")["devices"][0].get("last_error") or "")
                        or any("unknown-object" in (d.get("last_error") or "")
                               for d in get("/api/v1/drivers")["devices"]), timeout=10)

        # COV: the discharge air temperature changes between polls too
        vals = set()
        end = time.monotonic() + 6
        while time.monotonic() < end:
            vals.add(latest("ahu-1.dat"))
            time.sleep(0.2)
        assert len(vals) >= 3

        # command at the operator priority, read back with the priority array
        r = requests.post(base + "/api/v1/points/ahu-1.dat-sp/write", headers=h,
                          json={"value": 58, "priority": 8})
        assert r.status_code == 200, r.text
        j = r.json()
        assert j["result"] == "ok" and abs(j["readback"] - 58) < 1e-3
        assert j["holder"] == "priority 8 (ours)"
        got = subprocess.run([BIN, "bacnet", "read", "--bind", f"127.0.0.1:{udp_port()}",
                              "--target", "127.0.0.61", "analog-value:1", "priority-array"],
                             capture_output=True, text=True, timeout=20)
        arr = json.loads(got.stdout)["value"]
        assert arr[7] == 58.0 and all(x is None for i, x in enumerate(arr) if i != 7)
        # a higher priority (a local override at 5) wins over ours
        subprocess.run([BIN, "bacnet", "write", "--bind", f"127.0.0.1:{udp_port()}",
                        "--target", "127.0.0.61", "analog-value:1", "52", "--priority", "5"],
                       check=True, capture_output=True, timeout=20)
        time.sleep(0.2)                                    # drivers.write_interval
        r = requests.post(base + "/api/v1/points/ahu-1.dat-sp/write", headers=h,
                          json={"value": 60, "priority": 8})
        assert r.status_code == 202, r.text
        assert r.json()["result"] == "not_confirmed" and r.json()["holder"] == "priority 5"
        # release ours (NULL at 8): the override at 5 still holds
        time.sleep(0.2)
        r = requests.post(base + "/api/v1/points/ahu-1.dat-sp/write", headers=h,
                          json={"value": None, "priority": 8})
        assert r.status_code == 200, r.text
        assert r.json()["holder"] == "priority 5"
        subprocess.run([BIN, "bacnet", "write", "--bind", f"127.0.0.1:{udp_port()}",
                        "--target", "127.0.0.61", "analog-value:1", "null", "--priority", "5"],
                       check=True, capture_output=True, timeout=20)
        # back to the relinquish default, 55 °F, stored in °C
        assert wait_for(lambda: abs((latest("ahu-1.dat-sp") or 0) - (55 - 32) / 1.8) < 1e-4, timeout=10)
        # a binary output is written as an enumerated 0/1
        time.sleep(0.2)
        r = requests.post(base + "/api/v1/points/ahu-1.sf/write", headers=h, json={"value": 0})
        assert r.status_code == 200 and r.json()["readback"] == 0, r.text

        # an override with an end: recorded with who and why, shown beside the
        # device's own slots, released by sbems when it ends
        time.sleep(0.2)
        r = requests.post(base + "/api/v1/points/ahu-1.dat-sp/write", headers=h,
                          json={"value": 57, "priority": 8, "duration_s": 10,
                                "reason": "tenant after-hours"})
        assert r.status_code == 200 and r.json()["priority"] == 8 and r.json()["expires"], r.text
        pr = lambda: get("/api/v1/points/ahu-1.dat-sp/priority")
        s8 = wait_for(lambda: [s for s in pr()["slots"] if s["priority"] == 8 and s["ours"]], timeout=5)
        assert s8 and s8[0]["by"] == "op" and s8[0]["reason"] == "tenant after-hours"
        assert abs(s8[0]["value"] - 57) < 1e-3 and s8[0]["expires"] and "mismatch" not in s8[0]
        subprocess.run([BIN, "bacnet", "write", "--bind", f"127.0.0.1:{udp_port()}",
                        "--target", "127.0.0.61", "analog-value:1", "53", "--priority", "5"],
                       check=True, capture_output=True, timeout=20)
        v = pr()
        assert v["in_control"] == 5 and abs(v["present_value"] - 53) < 1e-3
        assert [(s["priority"], s["ours"]) for s in v["slots"]] == [(5, False), (8, True)]
        subprocess.run([BIN, "bacnet", "write", "--bind", f"127.0.0.1:{udp_port()}",
                        "--target", "127.0.0.61", "analog-value:1", "null", "--priority", "5"],
                       check=True, capture_output=True, timeout=20)
        assert wait_for(lambda: pr()["in_control"] is None, timeout=30)   # expired, released
        assert pr()["slots"] == [] and pr()["relinquish_default"] == 55.0
        rel = get("/api/v1/audit?action=point.release")["items"]
        assert rel and rel[0]["actor"] == "sbems" and "expired" in rel[0]["detail"]
        # inputs have no priority array
        j = get("/api/v1/points/ahu-1.dat/priority")
        assert j["commandable"] is False and j["slots"] == []

        # the VAV dies: marked, backed off; the AHU keeps being read
        vav.send_signal(signal.SIGTERM)
        vav.wait(timeout=10)
        st = wait_for(lambda: (lambda d: d if d["state"] in ("open", "error") else None)(
            {d["device"]: d for d in get("/api/v1/drivers")["devices"]}["bacnet:2001"]), timeout=20)
        assert "no answer" in st["last_error"]
        t0 = get("/api/v1/points/ahu-1.dat/latest")["t"]
        assert wait_for(lambda: get("/api/v1/points/ahu-1.dat/latest")["t"] != t0, timeout=10)

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        for p in (ahu, vav):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=10)
        if cap:
            cap.__exit__(None, None, None)
    if cap:
        cap.assert_clean(min_bacnet=50)


def test_bacnet_discovery_api(sbems, tmp_path):
    """Discovery through the API: proposals first, nothing in the model
    until an admin accepts points; then they are read like any other."""
    ahu = serve(tmp_path, "ahu", [AHU])
    try:
        doc = tmp_path / "site.json"
        doc.write_text(json.dumps({"format": "sbems-site", "version": 1,
                                   "sites": [{"id": "s", "name": "S"}],
                                   "buildings": [{"id": "b", "site": "s", "name": "B",
                                                  "timezone": "UTC"}],
                                   "zones": [], "equipment": [], "points": []}))
        sbems.run("import", str(doc))
        for name, role in (("op", "admin"), ("opal", "operator")):
            sbems.run("user", "add", name, "--role", role, "--password-stdin",
                      "--set", "auth.password_cost=min", stdin=PASSWORD + "\n")
        dj = tmp_path / "data" / "drivers.json"
        dj.write_text(json.dumps({"bacnet": {"bind": "127.0.0.1", "port": OUR_PORT + 1,
                                             "apdu_timeout_ms": 500}}))
        dj.chmod(0o600)
        proc, hp = start_daemon(sbems, *FAST, drivers=True)
        base = f"http://127.0.0.1:{hp}"
        hdr = lambda u: {"Authorization": "Bearer " + requests.post(
            base + "/api/v1/auth/login", json={"username": u, "password": PASSWORD}).json()["access_token"]}
        h, ho = hdr("op"), hdr("opal")
        url = base + "/api/v1/bacnet/discover"

        assert requests.get(url, headers=h).status_code == 404
        assert requests.post(url, headers=ho, json={"targets": ["127.0.0.61"]}).status_code == 403
        assert requests.post(url, headers=h, json={"targets": ["127.0.0.61"], "bogus": 1}).status_code == 400
        r = requests.post(url, headers=h, json={"targets": ["127.0.0.61"], "wait_ms": 500})
        assert r.status_code == 202 and r.json()["status"] == "running", r.text
        assert requests.post(url, headers=h, json={"targets": ["127.0.0.61"]}).status_code == 409
        done = wait_for(lambda: (lambda j: j if j["status"] != "running" else None)(
            requests.get(url, headers=h).json()), timeout=30)
        assert done["status"] == "done", done
        dev = done["result"]["devices"][0]
        assert dev["device"] == 1001 and dev["vendor_id"] == 2 and dev["cov"] is True
        props = {p["source"]["address"]["object"]: p for p in dev["points"]}
        assert props["analog-input:1"]["unit"] == "°F" and props["analog-input:1"]["brick"]
        assert props["analog-value:1"]["writable"] is True
        # nothing is in the model yet
        assert requests.get(base + "/api/v1/points", headers=h).json()["items"] == []

        acc = base + "/api/v1/bacnet/discover/accept"
        r = requests.post(acc, headers=h, json={"building": "b", "points": [
            {"device": 1001, "object": "analog-input:42"}]})
        assert r.status_code == 400 and "analog-input:42" in r.text
        sel = {"building": "b",
               "equipment": [{"device": 1001, "id": "ahu-1", "name": "AHU 1", "type": "ahu"}],
               "points": [{"device": 1001, "object": "analog-input:1", "id": "ahu-1.dat", "poll_s": 1},
                          {"device": 1001, "object": "analog-value:1", "id": "ahu-1.dat-sp",
                           "min": 50, "max": 65}]}
        r = requests.post(acc, headers=h, json=sel)
        assert r.status_code == 201, r.text
        assert [p["id"] for p in r.json()["points"]] == ["ahu-1.dat", "ahu-1.dat-sp"]
        assert requests.post(acc, headers=h, json=sel).status_code == 409
        ids = sorted(p["id"] for p in requests.get(base + "/api/v1/points", headers=h).json()["items"])
        assert ids == ["ahu-1.dat", "ahu-1.dat-sp"]
        eq = requests.get(base + "/api/v1/equipment/ahu-1", headers=h).json()
        assert eq["type"] == "ahu" and eq["building"] == "b"
        # accepted points are read like any other (the device was found by I-Am)
        assert wait_for(lambda: requests.get(base + "/api/v1/points/ahu-1.dat/latest",
                                             headers=h).json().get("value") is not None, timeout=20)
        audit = requests.get(base + "/api/v1/audit?action=bacnet.accept", headers=h).json()["items"]
        assert audit and audit[0]["actor"] == "op"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if ahu.poll() is None:
            ahu.send_signal(signal.SIGTERM)
            ahu.wait(timeout=10)
