"""Supervisory control end to end: the daemon drives sbems-sim's VAV
controllers over BACnet/IP.

A control schedule (an exception day: occupied all day at 22/25 degC) is
given to one zone through the API; the simulated building is at night, so
its occupancy sensor reads vacant and the zone goes to standby (setback,
21/26) after its vacancy delay; a tenant override brings it back to the
occupied band at once; ending the override ramps the cooling setpoint back
up (never a step); a zone in advisory mode gets a plan and no write; every
write is in the simulated controller's priority array at sbems's priority
and in the audit log.  Bad settings are refused with the field named."""
import datetime
import json
import signal
import subprocess
import time
from zoneinfo import ZoneInfo

import requests

from conftest import BIN, FAST, PASSWORD, ROOT, SIM, free_port, sim_config, sim_json, udp_port, start_daemon, wait_for

NET = "127.0.11"                     # this test's block of loopback addresses
ZONE = "f1-south"                    # served by vav-1-01 (its BACnet device 2101)
ADVISORY = "f1-east"


def local_days(n):
    today = datetime.datetime.now(ZoneInfo("America/New_York")).date()
    return [(today + datetime.timedelta(days=d)).isoformat() for d in range(-1, n)]


def test_control_drives_the_simulated_boxes(sbems, tmp_path):
    cfg_path, cfg = sim_config(tmp_path, NET, free_port(), 5, speed=1)
    site = sim_json(cfg_path, "--site-json")
    # BACnet only (the other faces are not started here), polled fast
    eq = {e["id"] for e in site["equipment"]}
    site["points"] = [p for p in site["points"] if p["source"]["driver"] == "bacnet"]
    for p in site["points"]:
        p["source"]["poll_s"] = 2
    (tmp_path / "site.json").write_text(json.dumps(site))
    sbems.run("import", str(tmp_path / "site.json"))
    drv = sim_json(cfg_path, "--drivers-json")
    drv = {"bacnet": drv["bacnet"]}
    drv["bacnet"].update(bind="127.0.0.1", port=udp_port(), apdu_timeout_ms=500, retries=1)
    dj = tmp_path / "data" / "drivers.json"
    dj.write_text(json.dumps(drv))
    dj.chmod(0o600)
    sbems.run("user", "add", "op", "--role", "admin", "--password-stdin", "--set", "auth.password_cost=min",
              stdin=PASSWORD + "\n")
    sbems.run("user", "add", "vic", "--role", "viewer", "--password-stdin", "--set", "auth.password_cost=min",
              stdin=PASSWORD + "\n")
    # 02:00 in Boston: nobody in the simulated building
    sim = subprocess.Popen([SIM, "--start", "2026-07-15T06:00:00Z", "--config", str(cfg_path)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert '"ready"' in sim.stdout.readline()
        proc, hp = start_daemon(sbems, *FAST, "--set", "control.tick=5s", "--set", "drivers.write_interval=1s",
                                drivers=True)
        base = f"http://127.0.0.1:{hp}"

        def token(user):
            r = requests.post(base + "/api/v1/auth/login", json={"username": user, "password": PASSWORD})
            return {"Authorization": "Bearer " + r.json()["access_token"]}
        h, hv = token("op"), token("vic")

        def state(zone):
            st = requests.get(base + "/api/v1/buildings/hpo/control", headers=h).json()
            return next((z for z in st["zones"] if z["zone"] == zone), None)

        def held(pid):
            pa = requests.get(base + f"/api/v1/points/{pid}/priority", headers=h).json()
            slot = next((s for s in pa.get("slots", []) if s.get("priority") == 12), None)
            return pa, slot

        heat, cool = "vav-1-01.space-temperature-heating-setpoint", "vav-1-01.space-temperature-cooling-setpoint"
        # the default mode is advisory: plans, no writes
        assert wait_for(lambda: state(ZONE) is not None and state(ZONE).get("controlled"), timeout=40, step=1), \
            requests.get(base + "/api/v1/buildings/hpo/control", headers=h).text
        st = state(ZONE)
        assert st["mode"] == "advisory" and st["points"]["heating_sp"] and st["points"]["cooling_sp"], st
        assert st["points"]["occupancy"], st                 # the box's occupancy status is found

        # bad settings are refused, naming the field; a viewer may not change them
        r = requests.put(base + "/api/v1/buildings/hpo/control", headers=h, json={"mode": "turbo"})
        assert r.status_code == 400 and "mode" in r.text, r.text
        r = requests.put(base + "/api/v1/buildings/hpo/control", headers=h, json={"zones": {"nope": {}}})
        assert r.status_code == 400 and "nope" in r.text, r.text
        bad = {"zones": {ZONE: {"schedule": {"exceptions": [{"date": "2026-02-30", "periods": "closed"}]}}}}
        r = requests.put(base + "/api/v1/buildings/hpo/control", headers=h, json=bad)
        assert r.status_code == 400 and "2026-02-30" in r.text, r.text
        assert requests.put(base + "/api/v1/buildings/hpo/control", headers=hv, json={}).status_code == 403

        days = local_days(2)
        sched = {"setpoints": {"occupied": {"heating": 22, "cooling": 25},
                               "standby": {"heating": 21, "cooling": 26}},
                 "exceptions": [{"date": d, "periods": [{"time": "00:00-24:00", "mode": "occupied"}]}
                                for d in days]}
        zones = {z["id"]: {"mode": "off"} for z in site["zones"]}
        zones[ZONE] = {"mode": "auto", "vacancy_delay_min": 0.1, "schedule": sched}
        zones[ADVISORY] = {"mode": "advisory", "schedule": sched}
        r = requests.put(base + "/api/v1/buildings/hpo/control", headers=h,
                         json={"mode": "auto", "ramp_k_per_h": 60, "recover_k_per_h": 120, "zones": zones})
        assert r.status_code == 200, r.text

        # vacant at night: standby after the delay; the setpoints ramp there from what the
        # controller held (its own night setback), at most 2 K/min
        assert wait_for(lambda: (state(ZONE) or {}).get("winner") == "setback", timeout=60, step=1), state(ZONE)
        assert wait_for(lambda: (held(cool)[1] or {}).get("value") == 26.0 and
                        (held(heat)[1] or {}).get("value") == 21.0, timeout=300, step=1), json.dumps(state(ZONE))
        pa, slot = held(cool)
        assert pa["in_control"] == 12 and slot["ours"] and slot["by"] == "sbems-control", pa

        # a tenant's override: the occupied band, ramped back at 120 K/h (2 K/min)
        r = requests.post(base + f"/api/v1/zones/{ZONE}/control/override", headers=h,
                          json={"hours": 1, "reason": "late meeting"})
        assert r.status_code == 200, r.text
        assert wait_for(lambda: (held(cool)[1] or {}).get("value") == 25.0 and
                        (held(heat)[1] or {}).get("value") == 22.0, timeout=90, step=0.5), (held(cool), held(heat))
        st = state(ZONE)
        assert st["winner"] == "tenant" and "after-hours" in st["reason"], st

        # ended: back to standby, the cooling setpoint ramped (60 K/h = 1 K/min), not stepped
        assert requests.delete(base + f"/api/v1/zones/{ZONE}/control/override", headers=h).status_code == 204
        assert wait_for(lambda: state(ZONE)["winner"] == "setback", timeout=30, step=0.5)
        seen = set()
        deadline = time.time() + 90
        while time.time() < deadline:
            v = (held(cool)[1] or {}).get("value")
            if v is not None:
                seen.add(round(v, 2))
            if v == 26.0:
                break
            time.sleep(0.5)
        assert 26.0 in seen and any(25.0 < v < 26.0 for v in seen), sorted(seen)

        # advisory: a plan, nothing written
        adv = state(ADVISORY)
        assert adv["mode"] == "advisory" and adv["target"]["cooling"] is not None, adv
        vav = next(e["id"] for e in site["equipment"] if e.get("zone") == ADVISORY and e["id"].startswith("vav"))
        pa = requests.get(base + f"/api/v1/points/{vav}.space-temperature-cooling-setpoint/priority",
                          headers=h).json()
        assert not any(s.get("priority") == 12 for s in pa.get("slots", [])), pa

        # control off: sbems gives its slot back (the device falls to its own schedule)
        zones[ZONE]["mode"] = "off"
        r = requests.put(base + "/api/v1/buildings/hpo/control", headers=h,
                         json={"mode": "auto", "ramp_k_per_h": 60, "recover_k_per_h": 120, "zones": zones})
        assert r.status_code == 200, r.text
        assert wait_for(lambda: held(cool)[1] is None and held(heat)[1] is None, timeout=30, step=0.5), held(cool)
        assert state(ZONE)["mode"] == "off"

        # every write is audited as sbems-control, with its reason
        audit = requests.get(base + "/api/v1/audit?action=control.write&limit=200", headers=h).json()["items"]
        assert audit and all(a["actor"] == "sbems-control" for a in audit), audit[:3]
        assert any("after-hours" in a["detail"] for a in audit) and any("vacant" in a["detail"] for a in audit)
        assert any(a["detail"].startswith("released priority 12") for a in audit), [a["detail"] for a in audit]
        assert requests.get(base + "/api/v1/audit?action=control.override", headers=h).json()["items"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        sim.send_signal(signal.SIGTERM)
        assert sim.wait(timeout=20) == 0, sim.stderr.read()[-2000:]
