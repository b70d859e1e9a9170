"""`sbems boptest` against a plant behind BOPTEST's REST API.

The plant is peers/boptest_peer.py (BOPTEST's own Docker images cannot be
fetched here; see that file).  What is checked: the protocol as BOPTEST
defines it (select, step, scenario, forecast every step, advance with
<signal>_u + <signal>_activate, kpi, stop - the stop even after a failure),
the zones found from the signal names in a one-zone and a two-zone test
case, the KPIs printed being the service's own, and sbems's control against
the test case's embedded controller on the same scenario: comfort kept
(its optimal start recovers before occupancy) for a bounded energy cost.
"""
import json
import os
import subprocess
import sys
import urllib.request

import pytest

from conftest import BIN

PEER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "boptest_peer.py")
ENV = {**os.environ, "ASAN_OPTIONS": "detect_leaks=0"}


@pytest.fixture
def plant():
    p = subprocess.Popen([sys.executable, PEER, "0"], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("ready "), line
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        p.kill()
        p.wait(timeout=30)


def boptest(url, *args, check=True):
    cmd = [BIN, "boptest", "--url", url, *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=ENV)
    if check:
        assert p.returncode == 0, f"{cmd}: {p.returncode}\n{p.stderr[-3000:]}"
    return p


def calls(url):
    with urllib.request.urlopen(url + "/calls", timeout=30) as r:
        return json.load(r)


def test_one_zone_protocol_and_kpis(plant, tmp_path):
    out = tmp_path / "kpi.json"
    p = boptest(plant, "--testcase", "bestest_air", "--scenario", "typical_heat_day", "--days", "2",
                "--price", "dynamic", "--out", str(out))
    kpi = json.loads(p.stdout)
    assert kpi == json.loads(out.read_text())
    assert kpi["steps"] == 2 * 96 and kpi["zones"] == 1 and kpi["controller"] == "sbems"
    assert "zone zon: temperature zon_reaTRooAir_y, heating con_oveTSetHea_u, cooling con_oveTSetCoo_u" in p.stderr
    seen = calls(plant)
    verbs = [(m, w) for m, w, _ in seen]
    # select, the signal lists, the step, the scenario; then forecast + advance each step; kpi; stop
    assert verbs[:6] == [("POST", "testcases"), ("GET", "inputs"), ("GET", "measurements"),
                         ("GET", "forecast_points"), ("PUT", "step"), ("PUT", "scenario")]
    assert seen[4][2] == {"step": 900.0}
    assert seen[5][2] == {"time_period": "typical_heat_day", "electricity_price": "dynamic"}
    assert verbs[-2:] == [("GET", "kpi"), ("PUT", "stop")]
    adv = [b for m, w, b in seen if w == "advance"]
    fc = [b for m, w, b in seen if w == "forecast"]
    assert len(adv) == 192 and len(fc) == 192
    assert set(fc[0]["point_names"]) == {"LowerSetp[zon]", "UpperSetp[zon]", "PriceElectricPowerHighlyDynamic"}
    assert fc[0]["interval"] == 900 and fc[0]["horizon"] == 95 * 900
    for b in adv:
        assert b["con_oveTSetHea_activate"] == 1 and b["con_oveTSetCoo_activate"] == 1
        assert 278.15 <= b["con_oveTSetHea_u"] <= 308.15
        assert b["con_oveTSetCoo_u"] - b["con_oveTSetHea_u"] >= 1.0 - 1e-9
    # ramped, never stepped, when a setpoint moves away from comfort: the
    # evening release of the heating setpoint falls at most 4 K/h = 1 K per step
    heat = [b["con_oveTSetHea_u"] for b in adv]
    assert min(b - a for a, b in zip(heat, heat[1:])) >= -1.0 - 1e-9
    assert max(heat) - min(heat) > 5.0            # it does set back at night


def test_against_the_embedded_controller(plant):
    args = ["--testcase", "bestest_air", "--scenario", "typical_heat_day", "--days", "3"]
    ours = json.loads(boptest(plant, *args).stdout)
    base = json.loads(boptest(plant, *args, "--baseline").stdout)
    assert base["controller"] == "baseline"
    # the baseline only begins to heat at occupancy: every morning is cold
    assert base["tdis_tot"] > 2.0
    # optimal start reaches the bound in time
    assert ours["tdis_tot"] < 0.25 * base["tdis_tot"]
    # ... for a bounded price: starting earlier and 0.3 K inside the bounds
    assert ours["ener_tot"] < 1.25 * base["ener_tot"]
    assert ours["ener_tot"] > 0.9 * base["ener_tot"]


def test_two_zones_found_by_their_names(plant):
    p = boptest(plant, "--testcase", "multizone_simple", "--scenario", "peak_heat_day", "--days", "1")
    kpi = json.loads(p.stdout)
    assert kpi["zones"] == 2 and kpi["steps"] == 96
    adv = [b for m, w, b in calls(plant) if w == "advance"]
    keys = set(adv[-1])
    for z in ("Cor", "Nor"):
        assert f"hvac_oveZonSup{z}_TZonHeaSet_u" in keys and f"hvac_oveZonSup{z}_TZonCooSet_u" in keys
    assert "hvac_oveAhu_TSupSet_u" not in keys       # a supply-air setpoint is not a zone's


def test_map_file_and_errors(plant, tmp_path):
    bad = tmp_path / "map.json"
    bad.write_text(json.dumps({"zones": [{"name": "zon", "temp": "zon_reaTRooAir_y", "heat": "nope_u"}]}))
    p = boptest(plant, "--testcase", "bestest_air", "--days", "0.1", "--map", str(bad), check=False)
    assert p.returncode == 1 and 'zones[0].heat: the test case has no signal "nope_u"' in p.stderr
    # the test was selected, so it is stopped even though the run failed
    assert [w for m, w, _ in calls(plant)][-1] == "stop"

    good = tmp_path / "good.json"
    good.write_text(json.dumps({"zones": [{"name": "zon", "temp": "zon_reaTRooAir_y", "heat": "con_oveTSetHea_u"}]}))
    p = boptest(plant, "--testcase", "bestest_air", "--days", "0.25", "--start", "30", "--warmup", "1",
                "--map", str(good))
    assert json.loads(p.stdout)["steps"] == 24
    seen = calls(plant)
    init = [b for m, w, b in seen if w == "initialize"][-1]
    assert init == {"start_time": 29 * 86400.0, "warmup_period": 86400.0}
    adv = [b for m, w, b in seen if w == "advance"]
    assert "con_oveTSetCoo_u" not in adv[-1] and "con_oveTSetHea_u" in adv[-1]

    p = boptest(plant, "--testcase", "no_such_case", check=False)
    assert p.returncode == 1 and "HTTP 404: Test case no_such_case not found" in p.stderr
    p = boptest(plant, "--testcase", "bestest_air", "--scenario", "lunar_day", check=False)
    assert p.returncode == 1 and "PUT /scenario/" in p.stderr and "lunar_day" in p.stderr
    p = boptest("http://127.0.0.1:9", "--testcase", "bestest_air", check=False)
    assert p.returncode == 1 and "POST /testcases/bestest_air/select" in p.stderr
    p = boptest("ftp://127.0.0.1:9", "--testcase", "x", check=False)
    assert p.returncode == 2
