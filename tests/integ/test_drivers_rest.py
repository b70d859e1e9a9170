"""REST thermostat and weather drivers end to end: the real daemon, with its
drivers.json, polls a local HTTP server (the simulated thermostat cloud API
of docs/internals/rest.md with OAuth2, and a recorded Open-Meteo forecast),
stores the readings, and writes a thermostat setpoint through the API."""
import json
import os
import signal
import subprocess

import requests

from conftest import FAST, PASSWORD, ROOT, start_daemon, wait_for

PEER = os.path.join(ROOT, "tests", "integ", "peers", "rest_server.py")
DATA = os.path.join(ROOT, "tests", "integ", "peers", "rest_data")


def site():
    tst = lambda name: {"driver": "rest", "address": {"api": "hvac", "device": "rt-101",
                                                      "name": name}, "poll_s": 0.5}
    return {
        "format": "sbems-site", "version": 1,
        "sites": [{"id": "s", "name": "S"}],
        "buildings": [{"id": "b", "site": "s", "name": "B", "timezone": "UTC"}],
        "zones": [{"id": "z", "building": "b", "name": "Z"}],
        "equipment": [{"id": "rt-101", "building": "b", "name": "Room 101", "type": "thermostat",
                       "zone": "z"},
                      {"id": "wx", "building": "b", "name": "Weather", "type": "sensor"}],
        "points": [
            {"id": "rt-101.t", "equipment": "rt-101", "name": "T", "kind": "temperature",
             "unit": "°C", "source": tst("temperature")},
            {"id": "rt-101.htg-sp", "equipment": "rt-101", "name": "Heating SP",
             "kind": "setpoint", "unit": "°C", "writable": True, "min": 15, "max": 26,
             "source": tst("heating_setpoint")},
            {"id": "wx.oat", "equipment": "wx", "name": "Outdoor air", "kind": "temperature",
             "unit": "°C", "source": {"driver": "weather", "address": {
                 "variable": "temperature_2m", "what": "current"}, "poll_s": 1}},
        ]}


def test_rest_and_weather_through_the_daemon(sbems, tmp_path):
    peer = subprocess.Popen(["/usr/bin/python3", PEER, "--data", DATA], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(peer.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        doc = tmp_path / "site.json"
        doc.write_text(json.dumps(site()))
        sbems.run("import", str(doc))
        sbems.run("user", "add", "op", "--role", "admin", "--password-stdin",
                  "--set", "auth.password_cost=min", stdin=PASSWORD + "\n")
        conf = {
            "rest": {"profile_dir": os.path.join(ROOT, "profiles"),
                     "apis": {"hvac": {"base_url": base + "/tapi/v1",
                                       "auth": {"type": "oauth2_client_credentials",
                                                "token_url": base + "/tapi/v1/oauth2/token",
                                                "client_id": "sbems-test",
                                                "client_secret": "s3cr3t-Xy+/=z"},
                                       "profile": "rest-siemens-thermostat"}}},
            "weather": {"url": base + "/open/v1/forecast", "latitude": 42.36,
                        "longitude": -71.06},
        }
        dj = tmp_path / "data" / "drivers.json"
        dj.write_text(json.dumps(conf))
        dj.chmod(0o644)
        r = sbems.run("serve", "--listen", "127.0.0.1:1", check=False, timeout=30)
        assert r.returncode != 0 and "chmod 600" in r.stderr          # secrets file guarded
        dj.chmod(0o600)
        # the recorded forecast's "current" is from January: keep old readings
        proc, hp = start_daemon(sbems, *FAST, "--set", "drivers.write_interval=100ms",
                                "--set", "retention.raw=0", drivers=True)
        api = f"http://127.0.0.1:{hp}"
        tok = requests.post(api + "/api/v1/auth/login",
                            json={"username": "op", "password": PASSWORD}).json()["access_token"]
        h = {"Authorization": "Bearer " + tok}
        get = lambda p: requests.get(api + p, headers=h).json()
        val = lambda slug: get(f"/api/v1/points/{slug}/latest").get("value")

        assert wait_for(lambda: val("rt-101.t") == 21.4, timeout=20)
        assert wait_for(lambda: val("rt-101.htg-sp") == 21.0, timeout=20)
        assert wait_for(lambda: val("wx.oat") is not None, timeout=20)
        devs = {d["device"]: d for d in get("/api/v1/drivers")["devices"]}
        assert devs["rest:hvac/rt-101"]["state"] == "ok", devs
        assert not get("/api/v1/drivers")["misconfigured"]

        r = requests.post(api + "/api/v1/thermostats/rt-101/control", headers=h,
                          json={"point": "rt-101.htg-sp", "value": 22.5})
        assert r.status_code == 200, r.text
        assert r.json()["result"] == "ok" and r.json()["readback"] == 22.5
        log = requests.get(base + "/_ctl/log").json()
        writes = [e for e in log if e["method"] in ("PUT", "POST", "PATCH")
                  and "rt-101" in e["path"]]
        assert writes and "22.5" in json.dumps(writes[-1]["body"])
        # one token served every request (no token per poll)
        assert len({e["token"] for e in log if e.get("token")}) == 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        # the client secret never reached the log
        assert "s3cr3t" not in proc.stderr.read()
    finally:
        peer.send_signal(signal.SIGTERM)
        peer.wait(timeout=10)
