"""The permission matrix (docs/security.md), exercised on the real daemon:
every route of the OpenAPI document (itself checked against the router
table by tests/unit/test_openapi.c) x every role (and no token) x an object
in the user's granted building and one outside it, with the exact status.

Rules under test:
  - no token on a signed-in route: 401;
  - a role below the route's least role: 403 (checked before scope);
  - a path naming an object outside the user's grants: 404, the same as an
    unknown object; a body creating an object outside them: 403;
  - otherwise the route's own answer (the case below says which).
Admins hold every building.
"""
import json
import uuid

import pytest

from conftest import PASSWORD

ROLES = [None, "vic", "opal", "max", "ann"]            # anonymous .. admin
RANK = {None: 0, "vic": 2, "opal": 3, "max": 4, "ann": 5}
NEED = {"public": 0, "user": 1, "viewer": 2, "operator": 3, "manager": 4, "admin": 5}


def uid():
    return uuid.uuid4().hex[:8]


# Per route: (path in scope, path out of scope or None, body builder or None,
# status when allowed, setup).  Bodies that create take a fresh id each time.
def cases(api):
    now = 1795780000000
    C = {}

    def c(method, path, ok, inp=None, out=None, body=None, scoped_body=False, deny=(),
          out_status=None):
        C[(method, path)] = dict(ok=ok, inp=inp or path, out=out, body=body,
                                 scoped_body=scoped_body, deny=deny, out_status=out_status)

    c("GET", "/healthz", 200)
    c("GET", "/readyz", 200)
    c("GET", "/metrics", 200)
    c("GET", "/api/v1/openapi.json", 200)
    c("GET", "/api/v1/status", 200)
    c("GET", "/api/v1/config", 200)
    c("POST", "/api/v1/auth/login", 200,
      body=lambda s: {"username": "vic", "password": PASSWORD})
    c("POST", "/api/v1/auth/refresh", 200,
      body=lambda s: {"refresh_token": api.login("vic")["refresh_token"]})
    c("POST", "/api/v1/auth/logout", 204)                       # uses a fresh session
    c("GET", "/api/v1/auth/me", 200)
    c("POST", "/api/v1/auth/password", 400, body=lambda s: {"current_password": "wrong",
                                                           "new_password": "x"})
    c("POST", "/api/v1/auth/keys/rotate", 200)
    c("GET", "/api/v1/users", 200)
    c("POST", "/api/v1/users", 201, body=lambda s: {"username": "u" + uid(), "roles": ["viewer"]})
    c("GET", "/api/v1/users/{user}", 200, inp="/api/v1/users/4")
    c("PATCH", "/api/v1/users/{user}", 200, inp="/api/v1/users/4",
      body=lambda s: {"display_name": "Vic " + uid()})
    c("DELETE", "/api/v1/users/{user}", 204, inp="NEWUSER")
    c("POST", "/api/v1/users/{user}/reset-password", 200, inp="NEWUSER/reset-password")

    c("GET", "/api/v1/sites", 200)
    c("POST", "/api/v1/sites", 201, body=lambda s: {"id": "s" + uid(), "name": "S"})
    c("GET", "/api/v1/sites/{site}", 200, inp="/api/v1/sites/harbor-point")
    c("PATCH", "/api/v1/sites/{site}", 200, inp="/api/v1/sites/harbor-point",
      body=lambda s: {"description": "d " + uid()})
    c("DELETE", "/api/v1/sites/{site}", 204, inp="NEWSITE")

    c("GET", "/api/v1/buildings", 200)
    # a new building needs a site grant (max holds a building): 403 for him
    c("POST", "/api/v1/buildings", 201, scoped_body=True, deny=("max",),
      body=lambda s: {"id": "b" + uid(), "site": "harbor-point", "name": "B",
                      "timezone": "UTC"})
    c("GET", "/api/v1/buildings/{building}", 200, inp="/api/v1/buildings/hpo",
      out="/api/v1/buildings/annex")
    c("PATCH", "/api/v1/buildings/{building}", 200, inp="/api/v1/buildings/hpo",
      out="/api/v1/buildings/annex", body=lambda s: {"area_m2": 5000 + len(uid())})
    c("DELETE", "/api/v1/buildings/{building}", 204, inp="NEWBUILDING")
    c("GET", "/api/v1/buildings/{building}/overview", 200, inp="/api/v1/buildings/hpo/overview",
      out="/api/v1/buildings/annex/overview")

    c("GET", "/api/v1/zones", 200)
    c("POST", "/api/v1/zones", 201, scoped_body=True,
      body=lambda s: {"id": "z" + uid(), "building": "hpo" if s == "in" else "annex",
                      "name": "Z"})
    c("GET", "/api/v1/zones/{zone}", 200, inp="/api/v1/zones/f1-core",
      out="/api/v1/zones/annex-z")
    c("PATCH", "/api/v1/zones/{zone}", 200, inp="/api/v1/zones/f1-core",
      out="/api/v1/zones/annex-z", body=lambda s: {"description": "z " + uid()})
    c("DELETE", "/api/v1/zones/{zone}", 204, inp="NEWZONE", out="NEWZONE@annex")
    # supervisory control: settings by building, tenant overrides by zone
    c("GET", "/api/v1/buildings/{building}/control", 200, inp="/api/v1/buildings/hpo/control",
      out="/api/v1/buildings/annex/control")
    c("PUT", "/api/v1/buildings/{building}/control", 200, inp="/api/v1/buildings/hpo/control",
      out="/api/v1/buildings/annex/control", body=lambda s: {"mode": "advisory", "vacancy_delay_min": 15})
    c("POST", "/api/v1/zones/{zone}/control/override", 200, inp="/api/v1/zones/f1-core/control/override",
      out="/api/v1/zones/annex-z/control/override", body=lambda s: {"hours": 1, "reason": "late meeting"})
    c("DELETE", "/api/v1/zones/{zone}/control/override", 204, inp="/api/v1/zones/f1-core/control/override",
      out="/api/v1/zones/annex-z/control/override")
    # no zone here has a native Schedule: 404 says so, to everyone who may see the zone
    c("GET", "/api/v1/zones/{zone}/control/native-schedule", 404,
      inp="/api/v1/zones/f1-core/control/native-schedule", out="/api/v1/zones/annex-z/control/native-schedule")
    c("GET", "/api/v1/zones/{zone}/status", 200, inp="/api/v1/zones/f1-core/status",
      out="/api/v1/zones/annex-z/status")

    c("GET", "/api/v1/equipment", 200)
    c("POST", "/api/v1/equipment", 201, scoped_body=True,
      body=lambda s: {"id": "e" + uid(), "building": "hpo" if s == "in" else "annex",
                      "name": "E", "type": "sensor"})
    c("GET", "/api/v1/equipment/{equipment}", 200, inp="/api/v1/equipment/ahu-1",
      out="/api/v1/equipment/annex-tstat")
    c("PATCH", "/api/v1/equipment/{equipment}", 200, inp="/api/v1/equipment/ahu-1",
      out="/api/v1/equipment/annex-tstat", body=lambda s: {"description": "e " + uid()})
    c("DELETE", "/api/v1/equipment/{equipment}", 204, inp="NEWEQUIP", out="NEWEQUIP@annex")
    c("GET", "/api/v1/equipment/{equipment}/telemetry", 200,
      inp="/api/v1/equipment/ahu-1/telemetry", out="/api/v1/equipment/annex-tstat/telemetry")
    # no driver serves these points here (BACnet comes later): 503 once allowed
    c("POST", "/api/v1/equipment/{equipment}/control", 503,
      inp="/api/v1/equipment/tstat-lobby/control", out="/api/v1/equipment/annex-tstat/control",
      body=lambda s: {"point": "tstat-lobby.htg-sp" if s == "in" else "annex-tstat.sp",
                      "value": 68 if s == "in" else 20})

    c("GET", "/api/v1/thermostats", 200)
    c("GET", "/api/v1/thermostats/{equipment}/status", 200,
      inp="/api/v1/thermostats/tstat-lobby/status", out="/api/v1/thermostats/annex-tstat/status")
    c("POST", "/api/v1/thermostats/{equipment}/control", 503,
      inp="/api/v1/thermostats/tstat-lobby/control", out="/api/v1/thermostats/annex-tstat/control",
      body=lambda s: {"point": "tstat-lobby.htg-sp" if s == "in" else "annex-tstat.sp",
                      "value": 68 if s == "in" else 20})

    c("GET", "/api/v1/points", 200)
    c("POST", "/api/v1/points", 201, scoped_body=True,
      body=lambda s: {"id": "p" + uid(), "equipment": "ahu-1" if s == "in" else "annex-tstat",
                      "name": "P", "kind": "other", "source": {"driver": "virtual"}})
    c("GET", "/api/v1/points/{point}", 200, inp="/api/v1/points/ahu-1.sat",
      out="/api/v1/points/annex-tstat.t")
    c("PATCH", "/api/v1/points/{point}", 200, inp="/api/v1/points/ahu-1.sat",
      out="/api/v1/points/annex-tstat.t", body=lambda s: {"description": "p " + uid()})
    c("DELETE", "/api/v1/points/{point}", 204, inp="NEWPOINT", out="NEWPOINT@annex")
    c("GET", "/api/v1/points/{point}/latest", 200, inp="/api/v1/points/ahu-1.sat/latest",
      out="/api/v1/points/annex-tstat.t/latest")
    c("GET", "/api/v1/points/{point}/history", 200, inp="/api/v1/points/ahu-1.sat/history",
      out="/api/v1/points/annex-tstat.t/history")
    c("GET", "/api/v1/points/{point}/series", 200, inp="/api/v1/points/ahu-1.sat/series",
      out="/api/v1/points/annex-tstat.t/series")
    c("POST", "/api/v1/points/{point}/write", 503, inp="/api/v1/points/ahu-1.sat-sp/write",
      out="/api/v1/points/annex-tstat.sp/write",
      body=lambda s: {"value": 55 if s == "in" else 20})
    # drivers are off: nothing can read the device's priority array
    c("GET", "/api/v1/points/{point}/priority", 503, inp="/api/v1/points/ahu-1.sat-sp/priority",
      out="/api/v1/points/annex-tstat.sp/priority")

    # readings of points outside the grants are refused one by one (200,
    # listed in "errors"); export names them in a query: 400 like unknown ones
    c("POST", "/api/v1/readings", 200, scoped_body=True, out_status=200,
      body=lambda s: {"readings": [{"point": "ahu-1.sat" if s == "in" else "annex-tstat.t",
                                    "t": now, "v": 13.0}]})
    c("GET", "/api/v1/export", 200, inp="/api/v1/export?points=ahu-1.sat",
      out="/api/v1/export?points=annex-tstat.t", out_status=400)
    c("GET", "/api/v1/audit", 200)
    c("GET", "/api/v1/drivers", 200)
    c("GET", "/api/v1/cluster", 200)
    # drivers are off in this daemon: discovery cannot start, none has run
    c("POST", "/api/v1/bacnet/discover", 503, body=lambda s: {"targets": ["127.0.0.1"]})
    c("GET", "/api/v1/bacnet/discover", 404)
    c("POST", "/api/v1/bacnet/discover/accept", 409,
      body=lambda s: {"building": "hpo", "points": [{"device": 1, "object": "analog-input:1"}]})
    for p in ("/api/v1/schedules", "/api/v1/analytics/consumption"):
        c("GET", p, 501)

    # analytics: this daemon has no history, so a computation that needs it
    # answers 409 with what is missing; a building, meter or zone outside the
    # grants is named in a query or body: 400 like an unknown one
    rep = analytics_in_both(api)
    c("GET", "/api/v1/analytics/savings", 409,
      inp="/api/v1/analytics/savings?building=hpo&baseline=2025-01-01/2025-12-31&reporting=2026-01-01/2026-06-30",
      out="/api/v1/analytics/savings?building=annex&baseline=2025-01-01/2025-12-31&reporting=2026-01-01/2026-06-30",
      out_status=400)
    c("GET", "/api/v1/analytics/cost", 409, inp="/api/v1/analytics/cost?building=hpo&period=2026-01-01/2026-01-31",
      out="/api/v1/analytics/cost?building=annex&period=2026-01-01/2026-01-31", out_status=400)
    c("GET", "/api/v1/analytics/bill", 409, inp="/api/v1/analytics/bill?building=hpo",
      out="/api/v1/analytics/bill?building=annex", out_status=400)
    c("GET", "/api/v1/analytics/models", 200, inp="/api/v1/analytics/models?building=hpo",
      out="/api/v1/analytics/models?building=annex", out_status=400)
    # fault detection: findings and units of a building named in the query;
    # per-unit settings by the equipment in the path (404 outside the grants)
    c("GET", "/api/v1/fdd/findings", 200, inp="/api/v1/fdd/findings?building=hpo",
      out="/api/v1/fdd/findings?building=annex", out_status=400)
    c("GET", "/api/v1/fdd/units", 200, inp="/api/v1/fdd/units?building=hpo",
      out="/api/v1/fdd/units?building=annex", out_status=400)
    c("PUT", "/api/v1/fdd/units/{equipment}", 200, inp="/api/v1/fdd/units/ahu-1",
      out="/api/v1/fdd/units/annex-ahu", body=lambda s: {"overrides": {"eps_t": 2.5}})
    c("DELETE", "/api/v1/fdd/units/{equipment}", 204, inp="/api/v1/fdd/units/ahu-1",
      out="/api/v1/fdd/units/annex-ahu")
    c("POST", "/api/v1/analytics/models/retrain", 202, scoped_body=True, out_status=400,
      body=lambda s: {"target": "meter-main" if s == "in" else "annex"})
    c("GET", "/api/v1/predictions/load", 409, inp="/api/v1/predictions/load?meter=meter-main",
      out="/api/v1/predictions/load?meter=annex-meter", out_status=400)
    c("GET", "/api/v1/predictions/load/accuracy", 200,
      inp=f"/api/v1/predictions/load/accuracy?meter=meter-main&from={now - 86400000}&to={now}",
      out=f"/api/v1/predictions/load/accuracy?meter=annex-meter&from={now - 86400000}&to={now}",
      out_status=400)
    # the optimizer's plan needs a tariff and zone models: 409 saying which is missing
    c("GET", "/api/v1/predictions/plan", 409, inp="/api/v1/predictions/plan?building=hpo",
      out="/api/v1/predictions/plan?building=annex", out_status=400)
    c("GET", "/api/v1/predictions/temperature", 409, inp="/api/v1/predictions/temperature?zone=f1-core",
      out="/api/v1/predictions/temperature?zone=annex-z", out_status=400)
    c("GET", "/api/v1/tariffs", 200)
    c("GET", "/api/v1/tariffs/{tariff}", 200, inp="/api/v1/tariffs/m-flat")
    c("PUT", "/api/v1/tariffs/{tariff}", 200, inp="/api/v1/tariffs/m-flat", body=lambda s: FLAT)
    c("DELETE", "/api/v1/tariffs/{tariff}", 204, inp="NEWTARIFF")
    for seg, body in (("tariff", {"tariff": None}), ("holidays", {"days": []}), ("measures", {"measures": []})):
        c("GET", "/api/v1/buildings/{building}/" + seg, 200, inp=f"/api/v1/buildings/hpo/{seg}",
          out=f"/api/v1/buildings/annex/{seg}")
        c("PUT", "/api/v1/buildings/{building}/" + seg, 200, inp=f"/api/v1/buildings/hpo/{seg}",
          out=f"/api/v1/buildings/annex/{seg}", body=lambda s, b=body: b)
    c("GET", "/api/v1/reports", 200)
    c("POST", "/api/v1/reports", 201, scoped_body=True, out_status=400,
      body=lambda s: report_def("r" + uid(), "hpo" if s == "in" else "annex"))
    c("GET", "/api/v1/reports/{report}", 200, inp="/api/v1/reports/m-hpo", out="/api/v1/reports/m-annex")
    c("PUT", "/api/v1/reports/{report}", 200, inp="/api/v1/reports/m-hpo", out="/api/v1/reports/m-annex",
      body=lambda s: report_def("m-hpo" if s == "in" else "m-annex", "hpo" if s == "in" else "annex"))
    c("DELETE", "/api/v1/reports/{report}", 204, inp="NEWREPORT", out="NEWREPORT@annex")
    # runs of their own reports: a run of a period replaces that period's files
    c("POST", "/api/v1/reports/{report}/run", 201, inp="/api/v1/reports/run-hpo/run",
      out="/api/v1/reports/run-annex/run", body=lambda s: {})
    c("GET", "/api/v1/reports/{report}/files", 200, inp="/api/v1/reports/m-hpo/files",
      out="/api/v1/reports/m-annex/files")
    c("GET", "/api/v1/report-files/{file}", 200, inp=f"/api/v1/report-files/{rep['hpo']}",
      out=f"/api/v1/report-files/{rep['annex']}")

    # alerts: a resolved alert in each building (raised, then cleared), so the
    # life-cycle actions answer the same for every role allowed: 409 (the
    # state does not allow it) except a note, which a resolved alert takes
    ids = alerts_in_both(api)
    c("GET", "/api/v1/alerts", 200)
    c("GET", "/api/v1/alerts/{alert}", 200, inp=f"/api/v1/alerts/{ids['hpo']}",
      out=f"/api/v1/alerts/{ids['annex']}")
    for act in ("acknowledge", "assign", "shelve", "unshelve", "resolve", "notes"):
        body = {"shelve": {"duration_s": 600}, "notes": {"text": "matrix"}}.get(act, {})
        # assign: to someone who may act on the alert's building (only admins on the annex)
        bodies = (lambda s: {"assignee": "opal" if s == "in" else "ann"}) if act == "assign" \
            else (lambda s, b=body: b)
        c("POST", "/api/v1/alerts/{alert}/" + act, 200 if act == "notes" else 409,
          inp=f"/api/v1/alerts/{ids['hpo']}/{act}", out=f"/api/v1/alerts/{ids['annex']}/{act}",
          body=bodies)
    c("GET", "/api/v1/alert-rules", 200)
    c("POST", "/api/v1/alert-rules", 201, scoped_body=True, out_status=400,
      body=lambda s: {"id": "r" + uid(), "name": "R", "type": "threshold", "severity": "info",
                      "point": "ahu-1.sat" if s == "in" else "annex-tstat.t", "above": 99})
    c("GET", "/api/v1/alert-rules/{rule}", 200, inp="/api/v1/alert-rules/m-hpo",
      out="/api/v1/alert-rules/m-annex")
    c("PATCH", "/api/v1/alert-rules/{rule}", 200, inp="/api/v1/alert-rules/m-hpo",
      out="/api/v1/alert-rules/m-annex", body=lambda s: {"name": "M " + uid()})
    c("DELETE", "/api/v1/alert-rules/{rule}", 204, inp="NEWRULE", out="NEWRULE@annex")
    c("GET", "/api/v1/alert-templates", 200)
    c("POST", "/api/v1/alert-templates/apply", 201, scoped_body=True, out_status=400,
      body=lambda s: {"building": "hpo" if s == "in" else "annex", "templates": ["co2-high"]})
    c("GET", "/api/v1/alert-subscriptions", 200)
    c("POST", "/api/v1/alert-subscriptions", 201,
      body=lambda s: {"channel": "webhook", "target": "http://127.0.0.1:9/hook"})
    # one's own subscriptions only: an id nobody has answers 404 to every role allowed
    c("DELETE", "/api/v1/alert-subscriptions/{sub}", 404, inp="/api/v1/alert-subscriptions/999999")
    return C


