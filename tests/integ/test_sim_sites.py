"""sbems-sim with two buildings from one configuration: Boston ("hpo") and a
smaller Houston office ("hou", its own TMY3 weather and time zone) on this
test's own loopback blocks (127.0.11.x and 127.0.12.x).  --list gives
unique names, addresses and BACnet instances across the sites; --site-json
imports into sbems with both buildings and unique point ids; the live
simulator answers BACnet reads on both sites' AHU-1 and Houston's air is
warmer and more humid than Boston's on a July afternoon; a two-day backfill
with an OA damper stuck on HOU-AHU-1 writes labels that match the request
and history in which the damper shows in exactly the fault's rows and
nowhere else (Boston's history untouched).

SBEMS_SIM names the simulator (default: sbems-sim next to SBEMS_BIN)."""
import csv
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import BIN, ROOT, free_port, wait_for

SIM = os.environ.get("SBEMS_SIM") or os.path.join(os.path.dirname(BIN), "sbems-sim")
HOU_EPW = "sim/weather/USA_TX_Houston-Bush.Intercontinental.AP.722430_TMY3.epw"
NET = ("127.0.11", "127.0.12")          # this test's blocks of loopback addresses
HOUR_MS = 3600 * 1000


def udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_net(k):
    return {"bacnet": {"ip_base": f"{NET[k]}.20", "port": 47808},
            "modbus": {"ip_base": f"{NET[k]}.60", "port": free_port()},
            "http": {"ip": f"{NET[k]}.10", "port": free_port()}}


@pytest.fixture
def config(tmp_path):
    """Both sites; the MQTT broker is a closed port (the sensors retry)."""
    cfg = {"speed": 60, "profile_dir": os.path.join(ROOT, "profiles"),
           "mqtt": {"host": "127.0.0.1", "port": free_port()},
           "sites": [dict(building="hpo", site="harbor-point", name="Harbor Point Office", **site_net(0)),
                     dict(building="hou", site="bayou", name="Bayou Center", timezone="America/Chicago",
                          weather=HOU_EPW, plant={"floors": 2, "floor_area_m2": 3000}, **site_net(1))]}
    path = tmp_path / "sim.json"
    path.write_text(json.dumps(cfg))
    return path, cfg


