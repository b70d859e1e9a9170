"""Native BACnet Schedule objects end to end: the daemon against sbems-sim's
VAV controllers over BACnet/IP on loopback.

A zone gets `native_schedule: schedule:1` and `native_calendar: calendar:1`
(its VAV box's own objects).  sbems writes the zone's weekly program into the
Schedule's Weekly_Schedule, its exception day into Exception_Schedule and its
holidays into the Calendar's Date_List (with a special event referring to
it), reads them back, and then writes no occupancy setpoints itself: the box
switches the zone from its own Schedule (the simulated controller follows
the Schedule's value).  `sbems bacnet schedule` / `calendar` read the device
independently.  Changing the zone's schedule rewrites the device; a program
written behind sbems's back is corrected within the check period; an
advisory zone's device is compared, never written; every schedule write is
audited; bad settings are refused with the field named."""
import datetime
import json
import signal
import subprocess
import time
from zoneinfo import ZoneInfo

import requests

from conftest import BIN, FAST, PASSWORD, ROOT, SIM, free_port, sim_config, sim_json, udp_port, start_daemon, wait_for

NET = "127.0.15"                     # this test's block of loopback addresses
CLI = f"{NET}.5:47808"               # where `sbems bacnet` binds
ZONE = "f1-south"                    # VAV-1-01 (device 2101)
ADVISORY = "f1-east"                 # VAV-1-02 (device 2102)
SIM_START = "2026-07-15T06:00:00Z"   # 02:00 in Boston: the building's hours say unoccupied
DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def local_day(n):
    return (datetime.datetime.now(ZoneInfo("America/New_York")).date() + datetime.timedelta(days=n)).isoformat()