FLAT = {"id": "m-flat", "name": "Flat", "currency": "USD",
        "energy": [{"period": "all_day", "price_per_kwh": 0.2}]}


def report_def(rid, building):
    return {"id": rid, "building": building, "name": "R", "frequency": "daily", "formats": ["csv"]}


def analytics_in_both(api):
    """A meter and an air handler in the annex, a tariff, and a report with one
    generated file in each building: {building: file id}."""
    for path, body in (("/api/v1/equipment", {"id": "annex-meter", "building": "annex", "name": "Annex meter",
                                              "type": "meter"}),
                       ("/api/v1/equipment", {"id": "annex-ahu", "building": "annex", "name": "Annex AHU",
                                              "type": "ahu"}),
                       ("/api/v1/points", {"id": "annex-meter.energy", "equipment": "annex-meter",
                                           "name": "Energy", "kind": "energy", "unit": "kWh",
                                           "source": {"driver": "mqtt", "address": "annex/meter/energy"}})):
        r = api.req("POST", path, "ann", json=body)
        assert r.status_code == 201, r.text
    r = api.req("PUT", "/api/v1/tariffs/m-flat", "ann", json=FLAT)
    assert r.status_code in (200, 201), r.text
    files = {}
    for b in ("hpo", "annex"):
        r = api.req("POST", "/api/v1/reports", "ann", json=report_def("m-" + b, b))
        assert r.status_code == 201, r.text
        r = api.req("POST", f"/api/v1/reports/m-{b}/run", "ann", json={})
        assert r.status_code == 201, r.text
        files[b] = r.json()["files"][0]["id"]
        r = api.req("POST", "/api/v1/reports", "ann", json=report_def("run-" + b, b))
        assert r.status_code == 201, r.text
    return files


