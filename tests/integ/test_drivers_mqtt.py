"""The MQTT driver through the daemon, with a real mosquitto broker started
by the test: JSON payloads on wildcard topics become readings; sbems
mirrors readings on its topic tree; a command on the broker writes a
Modbus setpoint (pymodbus peer) through the verified write and is answered
on the result topic; the broker restarts and the driver comes back."""
import json
import os
import signal
import subprocess
import time

import requests

from conftest import FAST, PASSWORD, ROOT, free_port, start_daemon, wait_for
from test_drivers_modbus import start_peer


def broker(tmp_path, port):
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n"
                    f"persistence true\npersistence_location {tmp_path}/\nuser root\n")
    p = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    def up():
        r = subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", "probe",
                            "-m", "1"], capture_output=True)
        return r.returncode == 0
    assert wait_for(up, timeout=10), "mosquitto did not start"
    return p


def pub(port, topic, msg, *extra):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-m", msg,
                    *extra], check=True, timeout=10)


def site(mb_port):
    return {
        "format": "sbems-site", "version": 1,
        "sites": [{"id": "hq", "name": "HQ"}],
        "buildings": [{"id": "b1", "site": "hq", "name": "B1", "timezone": "UTC"}],
        "zones": [],
        "equipment": [{"id": "iaq", "building": "b1", "name": "IAQ", "type": "sensor"},
                      {"id": "boiler", "building": "b1", "name": "Boiler", "type": "boiler"}],
        "points": [
            {"id": "iaq.co2", "equipment": "iaq", "name": "CO2", "kind": "co2", "unit": "ppm",
             "source": {"driver": "mqtt", "address": {"topic": "site/iaq/+/up", "field": "co2"}}},
            {"id": "iaq.t", "equipment": "iaq", "name": "T", "kind": "temperature", "unit": "°C",
             "source": {"driver": "mqtt", "address": {"topic": "site/iaq/+/up",
                                                      "field": "temp.value"}}},
            {"id": "boiler.sp", "equipment": "boiler", "name": "SP", "kind": "setpoint",
             "unit": "°C", "writable": True, "min": 40, "max": 80,
             "source": {"driver": "modbus", "address": {
                 "host": "127.0.0.1", "port": mb_port, "unit": 1, "register": 40011,
                 "type": "int16", "scale": 0.1}, "poll_s": 0.5}},
        ]}


def test_mqtt_ingest_mirror_commands_restart(sbems, tmp_path):
    bport, mport = free_port(), free_port()
    brk = broker(tmp_path, bport)
    peer = start_peer(tmp_path, mport, {"units": {"1": {
        "fill": [{"table": "holding", "start": 0, "count": 20}],
        "values": [{"table": "holding", "addr": 10, "type": "int16", "value": 550}]}}})
    sub = None
    try:
        doc = tmp_path / "site.json"
        doc.write_text(json.dumps(site(mport)))
        sbems.run("import", str(doc))
        sbems.run("user", "add", "op", "--role", "admin", "--password-stdin",
                  "--set", "auth.password_cost=min", stdin=PASSWORD + "\n")
        dj = tmp_path / "data" / "drivers.json"
        dj.write_text(json.dumps({"mqtt": {"host": "127.0.0.1", "port": bport,
                                           "client_id": "sbems-test", "qos": 1,
                                           "publish": {"enabled": True, "prefix": "sbems"},
                                           "commands": {"enabled": True}}}))
        dj.chmod(0o600)
        proc, hp = start_daemon(sbems, *FAST, "--set", "drivers.write_interval=100ms", drivers=True)
        api = f"http://127.0.0.1:{hp}"
        tok = requests.post(api + "/api/v1/auth/login",
                            json={"username": "op", "password": PASSWORD}).json()["access_token"]
        h = {"Authorization": "Bearer " + tok}
        get = lambda p: requests.get(api + p, headers=h).json()
        val = lambda slug: get(f"/api/v1/points/{slug}/latest").get("value")
        dev = lambda: next((d for d in get("/api/v1/drivers")["devices"]
                            if d["driver"] == "mqtt"), None)
        assert wait_for(lambda: (dev() or {}).get("state") == "ok", timeout=20)

        # the mirror: a subscriber on sbems's tree
        out = tmp_path / "mirror.txt"
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(bport), "-v",
                                "-t", "sbems/#"], stdout=open(out, "w"), stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        pub(bport, "site/iaq/f1-core/up", '{"co2": 612, "temp": {"value": 22.25}}')
        pub(bport, "site/iaq/f1-core/up", '{"co2": "not a number"')       # malformed: counted
        assert wait_for(lambda: val("iaq.co2") == 612 and val("iaq.t") == 22.25, timeout=20)
        assert wait_for(lambda: "sbems/hq/b1/iaq/iaq.co2" in out.read_text(), timeout=20)
        line = next(l for l in out.read_text().splitlines() if "iaq.co2" in l)
        assert json.loads(line.split(" ", 1)[1])["v"] == 612
        assert wait_for(lambda: dev()["bad_inputs"] >= 1)

        # a command on the broker: written to the Modbus device, read back, answered
        res = tmp_path / "result.txt"
        rs = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(bport), "-C", "1",
                               "-t", "sbems/hq/b1/cmd/boiler.sp/result"], stdout=open(res, "w"),
                              stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        pub(bport, "sbems/hq/b1/cmd/boiler.sp", '{"value": 61.5, "id": "c-1"}')
        rs.wait(timeout=20)
        reply = json.loads(res.read_text())
        assert reply["ok"] is True and reply["id"] == "c-1", reply
        assert wait_for(lambda: val("boiler.sp") == 61.5, timeout=20)
        log = (tmp_path / f"req{mport}.log").read_text()
        assert "set 6 10 1" in log or "set 16 10 1" in log
        a = get("/api/v1/audit?action=point.write")["items"][0]
        assert a["actor"] == "mqtt" and a["result"] == "ok"

        # the broker goes away and comes back: reconnect, resubscribe
        brk.send_signal(signal.SIGTERM)
        brk.wait(timeout=10)
        assert wait_for(lambda: dev()["state"] == "down", timeout=20)
        brk = broker(tmp_path, bport)
        assert wait_for(lambda: dev()["state"] == "ok", timeout=30)
        pub(bport, "site/iaq/f2-core/up", '{"co2": 700}', "-q", "1")
        assert wait_for(lambda: val("iaq.co2") == 700, timeout=20)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        for p in (sub, brk, peer):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=10)
