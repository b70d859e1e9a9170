"""Alerts through the real daemon: a rule made through the API fires on a
posted reading (the live bus, not the store), the alert reaches WebSocket
clients who may see its building and no one else, a webhook subscriber gets
an HMAC-signed notice on a real HTTP server of the test's, the life cycle
(acknowledge, conflicts, clear -> resolved) is recorded in the history and
the overview counts it; bad rules are refused with the field named, roles
and scope hold, templates make a building's recommended rules.  Escalation
(alerts.escalate_after set to 2 s): a level-1 webhook hears nothing at the
raise and one signed "escalated" notice later; an acknowledged alert never
escalates.  A schedule rule fires for equipment running while every zone it
serves is unoccupied."""
import asyncio
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import websockets

from conftest import PASSWORD, start_api, wait_for


class Hook(BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        Hook.got.append((dict(self.headers), self.rfile.read(n)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def hook_server():
    srv = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


async def listen(api, token, seconds, want=1):
    """Alert events a WebSocket client receives in seconds (stops early after want)."""
    got = []
    async with websockets.connect(f"ws://127.0.0.1:{api.port}/api/v1/ws") as ws:
        await ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(await ws.recv())["type"] == "ready"
        await ws.send(json.dumps({"type": "subscribe", "id": 1, "channels": ["alerts"]}))
        end = time.monotonic() + seconds
        while time.monotonic() < end and len(got) < want:
            try:
                m = json.loads(await asyncio.wait_for(ws.recv(), max(0.05, end - time.monotonic())))
            except asyncio.TimeoutError:
                break
            if m.get("type") == "event" and m.get("channel") == "alerts":
                got.append(m["data"])
    return got


def post(api, v):
    r = api.req("POST", "/api/v1/readings", "opal",
                json={"readings": [{"point": "ahu-1.sat", "t": int(time.time() * 1000), "v": v}]})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text


def test_alert_life_cycle(api):
    # a user granted only the annex must never hear about hpo's alerts
    r = api.req("POST", "/api/v1/users", "ann", json={"username": "zed", "roles": ["viewer"],
                                                      "grants": [{"kind": "building", "id": "annex"}]})
    assert r.status_code == 201, r.text
    zed = api.login("zed", r.json()["temporary_password"])
    r = api.req("POST", "/api/v1/auth/password", token=zed["access_token"],
                json={"current_password": r.json()["temporary_password"], "new_password": PASSWORD + " z"})
    zed_token = r.json()["access_token"]

    # refused rules name their field
    bad = api.req("POST", "/api/v1/alert-rules", "max", json={
        "id": "bad", "name": "Bad", "type": "threshold", "point": "ahu-1.sat", "severity": "major",
        "above": 10, "below": 20})
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"]["details"][0]["field"] in ("above", "below", "rule"), bad.text
    r = api.req("POST", "/api/v1/alert-rules", "max", json={
        "id": "ghost", "name": "Ghost", "type": "threshold", "point": "no.such", "severity": "major", "above": 1})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "point", r.text
    assert api.req("POST", "/api/v1/alert-rules", "opal", json={}).status_code == 403   # operators may not
    r = api.req("POST", "/api/v1/alert-rules", "max", json={
        "id": "annex-hot", "name": "Annex", "type": "threshold", "point": "annex-tstat.t",
        "severity": "major", "above": 30})
    assert r.status_code == 400, r.text                                                # outside max's scope

    # the rule, and a webhook subscription whose secret is shown once
    r = api.req("POST", "/api/v1/alert-rules", "max", json={
        "id": "sat-high", "name": "AHU-1 discharge air too warm", "type": "threshold",
        "point": "ahu-1.sat", "severity": "major", "above": 20, "hysteresis": 0.5})
    assert r.status_code == 201, r.text
    assert r.json()["building"] == "hpo" and r.json()["updated_by"] == "max"
    assert api.req("POST", "/api/v1/alert-rules", "max", json={
        "id": "sat-high", "name": "Again", "type": "threshold", "point": "ahu-1.sat", "severity": "minor",
        "above": 25}).status_code == 409
    srv = hook_server()
    r = api.req("POST", "/api/v1/alert-subscriptions", "opal", json={
        "channel": "webhook", "target": f"http://127.0.0.1:{srv.server_port}/hook", "building": "hpo",
        "min_severity": "major"})
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    assert len(secret) == 64
    subs = api.req("GET", "/api/v1/alert-subscriptions", "opal").json()["items"]
    assert subs[0]["has_secret"] is True and "secret" not in subs[0]

    async def raise_and_listen():
        vic_task = asyncio.ensure_future(listen(api, api.token("vic"), 10))
        zed_task = asyncio.ensure_future(listen(api, zed_token, 4, want=99))
        await asyncio.sleep(0.5)                 # both subscribed before the reading
        post(api, 21.5)
        return await vic_task, await zed_task
    vic_events, zed_events = asyncio.run(raise_and_listen())
    assert vic_events and vic_events[0]["event"] == "raised", vic_events
    a = vic_events[0]["alert"]
    assert a["rule"] == "sat-high" and a["severity"] == "major" and a["value"] == 21.5
    assert zed_events == [], zed_events                       # not their building

    alerts = api.req("GET", "/api/v1/alerts", "vic").json()["items"]
    assert [x["id"] for x in alerts] == [a["id"]] and alerts[0]["state"] == "active"
    assert alerts[0]["point"] == "ahu-1.sat" and alerts[0]["rule_name"] == "AHU-1 discharge air too warm"
    assert api.req("GET", "/api/v1/alerts", token=zed_token).json()["items"] == []
    assert api.req("GET", f"/api/v1/alerts/{a['id']}", token=zed_token).status_code == 404
    ov = api.req("GET", "/api/v1/buildings/hpo/overview", "vic").json()["alerts"]
    assert wait_for(lambda: api.req("GET", "/api/v1/buildings/hpo/overview", "vic").json()["alerts"]
                    .get("open") == 1, timeout=5), ov

    # the webhook: signed over "<timestamp>.<body>" with the subscription's secret
    assert wait_for(lambda: Hook.got, timeout=10), "no webhook call"
    headers, body = Hook.got[0]
    ts = headers["X-Sbems-Timestamp"]
    want = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert headers["X-Sbems-Signature"] == "sha256=" + want
    assert json.loads(body)["alert"]["id"] == a["id"]

    # a value still beyond the limit is the same condition: no new alert, no new notice
    post(api, 22.0)
    time.sleep(1)
    assert len(api.req("GET", "/api/v1/alerts", "vic").json()["items"]) == 1

    # life cycle: viewers may not act; acknowledge once; then the condition clears
    assert api.req("POST", f"/api/v1/alerts/{a['id']}/acknowledge", "vic", json={}).status_code == 403
    r = api.req("POST", f"/api/v1/alerts/{a['id']}/acknowledge", "opal", json={"note": "on it"})
    assert r.status_code == 200 and r.json()["state"] == "acknowledged", r.text
    assert r.json()["acknowledged_by"] == "opal"
    r = api.req("POST", f"/api/v1/alerts/{a['id']}/acknowledge", "opal", json={})
    assert r.status_code == 409, r.text
    r = api.req("POST", f"/api/v1/alerts/{a['id']}/assign", "opal", json={"assignee": "max"})
    assert r.status_code == 403                                # operators take, managers hand out
    r = api.req("POST", f"/api/v1/alerts/{a['id']}/assign", "opal", json={"assignee": "opal"})
    assert r.status_code == 200 and r.json()["assignee"] == "opal", r.text
    post(api, 19.0)                                            # 0.5 K below the limit: clears
    assert wait_for(lambda: api.req("GET", f"/api/v1/alerts/{a['id']}", "vic").json()["state"] == "resolved",
                    timeout=10)
    full = api.req("GET", f"/api/v1/alerts/{a['id']}", "vic").json()
    kinds = [e["kind"] for e in full["events"]]
    for k in ("raised", "notified", "acknowledged", "assigned", "cleared", "resolved"):
        assert k in kinds, kinds
    assert full["resolved_by"] == "sbems" and len(Hook.got) == 1
    assert api.req("GET", "/api/v1/alerts", "vic").json()["items"] == []          # none open
    assert len(api.req("GET", "/api/v1/alerts?state=resolved", "vic").json()["items"]) == 1
    audit = api.req("GET", "/api/v1/audit?action=alert", "max").json()["items"]
    assert {x["action"] for x in audit} >= {"alert_rule.create", "alert.update"}, audit


def test_rules_crud_and_templates(api):
    r = api.req("POST", "/api/v1/alert-rules", "max", json={
        "id": "co2", "name": "CO2", "type": "threshold", "point": "ahu-1.sat", "severity": "minor", "above": 30})
    assert r.status_code == 201
    r = api.req("PATCH", "/api/v1/alert-rules/co2", "max", json={"above": 31, "enabled": False})
    assert r.status_code == 200 and r.json()["above"] == 31 and r.json()["enabled"] is False, r.text
    assert api.req("PATCH", "/api/v1/alert-rules/co2", "max", json={"type": "stale"}).status_code == 400
    assert api.req("GET", "/api/v1/alert-rules/co2", "vic").json()["name"] == "CO2"
    assert api.req("DELETE", "/api/v1/alert-rules/co2", "max").status_code == 204
    assert api.req("GET", "/api/v1/alert-rules/co2", "vic").status_code == 404
    ts = api.req("GET", "/api/v1/alert-templates", "vic").json()["items"]
    assert {"zone-comfort", "device-offline"} <= {t["id"] for t in ts}
    r = api.req("POST", "/api/v1/alert-templates/apply", "max",
                json={"building": "hpo", "templates": ["zone-comfort", "device-offline"]})
    assert r.status_code == 201, r.text
    made = r.json()["created"]
    assert any(x.endswith("-comfort") for x in made) and any(x.endswith("-offline") for x in made), made
    again = api.req("POST", "/api/v1/alert-templates/apply", "max",
                    json={"building": "hpo", "templates": ["zone-comfort"]}).json()
    assert again["created"] == [] and all(s["reason"] == "exists" for s in again["skipped"]), again
    rules = api.req("GET", "/api/v1/alert-rules?building=hpo&limit=1000", "vic").json()["items"]
    assert len(rules) == len(made)
    assert api.req("POST", "/api/v1/alert-templates/apply", "max",
                   json={"building": "annex", "templates": ["zone-comfort"]}).status_code == 400


def test_subscriptions_refuse_what_would_never_work(api):
    def sub(**b):
        return api.req("POST", "/api/v1/alert-subscriptions", "opal", json=b)
    # an address the e-mail sender would refuse on every alert is refused now
    r = sub(channel="email", target="Opal <opal@example.com>")
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "target", r.text
    assert sub(channel="email", target="opal@example.com").status_code == 201
    r = sub(channel="webhook", target="ftp://example.com/x")
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "target"
    # quiet hours that are never quiet
    r = sub(channel="email", target="o2@example.com", quiet_start="22:00", quiet_end="22:00")
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "quiet_start", r.text
    # MQTT's topic is the server's; a target is ignored
    r = sub(channel="mqtt", target="anything/#")
    assert r.status_code == 201 and r.json()["target"] == "", r.text
    # the per-user cap answers 409 with a reason
    n = len(api.req("GET", "/api/v1/alert-subscriptions", "opal").json()["items"])
    for i in range(64 - n):
        assert sub(channel="email", target=f"o{i}@example.com").status_code == 201
    r = sub(channel="email", target="one-too-many@example.com")
    assert r.status_code == 409 and "64" in r.json()["error"]["message"], r.text


class PathHook(BaseHTTPRequestHandler):
    """Records (path, headers, body) of every POST, for the escalation test only."""
    got = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        PathHook.got.append((self.path, dict(self.headers), self.rfile.read(n)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def calls(path):
    return [(h, json.loads(b)) for p, h, b in PathHook.got if p == path]


def test_escalation_of_unacknowledged_alerts(sbems):
    api = start_api(sbems, "--set", "alerts.escalate_after=2s")
    srv = HTTPServer(("127.0.0.1", 0), PathHook)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{srv.server_port}"
    subs = {}
    for level in (0, 1):
        r = api.req("POST", "/api/v1/alert-subscriptions", "opal", json={
            "channel": "webhook", "target": f"{base}/l{level}", "building": "hpo", "level": level})
        assert r.status_code == 201 and r.json()["level"] == level, r.text
        subs[level] = r.json()["secret"]
    # a level outside 0..3 is refused, naming the field
    for bad in (4, -1, "1", 1.5):
        r = api.req("POST", "/api/v1/alert-subscriptions", "opal",
                    json={"channel": "email", "target": "o@example.com", "level": bad})
        assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "level", (bad, r.text)
    listed = api.req("GET", "/api/v1/alert-subscriptions", "opal").json()
    assert listed["escalate_after_s"] == 2 and sorted(x["level"] for x in listed["items"]) == [0, 1]

    for rid, point in (("esc-1", "ahu-1.sat"), ("esc-2", "ahu-2.sat")):
        r = api.req("POST", "/api/v1/alert-rules", "max", json={
            "id": rid, "name": rid, "type": "threshold", "point": point, "severity": "major", "above": 20})
        assert r.status_code == 201, r.text

    async def raise_and_listen():
        task = asyncio.ensure_future(listen_all(api, api.token("vic"), 9))
        await asyncio.sleep(0.5)
        now = int(time.time() * 1000)
        r = api.req("POST", "/api/v1/readings", "opal", json={"readings": [
            {"point": "ahu-1.sat", "t": now, "v": 21.5}, {"point": "ahu-2.sat", "t": now, "v": 22.5}]})
        assert r.status_code == 200 and r.json()["accepted"] == 2, r.text
        ids = wait_for(lambda: {a["rule"]: a["id"] for a in api.req("GET", "/api/v1/alerts", "vic").json()["items"]}
                       if len(api.req("GET", "/api/v1/alerts", "vic").json()["items"]) == 2 else None, timeout=10)
        assert ids, "the two alerts were not raised"
        # someone sees the second one at once: it never escalates
        r = api.req("POST", f"/api/v1/alerts/{ids['esc-2']}/acknowledge", "opal", json={"note": "seen"})
        assert r.status_code == 200, r.text
        return ids, await task
    ids, events = asyncio.run(raise_and_listen())

    # level 0 heard both raises; level 1 heard nothing at the raise ...
    assert wait_for(lambda: len(calls("/l0")) == 2, timeout=10), PathHook.got
    assert {b["event"] for _, b in calls("/l0")} == {"raised"}
    # ... and exactly one escalation of the unacknowledged one, signed with its own secret
    assert wait_for(lambda: calls("/l1"), timeout=10), PathHook.got
    headers, body = calls("/l1")[0]
    assert body["event"] == "escalated" and body["level"] == 1, body
    assert body["alert"]["id"] == ids["esc-1"] and body["alert"]["escalated_level"] == 1
    raw = [b for p, _, b in PathHook.got if p == "/l1"][0]
    want = hmac.new(subs[1].encode(), headers["X-Sbems-Timestamp"].encode() + b"." + raw, hashlib.sha256).hexdigest()
    assert headers["X-Sbems-Signature"] == "sha256=" + want
    # viewers of the building saw it on the WebSocket
    esc = [e for e in events if e["event"] == "escalated"]
    assert esc and esc[0]["alert"]["id"] == ids["esc-1"], events

    # by now (> 3 x 2 s) it climbed to the highest level; only level 1's notice went to /l1
    assert wait_for(lambda: api.req("GET", f"/api/v1/alerts/{ids['esc-1']}", "vic").json()["escalated_level"] == 3,
                    timeout=10)
    full = api.req("GET", f"/api/v1/alerts/{ids['esc-1']}", "vic").json()
    assert [e["detail"] for e in full["events"] if e["kind"] == "escalated"] == ["level 1", "level 2", "level 3"]
    assert len(calls("/l1")) == 1
    acked = api.req("GET", f"/api/v1/alerts/{ids['esc-2']}", "vic").json()
    assert acked["state"] == "acknowledged" and acked["escalated_level"] == 0, acked
    assert "escalated" not in [e["kind"] for e in acked["events"]]
    assert all(b["alert"]["id"] != ids["esc-2"] for _, b in calls("/l1"))


async def listen_all(api, token, seconds):
    """Every alert event a WebSocket client receives in seconds."""
    return await listen(api, token, seconds, want=10 ** 6)


def test_schedule_and_forecast_rules(api):
    # a zone that is never occupied, an exhaust fan serving it, its status point
    for path, body in (
            ("/api/v1/zones", {"id": "night-z", "building": "hpo", "name": "Night zone",
                               "schedule": {"daily": "closed"}}),
            ("/api/v1/equipment", {"id": "fan-9", "building": "hpo", "name": "Exhaust fan 9", "type": "other",
                                   "zone": "night-z"}),
            ("/api/v1/points", {"id": "fan-9.status", "equipment": "fan-9", "name": "Status", "kind": "status",
                                "source": {"driver": "virtual"}})):
        r = api.req("POST", path, "ann", json=body)
        assert r.status_code == 201, (path, r.text)

    # what the model says against a rule is refused on the point
    for body in ({"type": "schedule", "point": "ahu-1.sat"},          # a temperature
                 {"type": "schedule", "point": "chiller-1.status"},   # serves no zone with a schedule
                 {"type": "forecast", "point": "ahu-1.sat"}):
        r = api.req("POST", "/api/v1/alert-rules", "max", json={"id": "x", "name": "X", "severity": "minor", **body})
        assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "point", (body, r.text)
    r = api.req("POST", "/api/v1/alert-rules", "max", json={
        "id": "x", "name": "X", "type": "forecast", "point": "meter-main.power", "severity": "minor", "hours": 99})
    assert r.status_code == 400 and r.json()["error"]["details"][0]["field"] == "hours", r.text
    # a forecast rule is stored (the analytics service evaluates it)
    r = api.req("POST", "/api/v1/alert-rules", "max", json={
        "id": "main-dev", "name": "Main meter off forecast", "type": "forecast", "point": "meter-main.power",
        "severity": "major", "hours": 3, "direction": "both"})
    assert r.status_code == 201 and r.json()["hours"] == 3 and r.json()["direction"] == "both", r.text

    r = api.req("POST", "/api/v1/alert-rules", "max", json={
        "id": "fan-9-sched", "name": "Fan 9 out of schedule", "type": "schedule", "point": "fan-9.status",
        "severity": "minor"})
    assert r.status_code == 201 and r.json()["running_above"] == 0.5 and r.json()["auto_resolve"] is True, r.text

    def post(v):
        r = api.req("POST", "/api/v1/readings", "opal",
                    json={"readings": [{"point": "fan-9.status", "t": int(time.time() * 1000), "v": v}]})
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text

    def open_alerts():
        return [a for a in api.req("GET", "/api/v1/alerts", "vic").json()["items"] if a["rule"] == "fan-9-sched"]

    post(0)
    time.sleep(1)
    assert open_alerts() == []                                   # stopped: nothing
    post(1)
    assert wait_for(open_alerts, timeout=10), "the fan running at night raised nothing"
    a = open_alerts()[0]
    assert a["point"] == "fan-9.status" and a["value"] == 1 and "unoccupied" in a["message"], a
    post(0)                                                      # stopped: cleared and resolved by itself
    assert wait_for(lambda: api.req("GET", f"/api/v1/alerts/{a['id']}", "vic").json()["state"] == "resolved",
                    timeout=10)

    # the template makes one rule per fan status of equipment serving scheduled zones
    assert "fan-schedule" in {t["id"] for t in api.req("GET", "/api/v1/alert-templates", "vic").json()["items"]}
    r = api.req("POST", "/api/v1/alert-templates/apply", "max", json={"building": "hpo", "templates": ["fan-schedule"]})
    assert r.status_code == 201, r.text
    assert {"ahu-1.sf-status-schedule", "ahu-2.sf-status-schedule", "ahu-3.sf-status-schedule"} <= set(r.json()["created"])
    rule = api.req("GET", "/api/v1/alert-rules/ahu-1.sf-status-schedule", "vic").json()
    assert rule["type"] == "schedule" and rule["on_delay_s"] == 3600, rule