def alerts_in_both(api):
    """Rule m-<b> on a point of each building, raised and cleared: {building: alert id}."""
    import time
    for b, point in (("hpo", "ahu-1.sat"), ("annex", "annex-tstat.t")):
        r = api.req("POST", "/api/v1/alert-rules", "ann", json={
            "id": "m-" + b, "name": "Matrix " + b, "type": "threshold", "point": point,
            "severity": "info", "above": 40})
        assert r.status_code == 201, r.text
    now = int(time.time() * 1000)
    for v, dt in ((45.0, 0), (13.0, 1)):
        r = api.req("POST", "/api/v1/readings", "ann", json={"readings": [
            {"point": "ahu-1.sat", "t": now + dt, "v": v}, {"point": "annex-tstat.t", "t": now + dt, "v": v}]})
        assert r.json()["accepted"] == 2, r.text
        time.sleep(0.3)
    ids = {}
    for _ in range(100):
        items = api.req("GET", "/api/v1/alerts?state=resolved", "ann").json()["items"]
        ids = {a["building"]: a["id"] for a in items}
        if len(ids) == 2:
            return ids
        time.sleep(0.1)
    raise AssertionError(f"no resolved alert in both buildings: {ids}")


def fresh(api, kind):
    """A new object only for a DELETE (created by the admin); KIND@annex
    puts it in the building outside the grants."""
    i = uid()
    kind, _, suffix = kind.partition("/")
    suffix = "/" + suffix if suffix else ""
    kind, _, where = kind.partition("@")
    annex = where == "annex"
    if kind == "NEWRULE":
        r = api.req("POST", "/api/v1/alert-rules", "ann", json={
            "id": "r" + i, "name": "R", "type": "threshold", "severity": "info", "above": 99,
            "point": "annex-tstat.t" if annex else "ahu-1.sat"})
        assert r.status_code == 201, r.text
        return f"/api/v1/alert-rules/r{i}"
    if kind == "NEWTARIFF":
        r = api.req("PUT", f"/api/v1/tariffs/t{i}", "ann", json={**FLAT, "id": "t" + i})
        assert r.status_code == 201, r.text
        return f"/api/v1/tariffs/t{i}"
    if kind == "NEWREPORT":
        r = api.req("POST", "/api/v1/reports", "ann", json=report_def("r" + i, "annex" if annex else "hpo"))
        assert r.status_code == 201, r.text
        return f"/api/v1/reports/r{i}"
    if kind == "NEWUSER":
        r = api.req("POST", "/api/v1/users", "ann", json={"username": "d" + i, "roles": ["viewer"]})
        return f"/api/v1/users/{r.json()['id']}{suffix}"
    body = {"NEWSITE": ("/api/v1/sites", {"id": "s" + i, "name": "S"}),
            "NEWBUILDING": ("/api/v1/buildings", {"id": "b" + i, "site": "harbor-point",
                                                  "name": "B", "timezone": "UTC"}),
            "NEWZONE": ("/api/v1/zones", {"id": "z" + i, "building": "annex" if annex else "hpo",
                                          "name": "Z"}),
            "NEWEQUIP": ("/api/v1/equipment", {"id": "e" + i, "building": "annex" if annex else "hpo",
                                               "name": "E", "type": "sensor"}),
            "NEWPOINT": ("/api/v1/points", {"id": "p" + i,
                                            "equipment": "annex-tstat" if annex else "ahu-1",
                                            "name": "P", "kind": "other",
                                            "source": {"driver": "virtual"}}),
            }[kind]
    r = api.req("POST", body[0], "ann", json=body[1])
    assert r.status_code == 201, r.text
    return f"{body[0]}/{body[1]['id']}{suffix}"