def sim(cfg_path, *args, check=True):
    p = subprocess.run([SIM, "--config", str(cfg_path), *args], capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    if check:
        assert p.returncode == 0, p.stderr
    return p


def sim_json(cfg_path, *args):
    return json.loads(sim(cfg_path, *args).stdout)


def test_list_is_unique_across_sites(config):
    cfg_path, cfg = config
    devs = sim_json(cfg_path, "--list")
    by_bldg = {b: [d for d in devs if d["building"] == b] for b in ("hpo", "hou")}
    assert len(by_bldg["hpo"]) + len(by_bldg["hou"]) == len(devs)
    names = [d["name"] for d in devs]
    assert len(set(names)) == len(names)
    assert all(not d["name"].startswith("HOU-") for d in by_bldg["hpo"])
    assert all(d["name"].startswith("HOU-") for d in by_bldg["hou"])
    # every device that owns an address: on its site's block, one each
    for k, b in enumerate(("hpo", "hou")):
        own = [d for d in by_bldg[b] if d["protocol"] in ("bacnet/ip", "modbus/tcp", "rest")]
        assert own and all(d["address"].startswith(NET[k] + ".") for d in own), own[:2]
    endpoints = [(d["address"], d["port"]) for d in devs if d["protocol"] in ("bacnet/ip", "modbus/tcp")]
    assert len(set(endpoints)) == len(endpoints)
    # the REST devices of a site share its one server, the sites do not
    rest = {(d["address"], d["port"]) for d in devs if d["protocol"] == "rest"}
    assert rest == {(s["http"]["ip"], s["http"]["port"]) for s in cfg["sites"]}
    # BACnet instances unique on the internetwork: site 1 = site 0 + 10000
    bac = {d["name"]: d["device"] for d in devs if d["protocol"] == "bacnet/ip"}
    assert len(set(bac.values())) == len(bac)
    hou = {n[4:]: i for n, i in bac.items() if n.startswith("HOU-")}
    # Houston: 2 floors -> 2 AHUs and 10 VAV boxes, a chiller and a boiler
    assert sorted(hou) == sorted(["AHU-1", "AHU-2", "CH-1", "BLR-1"] +
                                 [f"VAV-{f}-{z:02d}" for f in (1, 2) for z in range(1, 6)])
    assert all(i == bac[n] + 10000 for n, i in hou.items()), hou
    assert bac["AHU-1"] == 1001 and bac["HOU-AHU-1"] == 11001 and bac["HOU-CH-1"] == 13001
    assert {d["protocol"] for d in by_bldg["hou"]} == {"bacnet/ip", "modbus/tcp", "mqtt", "rest"}


def test_site_json_imports_both_buildings(sbems, config, tmp_path):
    cfg_path, _ = config
    doc = sim_json(cfg_path, "--site-json")
    ids = [p["id"] for p in doc["points"]]
    assert len(set(ids)) == len(ids), [i for i in ids if ids.count(i) > 1][:5]
    for key in ("equipment", "zones", "buildings", "sites"):
        got = [x["id"] for x in doc[key]]
        assert len(set(got)) == len(got), key
    b = {x["id"]: x for x in doc["buildings"]}
    assert set(b) == {"hpo", "hou"} and b["hou"]["site"] == "bayou" and b["hou"]["timezone"] == "America/Chicago"
    # each building where its weather file is (TMY3 station coordinates)
    assert abs(b["hpo"]["latitude"] - 42.37) < 0.1 and abs(b["hou"]["latitude"] - 30.0) < 0.1
    assert abs(b["hou"]["longitude"] + 95.37) < 0.1
    assert b["hou"]["area_m2"] == 3000
    assert len([z for z in doc["zones"] if z["building"] == "hou"]) == 10
    assert len([z for z in doc["zones"] if z["building"] == "hpo"]) == 15
    assert any(i.startswith("hou-ahu-1.") for i in ids) and any(i.startswith("ahu-1.") for i in ids)
    # sbems's weather driver reads one location: only the first site's weather points
    wx = [p for p in doc["points"] if p["source"]["driver"] == "weather"]
    assert wx and all(p["equipment"] == "weather" for p in wx), [p["id"] for p in wx]
    path = tmp_path / "site.json"
    path.write_text(json.dumps(doc))
    out = sbems.run("import", str(path)).stdout
    assert "2 buildings" in out and f"{len(ids)} points" in out, out
    back = json.loads(sbems.run("export").stdout)
    assert sorted(x["id"] for x in back["buildings"]) == ["hou", "hpo"]
    assert sorted(p["id"] for p in back["points"]) == sorted(ids)
    eq = {e["id"]: e for e in back["equipment"]}
    assert eq["hou-ahu-1"]["building"] == "hou" and eq["ahu-1"]["building"] == "hpo"


def bac_read(port, target, obj, prop="present-value"):
    p = subprocess.run([BIN, "bacnet", "read", "--bind", f"127.0.0.1:{port}", "--timeout-ms", "1000",
                        "--target", target, obj, prop], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, (target, obj, p.stdout, p.stderr)
    return json.loads(p.stdout)["value"]


def current_weather(http):
    url = (f"http://{http['ip']}:{http['port']}/weather/v1/forecast?latitude=0&longitude=0"
           "&current=temperature_2m,dew_point_2m,relative_humidity_2m")
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())["current"]


def test_live_bacnet_on_both_sites_houston_warmer(config):
    cfg_path, cfg = config
    devs = {d["name"]: d for d in sim_json(cfg_path, "--list")}
    ours = udp_port()

    def obj(dev, point):
        return next(o["object"] for o in devs[dev]["objects"] if o["point"] == point)

    p = subprocess.Popen([SIM, "--config", str(cfg_path), "--start", "2026-07-15T18:00:00Z", "--speed", "60"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        line = p.stdout.readline()
        assert '"ready"' in line, p.stderr.read() if p.poll() is not None else line
        for dev in ("AHU-1", "HOU-AHU-1"):
            assert bac_read(ours, devs[dev]["address"], f"device:{devs[dev]['device']}", "object-name") == dev
        # 14:00 EDT in Boston, 13:00 CDT in Houston: both AHUs run from the
        # first steps on (the plants are built at rest)
        assert wait_for(lambda: all(bac_read(ours, devs[d]["address"], obj(d, "floor1.ahu.flow")) > 0
                                    for d in ("AHU-1", "HOU-AHU-1")), timeout=15, step=0.5)
        got, wx = {}, {}

        def sample(d, site):
            """The mixed air is f * OAT + (1 - f) * RAT: the outdoor air each
            controller sees is its own site's weather.  The reads are one
            process each, a minute of simulated time apart, and at a minimum
            outdoor-air fraction near 8 % an error in RAT counts twelve times:
            a sample only counts when the plant held still across it."""
            g = {k: bac_read(ours, devs[d]["address"], obj(d, f"floor1.ahu.{k}"))
                 for k in ("oa_fraction", "mat", "rat", "ra_rh")}
            again = {k: bac_read(ours, devs[d]["address"], obj(d, f"floor1.ahu.{k}"))
                     for k in ("oa_fraction", "mat", "rat")}
            f = g["oa_fraction"] / 100
            assert f > 0.05, g
            g["oat"] = (g["mat"] - (1 - f) * g["rat"]) / f
            got[d], wx[d] = g, current_weather(site["http"])
            if any(abs(again[k] - g[k]) > 0.02 for k in again):
                return False
            return abs(g["oat"] - wx[d]["temperature_2m"]) < 1

        for d, site in zip(("AHU-1", "HOU-AHU-1"), cfg["sites"]):
            assert wait_for(lambda: sample(d, site), timeout=30, step=0.2), (d, got[d], wx[d])
        bos, hou = got["AHU-1"], got["HOU-AHU-1"]
        # both buildings are held near the same setpoint, in warmer and more
        # humid outdoor air in Houston.  (Not the mixed air itself: it also
        # follows each AHU's outdoor-air fraction, a fixed minimum flow over
        # a varying total, 22 % in Houston against 39 % in Boston in one run.)
        assert abs(bos["rat"] - hou["rat"]) < 3, got
        assert hou["oat"] > bos["oat"] + 2, got
        assert hou["ra_rh"] > bos["ra_rh"] + 5, got
        assert wx["HOU-AHU-1"]["dew_point_2m"] > wx["AHU-1"]["dew_point_2m"] + 5, wx
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=20) == 0, p.stderr.read()[-2000:]


def backfill(cfg_path, points, out, *extra):
    p = sim(cfg_path, "--backfill", "2", "--points", str(points), "--until", "2026-07-17T00:00:00Z",
            "--step", "300", "--out", str(out), *extra)
    assert "576 rows" in p.stderr, p.stderr
    with open(out, newline="") as f:
        return list(csv.DictReader(f))


def ms(text):
    from datetime import datetime
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def test_backfill_with_stuck_damper_on_houston(config, tmp_path):
    """The damper stuck at 100 % for 6 h (10:00-16:00 CDT, the fan runs).
    A row is the state at the end of its 5-minute step, so the fault's rows
    are start < t <= end."""
    cfg_path, _ = config
    points = tmp_path / "site.json"
    points.write_text(sim(cfg_path, "--site-json").stdout)
    start, end = "2026-07-15T15:00:00Z", "2026-07-15T21:00:00Z"
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps([{"class": "oa_damper_stuck", "equipment": "HOU-AHU-1", "value": 100,
                                   "start": start, "duration": "6h"}]))
    labels = tmp_path / "labels.jsonl"
    rows = backfill(cfg_path, points, tmp_path / "fault.csv", "--faults", str(faults), "--labels", str(labels))
    base = backfill(cfg_path, points, tmp_path / "base.csv")

    recs = [json.loads(x) for x in labels.read_text().splitlines()]
    assert [r["event"] for r in recs] == ["start", "end"], recs
    for r in recs:
        assert (r["id"], r["class"], r["equipment"], r["site"], r["target"], r["value"]) == \
            (1, "oa_damper_stuck", "HOU-AHU-1", "hou", "floor1.ahu", 100), r
        assert ms(r["start"]) == ms(start)
    assert recs[0]["end"] is None and ms(recs[1]["end"]) == ms(end)

    s, e = ms(start), ms(end)
    assert len(rows) == len(base) == 576
    assert int(rows[0]["time"]) == ms("2026-07-15T00:05:00Z") and int(rows[-1]["time"]) == ms("2026-07-17T00:00:00Z")
    col = "hou-ahu-1.outdoor-air-fraction"
    during = [r for r in rows if s < int(r["time"]) <= e]
    outside = [r for r in rows if not s < int(r["time"]) <= e]
    assert len(during) == 72
    assert all(float(r[col]) == 100 for r in during), [r[col] for r in during if float(r[col]) != 100][:5]
    assert all(float(r[col]) < 90 for r in outside), max(float(r[col]) for r in outside)
    # 100 % outdoor air at ~33 degC: the mixed air follows the outdoor air
    mat = "hou-ahu-1.mixed-air-temp"
    by_t = {r["time"]: r for r in base}
    assert sum(float(r[mat]) - float(by_t[r["time"]][mat]) for r in during) / len(during) > 3
    # before the start nothing differs; Boston's history never does
    hpo = [c for c in rows[0] if c != "time" and not c.startswith("hou-")]
    assert len(hpo) > 300
    for r in rows:
        b = by_t[r["time"]]
        if int(r["time"]) <= s:
            assert r == b, r["time"]
        else:
            assert all(r[c] == b[c] for c in hpo), r["time"]
