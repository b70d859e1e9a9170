"""Control sources the daemon computes from readings alone (no simulator:
drivers are off, every zone is advisory and nothing is written).

Optimal start learnt from a zone's own history.  Three weeks of one-minute
history go into the store through `sbems ingest`: the zone temperature, the
outdoor temperature and the two setpoints a controller wrote (15/30 degC at
night, 21/24 degC from 05:00 to 18:00) for a first-order zone (tau = RC =
10 h, 5 K/h of heating power; the model of tests/unit/test_ostart.c), so
its warm-up from 15 to 21 degC runs at a + b T_out with a = 3.2 K/h and
b = 0.1 K/h per K.  The daemon's control service learns that from the store
(mode read from the setpoints, no schedule history needed), shows it in the
zone's state, and uses it: on a 0 degC morning with the zone at 15 degC,
occupancy an hour away, the lead is 6 K / 3.2 K/h with the margins (10 % +
10 min), about 2.2 h - so the zone is already recovering, the schedule
source says "optimal start" and the lead comes from the learnt rate.

The demand limiter: the main meter reads 150 kW against a 100 kW limit, so
the projected 15-minute demand is over it; the limiter raises its level and
its source (priority 9) widens the occupied zone's band by Guideline 36's
1 degF, which wins the zone's arbitration."""
import datetime
import json
import math
import time
from zoneinfo import ZoneInfo

import requests

from conftest import FAST, PASSWORD, free_port, sim_config, sim_json, start_daemon, wait_for

ZONE = "f1-south"
TZ, OAT = "vav-1-01.space-temperature", "weather.oat"
HSP, CSP = "vav-1-01.space-temperature-heating-setpoint", "vav-1-01.space-temperature-cooling-setpoint"
DAYS, TAU, Q = 21, 10.0, 5.0


def history(end_ms):
    """CSV rows of the simulated zone, one a minute for DAYS days to end_ms."""
    start = end_ms - end_ms % 60000 - DAYS * 86400000
    t, rows = 15.0, ["point,time,value"]
    e = math.exp(-1.0 / 60.0 / TAU)
    for i in range(DAYS * 1440):
        day, minute = divmod(i, 1440)
        to = -5.0 + (day * 7) % 16                      # each day its own outdoor temperature
        occ = 5 * 60 <= minute < 18 * 60
        sp = 21.0 if occ else 15.0
        q = Q if t < sp + 0.5 and not (not occ and t > 15.0) else 0.0
        tinf = to + q * TAU
        t = tinf + (t - tinf) * e
        if q > 0 and t > sp + 0.5:
            t = sp + 0.5
        ts = start + i * 60000
        rows.append(f"{TZ},{ts},{t:.4f}")
        rows.append(f"{OAT},{ts},{to:.2f}")
        if minute % 5 == 0:                             # setpoints polled every 5 minutes
            rows.append(f"{HSP},{ts},{sp}")
            rows.append(f"{CSP},{ts},{24.0 if occ else 30.0}")
    return "\n".join(rows) + "\n"


def daemon(sbems, tmp_path, history_csv=None):
    """The simulator's site in the store (its devices never polled), with
    history_csv ingested; the daemon; (site, process, API base, headers)."""
    cfg, _ = sim_config(tmp_path, "127.0.12", free_port(), 5, speed=1)
    site = sim_json(cfg, "--site-json")
    (tmp_path / "site.json").write_text(json.dumps(site))
    sbems.run("import", str(tmp_path / "site.json"))
    if history_csv:
        (tmp_path / "h.csv").write_text(history_csv)
        assert "ack readings=" in sbems.run("ingest", str(tmp_path / "h.csv")).stdout
    sbems.run("user", "add", "op", "--role", "admin", "--password-stdin", "--set",
              "auth.password_cost=min", stdin=PASSWORD + "\n")
    proc, port = start_daemon(sbems, *FAST, "--set", "control.tick=5s")
    base = f"http://127.0.0.1:{port}/api/v1"
    h = {"Authorization": "Bearer " + requests.post(base + "/auth/login", json={
        "username": "op", "password": PASSWORD}).json()["access_token"]}
    return site, proc, base, h