def expected(need, user, scope, case):
    if NEED[need] == 0:
        return case["ok"]
    if user is None:
        return 401
    if RANK[user] < NEED[need] or user in case["deny"]:
        return 403
    if scope == "out" and user != "ann":
        if case["out_status"]:
            return case["out_status"]
        return 403 if case["scoped_body"] else 404
    return case["ok"]


def test_permission_matrix(api):
    doc = api.req("GET", "/api/v1/openapi.json").json()
    C = cases(api)
    r = api.req("POST", "/api/v1/readings", "ann", json={"readings": [
        {"point": "ahu-1.sat", "t": 1795780000000, "v": 13.0},
        {"point": "annex-tstat.t", "t": 1795780000000, "v": 21.0}]})
    assert r.json()["accepted"] == 2, r.text
    ops = [(m.upper(), p, op) for p, item in doc["paths"].items() for m, op in item.items()
           if m in ("get", "post", "put", "patch", "delete")]
    missing = [(m, p) for m, p, _ in ops if (m, p) not in C]
    assert not missing, f"routes without a matrix case: {missing}"
    failures, checked = [], 0
    for method, path, op in ops:
        case, need = C[(method, path)], op["x-sbems-role"]
        for scope in ("in", "out"):
            if scope == "out" and case["out"] is None and not case["scoped_body"]:
                continue
            for user in ROLES:
                target = case["out"] if scope == "out" and case["out"] else case["inp"]
                if target.startswith("NEW"):
                    target = fresh(api, target)
                kw = {}
                if case["body"]:
                    kw["json"] = case["body"](scope)
                token = None
                if path == "/api/v1/auth/logout" and user:
                    token = api.login(user)["access_token"]          # its own session
                r = api.req(method, target, user=None if token else user, token=token, **kw)
                want = expected(need, user, scope, case)
                checked += 1
                if r.status_code != want:
                    failures.append(f"{method} {target} as {user or 'anonymous'} ({scope}): "
                                    f"{r.status_code}, want {want}: {r.text[:160]}")
                elif r.status_code >= 400:
                    e = r.json()["error"]          # the one error shape
                    assert e["code"] and e["message"], r.text
    assert not failures, f"{len(failures)} of {checked}:\n" + "\n".join(failures)
    assert checked > 400


def test_written_matrix_matches(api):
    """docs/security.md lists every route with the least role the server enforces."""
    import os
    import re
    doc = api.req("GET", "/api/v1/openapi.json").json()
    want = {(m.upper(), p): op["x-sbems-role"] for p, item in doc["paths"].items()
            for m, op in item.items() if m in ("get", "post", "put", "patch", "delete")}
    text = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "security.md")).read()
    rows = re.findall(r"^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| (\w+) \|", text, re.M)
    written = {(m, p): need for m, p, need in rows}
    assert written == want