def test_native_schedule_on_the_simulated_boxes(sbems, tmp_path):
    cfg_path, _ = sim_config(tmp_path, NET, free_port(), 5, speed=1)
    site = sim_json(cfg_path, "--site-json")
    devs = {d["name"]: d for d in sim_json(cfg_path, "--list") if d["protocol"] == "bacnet/ip"}
    vav, vav2 = devs["VAV-1-01"], devs["VAV-1-02"]
    assert vav["schedule"] == "schedule:1" and vav["calendar"] == "calendar:1", vav
    assert "schedule" not in devs["AHU-1"]
    site["points"] = [p for p in site["points"] if p["source"]["driver"] == "bacnet"]
    for p in site["points"]:
        p["source"]["poll_s"] = 2
    (tmp_path / "site.json").write_text(json.dumps(site))
    sbems.run("import", str(tmp_path / "site.json"))
    drv = {"bacnet": sim_json(cfg_path, "--drivers-json")["bacnet"]}
    drv["bacnet"].update(bind="127.0.0.1", port=udp_port(), apdu_timeout_ms=500, retries=1)
    dj = tmp_path / "data" / "drivers.json"
    dj.write_text(json.dumps(drv))
    dj.chmod(0o600)
    sbems.run("user", "add", "op", "--role", "admin", "--password-stdin", "--set", "auth.password_cost=min",
              stdin=PASSWORD + "\n")

    def cli(dev, *args, check=True):
        p = subprocess.run([BIN, "bacnet", *args, "--bind", CLI, "--target", f"{dev['address']}:{dev['port']}",
                            "--timeout-ms", "1000"], capture_output=True, text=True, timeout=60)
        if check:
            assert p.returncode == 0, (args, p.stdout, p.stderr)
        return json.loads(p.stdout) if p.stdout.strip() else None

    sim = subprocess.Popen([SIM, "--start", SIM_START, "--config", str(cfg_path)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    proc = None
    try:
        assert '"ready"' in sim.stdout.readline()
        # a never-programmed box keeps the building's hours: unoccupied at 02:00
        assert cli(vav, "schedule", "schedule:1")["weekly"]["monday"] == []
        proc, hp = start_daemon(sbems, *FAST, "--set", "control.tick=5s", "--set", "drivers.write_interval=1s",
                                drivers=True)
        base = f"http://127.0.0.1:{hp}"
        r = requests.post(base + "/api/v1/auth/login", json={"username": "op", "password": PASSWORD})
        h = {"Authorization": "Bearer " + r.json()["access_token"]}

        def state(zone):
            st = requests.get(base + "/api/v1/buildings/hpo/control", headers=h).json()
            return next((z for z in st["zones"] if z["zone"] == zone), None) or {}

        def native(zone):
            return state(zone).get("native_schedule") or {}

        def latest(pid):
            r = requests.get(base + f"/api/v1/points/{pid}/latest", headers=h)
            return r.json().get("value") if r.status_code == 200 else None

        def held(pid):
            pa = requests.get(base + f"/api/v1/points/{pid}/priority", headers=h).json()
            return next((s for s in pa.get("slots", []) if s.get("priority") == 12), None)

        def audit(action, **q):
            r = requests.get(base + "/api/v1/audit", headers=h, params={"action": action, "limit": 500, **q})
            assert r.status_code == 200, r.text
            return r.json()["items"]

        heat, cool = "vav-1-01.space-temperature-heating-setpoint", "vav-1-01.space-temperature-cooling-setpoint"
        occ, occ2 = "vav-1-01.occupancy-status", "vav-1-02.occupancy-status"
        assert wait_for(lambda: state(ZONE).get("controlled"), timeout=40, step=1), state(ZONE)
        assert wait_for(lambda: latest(occ) == 0.0, timeout=30, step=1), latest(occ)
        pts = state(ZONE)["points"]
        sp_targets = {f"point:{pts['heating_sp']}", f"point:{pts['cooling_sp']}"}

        # bad settings name the field
        for bad, field in (({"native_schedule": "analog-value:1"}, "native_schedule"),
                           ({"native_calendar": "calendar:1"}, "native_calendar"),
                           ({"native_schedule": "schedule:99999999"}, "native_schedule")):
            r = requests.put(base + "/api/v1/buildings/hpo/control", headers=h, json={"zones": {ZONE: bad}})
            assert r.status_code == 400 and field in r.text, r.text
        r = requests.put(base + "/api/v1/buildings/hpo/control", headers=h, json={"native_check_min": 0})
        assert r.status_code == 400 and "native_check_min" in r.text, r.text

        # the zone: occupied all day, a holiday run and an exception day ahead (never
        # today, so what the boxes' clocks say now does not depend on the date)
        hol = [local_day(2), local_day(3)]
        exc = local_day(5)
        sched = {"week": {"daily": [{"time": "00:00-24:00"}]}, "holidays": hol,
                 "exceptions": [{"date": exc, "periods": [{"time": "07:00-12:00"}]}]}
        zones = {z["id"]: {"mode": "off"} for z in site["zones"]}
        zones[ZONE] = {"mode": "auto", "vacancy_delay_min": 0, "schedule": sched,
                       "native_schedule": "schedule:1", "native_calendar": "calendar:1"}
        zones[ADVISORY] = {"mode": "advisory", "schedule": sched, "native_schedule": "schedule:1"}
        settings = {"mode": "auto", "optimal_start": False, "native_check_min": 0.1, "zones": zones}
        r = requests.put(base + "/api/v1/buildings/hpo/control", headers=h, json=settings)
        assert r.status_code == 200, r.text
        assert r.json()["settings"]["zones"][ZONE]["native_schedule"] == "schedule:1"
        t_put = time.time()

        # sbems writes the program and reads it back: in sync
        assert wait_for(lambda: native(ZONE).get("state") == "in_sync", timeout=60, step=0.5), native(ZONE)
        n = native(ZONE)
        print("in sync after %.1f s: %s" % (time.time() - t_put, json.dumps(n)))
        assert n["object"] == "schedule:1" and n["calendar"] == "calendar:1" and n["runs_occupancy"], n
        assert n["exceptions"] == {"written": 2, "wanted": 2} and n["dates"] == {"written": 1, "wanted": 1}, n
        # .. which the device holds, read independently
        got = cli(vav, "schedule", "schedule:1")
        assert all(got["weekly"][d] == [{"time": "00:00", "value": 1}] for d in DAYS), got
        assert got["exceptions"] == 2 and got["present_value"] == 1 and got["default"] == 0, got
        cal = cli(vav, "calendar", "calendar:1")
        assert cal["dates"] == [{"from": hol[0], "to": hol[1]}], cal
        # the controller follows its Schedule: the zone is occupied at 02:00 (its neighbour,
        # unprogrammed, keeps the building's hours) and runs its own occupied setpoints
        assert wait_for(lambda: latest(occ) == 1.0, timeout=30, step=1), latest(occ)
        assert latest(occ2) == 0.0
        assert wait_for(lambda: latest(cool) == 24.0 and latest(heat) == 21.0, timeout=30, step=1), \
            (latest(heat), latest(cool))
        # .. and sbems commands no occupancy itself: no slot of its own on the setpoints
        assert wait_for(lambda: held(cool) is None and held(heat) is None, timeout=30, step=1), held(cool)
        st = state(ZONE)
        src = next(s for s in st["sources"] if s["source"] == "schedule")
        assert not src["active"] and "schedule:1" in src["reason"] and st["winner"] == "none", st
        # the advisory zone's box is compared, not written
        assert wait_for(lambda: native(ADVISORY).get("state") == "differs", timeout=30, step=0.5), native(ADVISORY)
        assert "advisory" in native(ADVISORY)["why"], native(ADVISORY)
        assert cli(vav2, "schedule", "schedule:1")["weekly"]["monday"] == []

        # what the device holds, through the API
        r = requests.get(base + f"/api/v1/zones/{ZONE}/control/native-schedule", headers=h)
        assert r.status_code == 200, r.text
        v = r.json()
        assert v["matches"] and v["differs"] is None and v["present_value"] == 1, v
        assert v["device"]["weekly"]["sunday"] == [{"time": "00:00", "value": 1}], v["device"]
        assert v["device"]["dates"] == [{"from": hol[0], "to": hol[1]}], v["device"]
        assert [e.get("calendar") or e.get("date") for e in v["device"]["exceptions"]] == ["calendar:1", exc]
        assert v["as_schedule"]["holidays"] == hol and v["as_schedule"]["exceptions"][0]["date"] == exc, v
        assert v["last_check"]["state"] == "in_sync"
        assert requests.get(base + f"/api/v1/zones/{ADVISORY}/control/native-schedule",
                            headers=h).json()["matches"] is False
        assert requests.get(base + "/api/v1/zones/f1-core/control/native-schedule", headers=h).status_code == 404

        # the zone's schedule changes: the device is rewritten, sbems writes no setpoint for it
        # (the audit of its last release is written behind the answer: wait until it is there)
        assert wait_for(lambda: any(a["detail"].startswith("released") for a in audit("control.write")
                                    if a["target"] == f"point:{pts['cooling_sp']}"), timeout=10, step=0.5)
        writes_before = [a for a in audit("control.write") if a["target"] in sp_targets]
        nat_before = audit("control.native_schedule", target=ZONE)
        sched["week"] = {"daily": "closed"}
        r = requests.put(base + "/api/v1/buildings/hpo/control", headers=h, json=settings)
        assert r.status_code == 200, r.text
        t_change = time.time()
        assert wait_for(lambda: cli(vav, "schedule", "schedule:1")["weekly"]["monday"] ==
                        [{"time": "00:00", "value": 0}], timeout=60, step=0.5)
        print("rewritten %.1f s after the change" % (time.time() - t_change))
        assert wait_for(lambda: latest(occ) == 0.0, timeout=30, step=1), latest(occ)
        assert wait_for(lambda: abs((latest(cool) or 0) - 26.7) < 1e-3, timeout=30, step=1), latest(cool)   # its own setup
        assert wait_for(lambda: native(ZONE).get("state") == "in_sync", timeout=30, step=0.5)
        time.sleep(6)                    # at least one more tick
        writes_after = [a for a in audit("control.write") if a["target"] in sp_targets]
        assert len(writes_after) == len(writes_before), writes_after[:len(writes_after) - len(writes_before)]
        assert held(cool) is None and held(heat) is None
        nat = audit("control.native_schedule", target=ZONE)
        assert len(nat) > len(nat_before), nat
        assert nat[0]["actor"] == "sbems-control" and nat[0]["result"] == "ok", nat[0]
        assert "weekly-schedule" in nat[0]["detail"] and "in_sync" in nat[0]["detail"], nat[0]

        # drift: someone programs the box behind sbems's back; the next check (6 s) puts it back
        other = tmp_path / "other.json"
        other.write_text(json.dumps({"monday": [{"time": "08:00", "value": True}]}))
        assert cli(vav, "schedule", "schedule:1", "--set", str(other))["result"] == "ok"
        assert cli(vav, "schedule", "schedule:1")["weekly"]["monday"] == [{"time": "08:00", "value": 1}]
        t_drift = time.time()
        assert wait_for(lambda: cli(vav, "schedule", "schedule:1")["weekly"]["monday"] ==
                        [{"time": "00:00", "value": 0}], timeout=45, step=0.5)
        took = time.time() - t_drift
        print("drift corrected after %.1f s" % took)
        assert took < 6 + 5 + 5              # the check period, a tick, the exchanges
        assert all(d == [{"time": "00:00", "value": 0}] for d in cli(vav, "schedule", "schedule:1")["weekly"].values())
        assert len(audit("control.native_schedule", target=ZONE)) > len(nat)

        # native_schedule removed: sbems runs the zone's occupancy itself again (unoccupied
        # band written at its slot), the device keeps what it holds
        del zones[ZONE]["native_schedule"], zones[ZONE]["native_calendar"]
        r = requests.put(base + "/api/v1/buildings/hpo/control", headers=h, json=settings)
        assert r.status_code == 200, r.text
        assert wait_for(lambda: (held(cool) or {}).get("by") == "sbems-control", timeout=30, step=1), held(cool)
        assert "native_schedule" not in state(ZONE)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        proc = None
    finally:
        if proc:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        sim.send_signal(signal.SIGTERM)
        assert sim.wait(timeout=20) == 0, sim.stderr.read()[-2000:]