def test_optimal_start_learns_the_zone_from_its_history(sbems, tmp_path):
    site, proc, base, h = daemon(sbems, tmp_path, history(int(time.time() * 1000) - 120000))
    try:
        # occupancy begins an hour from now (local time), today only
        local = datetime.datetime.now(ZoneInfo("America/New_York"))
        start = local + datetime.timedelta(hours=1)
        if start.date() != local.date() or start.hour >= 23:
            start = local.replace(hour=23, minute=0)    # late evening: an hour or less away
        period = f"{start:%H}:{start.minute // 15 * 15:02d}-24:00"
        sched = {"setpoints": {"occupied": {"heating": 21, "cooling": 24},
                               "unoccupied": {"heating": 15, "cooling": 30}},
                 "week": {d: "closed" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
                 "exceptions": [{"date": local.date().isoformat(),
                                 "periods": [{"time": period, "mode": "occupied"}]}]}
        zones = {z["id"]: {"mode": "off"} for z in site["zones"]}
        zones[ZONE] = {"mode": "advisory", "schedule": sched}
        r = requests.put(base + "/buildings/hpo/control", headers=h, json={
            "mode": "advisory", "optimal_start": True, "max_lead_h": 4, "zones": zones})
        assert r.status_code == 200, r.text

        def state():
            # the zone now: 15 degC on a 0 degC morning (readings the tick may use)
            t = int(time.time() * 1000)
            requests.post(base + "/readings", headers=h, json={"readings": [
                {"point": TZ, "t": t, "v": 15.0}, {"point": OAT, "t": t, "v": 0.0}]})
            st = requests.get(base + "/buildings/hpo/control", headers=h).json()
            return next((z for z in st.get("zones", []) if z["zone"] == ZONE), {})

        assert wait_for(lambda: ((state().get("optimal_start") or {}).get("warm_up") or {})
                        .get("learnt"), timeout=60, step=1), json.dumps(state(), indent=1)
        z = state()
        os = z["optimal_start"]
        warm = os["warm_up"]
        print(f"# learnt warm-up {warm['a_k_per_h']:.3f} + {warm['b_per_h']:.4f} T_out K/h from "
              f"{warm['used']} of {warm['episodes']} recoveries; drift b {os['drift'].get('b_per_h')}")
        assert abs(warm["a_k_per_h"] - 3.2) < 0.2 and abs(warm["b_per_h"] - 0.1) < 0.015, os
        assert warm["used"] >= DAYS - 3 and not os["cool_down"]["learnt"], os
        assert os["drift"]["learnt"] and abs(os["drift"]["b_per_h"] - 0.0952) < 0.015, os
        assert os["why_not"] is None, os
        # used: the zone is in its learnt lead, so the schedule asks for the occupied band now
        assert wait_for(lambda: (state().get("optimal_start") or {}).get("lead_from_learnt"),
                        timeout=20, step=1), state()
        z = state()
        src = next(s for s in z["sources"] if s["source"] == "schedule")
        assert "optimal start" in src["reason"], z
        lead = float(src["reason"].split(":")[1].split("h")[0])
        assert abs(lead - (6.0 / 3.2 * 1.1 + 600 / 3600)) < 0.15, src
        assert z["target"]["heating"] == 21 and z["mode"] == "advisory", z
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_demand_limiter_widens_the_occupied_band(sbems, tmp_path):
    site, proc, base, h = daemon(sbems, tmp_path)
    try:
        local = datetime.datetime.now(ZoneInfo("America/New_York"))
        sched = {"setpoints": {"occupied": {"heating": 21, "cooling": 24}},
                 "exceptions": [{"date": (local.date() + datetime.timedelta(days=d)).isoformat(),
                                 "periods": [{"time": "00:00-24:00", "mode": "occupied"}]}
                                for d in (-1, 0, 1)]}
        zones = {z["id"]: {"mode": "off"} for z in site["zones"]}
        zones[ZONE] = {"mode": "advisory", "schedule": sched}
        r = requests.put(base + "/buildings/hpo/control", headers=h, json={
            "mode": "advisory", "demand_limit_kw": 100, "zones": zones})
        assert r.status_code == 200, r.text
        assert r.json()["settings"]["demand_limit_kw"] == 100, r.text
        r = requests.put(base + "/buildings/hpo/control", headers=h, json={"demand_limit_kw": -1})
        assert r.status_code == 400 and "demand_limit_kw" in r.text, r.text

        def state():
            t = int(time.time() * 1000)
            requests.post(base + "/readings", headers=h, json={"readings": [
                {"point": "mtr-main.power", "t": t, "v": 150.0}, {"point": TZ, "t": t, "v": 23.0}]})
            return requests.get(base + "/buildings/hpo/control", headers=h).json()

        def level():
            return (state().get("demand") or {}).get("level", 0)
        assert wait_for(lambda: level() >= 1, timeout=30, step=1), json.dumps(state(), indent=1)
        st = state()
        d = st["demand"]
        assert d["limit_kw"] == 100 and d["meters"] == 1 and d["power_kw"] == 150, d
        # one level at a time, five minutes apart: level 1, 1 degF
        assert d["level"] == 1 and d["projected_kw"] > 100 and abs(d["offset_k"] - 5 / 9) < 1e-9, d
        z = next(z for z in st["zones"] if z["zone"] == ZONE)
        src = next(s for s in z["sources"] if s["source"] == "demand")
        assert src["active"] and src["priority"] == 9 and "demand limit level" in src["reason"], z
        assert z["winner"] == "demand", z
        assert abs(src["cooling"] - (24 + 5 / 9)) < 0.01 and abs(src["heating"] - (21 - 5 / 9)) < 0.01, src
    finally:
        proc.terminate()
        proc.wait(timeout=60)
