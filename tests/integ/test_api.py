"""The REST API on the real daemon: sign-in, token rotation and theft
detection, lock-out, rate limits, validation, pagination, model edits,
readings, exports (the XLSX read back with openpyxl), audit, CORS, gzip,
TLS, static files, and malformed input that must not hurt the daemon."""
import gzip
import io
import json
import os
import socket
import subprocess
import time

import pytest
import requests

from conftest import FAST, PASSWORD, start_api, start_daemon, wait_for


def err(r):
    return r.json()["error"]


# ---- authentication -------------------------------------------------------

def test_login_me_and_wrong_password(api):
    t = api.login("vic")
    assert t["token_type"] == "Bearer" and t["expires_in"] == 900
    assert t["user"]["roles"] == ["viewer"]
    me = api.req("GET", "/api/v1/auth/me", token=t["access_token"]).json()
    assert me["username"] == "vic" and me["grants"] == [{"kind": "building", "id": "hpo"}]
    assert "pw_hash" not in json.dumps(me)
    r = api.http.post(api.url("/api/v1/auth/login"), json={"username": "vic", "password": "nope"})
    assert r.status_code == 401 and err(r)["code"] == "invalid_credentials"
    r2 = api.http.post(api.url("/api/v1/auth/login"), json={"username": "ghost", "password": "nope"})
    assert r2.status_code == 401 and r2.json() == r.json()      # no user enumeration
    for bad in ("", "{", "[]", '{"username":1,"password":"x"}', '{"username":"a","password":"b","x":1}'):
        r = api.http.post(api.url("/api/v1/auth/login"), data=bad,
                          headers={"Content-Type": "application/json"})
        assert r.status_code == 400, bad
    assert api.req("GET", "/api/v1/auth/me").status_code == 401
    r = api.req("GET", "/api/v1/auth/me", token="not.a.token")
    assert r.status_code == 401 and "Bearer" in r.headers["WWW-Authenticate"]


def test_refresh_rotation_and_reuse_detection(api):
    t = api.login("opal")
    r1 = api.http.post(api.url("/api/v1/auth/refresh"), json={"refresh_token": t["refresh_token"]})
    assert r1.status_code == 200
    t1 = r1.json()
    assert t1["refresh_token"] != t["refresh_token"]
    assert api.req("GET", "/api/v1/auth/me", token=t1["access_token"]).status_code == 200
    # the old refresh token again: theft.  The whole family dies, access included.
    r = api.http.post(api.url("/api/v1/auth/refresh"), json={"refresh_token": t["refresh_token"]})
    assert r.status_code == 401
    r = api.http.post(api.url("/api/v1/auth/refresh"), json={"refresh_token": t1["refresh_token"]})
    assert r.status_code == 401
    assert api.req("GET", "/api/v1/auth/me", token=t1["access_token"]).status_code == 401
    audit = api.req("GET", "/api/v1/audit?action=auth.token_reuse", "ann").json()["items"]
    assert audit and audit[0]["result"] == "denied"
    # the cookie path (the web UI): HttpOnly, SameSite=Strict, scoped to auth
    s = requests.Session()
    r = s.post(api.url("/api/v1/auth/login"), json={"username": "opal", "password": PASSWORD})
    c = r.headers["Set-Cookie"]
    assert "HttpOnly" in c and "SameSite=Strict" in c and "Path=/api/v1/auth" in c
    assert s.post(api.url("/api/v1/auth/refresh")).status_code == 200
    # no cookie, no body: not signed in (what the UI asks at load)
    r = requests.post(api.url("/api/v1/auth/refresh"))
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"


def test_logout_revokes(api):
    t = api.login("vic")
    assert api.req("POST", "/api/v1/auth/logout", token=t["access_token"]).status_code == 204
    assert api.req("GET", "/api/v1/auth/me", token=t["access_token"]).status_code == 401
    r = api.http.post(api.url("/api/v1/auth/refresh"), json={"refresh_token": t["refresh_token"]})
    assert r.status_code == 401


def test_password_change_and_forced_change(api):
    # a refused invite leaves no account behind (grants are checked before it is created)
    r = api.req("POST", "/api/v1/users", "ann", json={"username": "newbie", "roles": ["viewer"],
                                                      "grants": [{"kind": "floor", "id": "hpo"}]})
    assert r.status_code == 400 and err(r)["details"][0]["field"] == "grants", r.text
    names = [u["username"] for u in api.req("GET", "/api/v1/users?limit=1000", "ann").json()["items"]]
    assert "newbie" not in names
    r = api.req("POST", "/api/v1/users", "ann", json={"username": "newbie", "roles": ["viewer"],
                                                      "grants": [{"kind": "building", "id": "hpo"}]})
    assert r.status_code == 201
    temp = r.json()["temporary_password"]
    t = api.login("newbie", temp)
    assert t["user"]["must_change_password"] is True
    r = api.req("GET", "/api/v1/buildings", token=t["access_token"])
    assert r.status_code == 403 and err(r)["code"] == "password_change_required"
    r = api.req("POST", "/api/v1/auth/password", token=t["access_token"],
                json={"current_password": temp, "new_password": "short"})
    assert r.status_code == 400 and err(r)["details"][0]["field"] == "new_password"
    r = api.req("POST", "/api/v1/auth/password", token=t["access_token"],
                json={"current_password": temp, "new_password": "a much better passphrase"})
    assert r.status_code == 200
    t2 = r.json()
    assert api.req("GET", "/api/v1/buildings", token=t2["access_token"]).status_code == 200
    assert api.req("GET", "/api/v1/auth/me", token=t["access_token"]).status_code == 401


def test_disable_and_demote_take_effect_at_once(api):
    tok = api.token("opal")
    assert api.req("GET", "/api/v1/points/ahu-1.sat", token=tok).status_code == 200
    r = api.req("PATCH", "/api/v1/users/3", "ann", json={"roles": ["viewer"]})
    assert r.status_code == 200 and r.json()["roles"] == ["viewer"]
    r = api.req("POST", "/api/v1/points/ahu-1.sat-sp/write", token=tok, json={"value": 55})
    assert r.status_code == 403
    assert api.req("DELETE", "/api/v1/users/3", "ann").status_code == 204
    assert api.req("GET", "/api/v1/points/ahu-1.sat", token=tok).status_code == 401
    r = api.http.post(api.url("/api/v1/auth/login"), json={"username": "opal", "password": PASSWORD})
    assert r.status_code == 401
    r = api.req("DELETE", "/api/v1/users/1", "ann")
    assert r.status_code == 409                                   # not yourself


def test_lockout(sbems):
    api = start_api(sbems, "--set", "auth.lockout_failures=4", "--set", "auth.lockout=1m")
    admin = api.token("ann")
    codes = []
    for i in range(8):
        r = api.http.post(api.url("/api/v1/auth/login"), json={"username": "vic", "password": "bad"})
        codes.append(r.status_code)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1
    assert codes[:3] == [401, 401, 401] and codes[-1] == 429, codes
    # even the right password waits now
    r = api.http.post(api.url("/api/v1/auth/login"), json={"username": "vic", "password": PASSWORD})
    assert r.status_code == 429
    # the lock-out is in the audit log (the admin signed in before: the address is locked now)
    def lockouts():
        items = api.req("GET", "/api/v1/audit?action=auth.lockout", token=admin).json()["items"]
        return items or None
    log = wait_for(lockouts, timeout=10)
    assert log[0]["target"] == "user:vic" and log[0]["result"] == "locked"


def test_rate_limit(sbems):
    sbems.run("import", os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                                     "office-site.json"))
    sbems.run("user", "add", "rl", "--role", "viewer", "--grant", "building:hpo",
              "--password-stdin", "--set", "auth.password_cost=min", stdin=PASSWORD + "\n")
    p, port = start_daemon(sbems, "--set", "auth.password_cost=min", "--set", "api.rate_limit=20",
                           "--set", "api.rate_burst=5", "--set", "api.rate_limit_ip=0")
    base = f"http://127.0.0.1:{port}"
    tok = requests.post(base + "/api/v1/auth/login",
                        json={"username": "rl", "password": PASSWORD}).json()["access_token"]
    h = {"Authorization": "Bearer " + tok}
    got = [requests.get(base + "/api/v1/sites", headers=h) for _ in range(8)]
    codes = [r.status_code for r in got]
    assert codes[:5] == [200] * 5 and 429 in codes[5:], codes
    r = next(r for r in got if r.status_code == 429)
    assert int(r.headers["Retry-After"]) >= 1
    assert r.headers["RateLimit-Limit"] == "5" and r.headers["RateLimit-Remaining"] == "0"
    assert got[0].headers["RateLimit-Remaining"] == "4"
    time.sleep(3.2)                                   # 20/min refills one every 3 s
    assert requests.get(base + "/api/v1/sites", headers=h).status_code == 200


# ---- resources --------------------------------------------------------------

def test_validation_names_fields(api):
    r = api.req("POST", "/api/v1/zones", "ann", json={"id": "bad zone", "building": "hpo"})
    assert r.status_code == 400
    e = err(r)
    assert e["code"] == "invalid" and any("bad zone" in d["message"] or "id" in d["message"]
                                          for d in e["details"])
    r = api.req("POST", "/api/v1/points", "ann", json={"id": "p1", "equipment": "ahu-1", "name": "x",
                                                        "kind": "temperature", "unit": "kg"})
    assert r.status_code == 400 and any("unit" in d["message"] for d in err(r)["details"])
    r = api.req("GET", "/api/v1/points?limit=0", "ann")
    assert r.status_code == 400 and err(r)["details"][0]["field"] == "limit"
    r = api.req("GET", "/api/v1/points?bogus=1", "ann")
    assert r.status_code == 400 and err(r)["details"][0]["field"] == "bogus"
    r = api.req("GET", "/api/v1/points/ahu-1.sat/history?resolution=5m", "ann")
    assert r.status_code == 400 and err(r)["details"][0]["field"] == "resolution"
    r = api.req("DELETE", "/api/v1/buildings/hpo", "ann")
    assert r.status_code == 409 and err(r)["details"]          # zones still refer to it
    r = api.req("PATCH", "/api/v1/zones/f1-core", "ann", json={"id": "other"})
    assert r.status_code == 400
    r = api.req("POST", "/api/v1/readings", "ann", json={"readings": [{"point": "ahu-1.sat", "t": "x", "v": 1}]})
    assert r.status_code == 200 and r.json()["rejected"] == 1 and r.json()["errors"][0]["field"] == "t"


def test_pagination(api):
    seen, cursor, pages = [], None, 0
    while True:
        q = "/api/v1/points?limit=50" + (f"&cursor={cursor}" if cursor else "")
        page = api.req("GET", q, "vic").json()
        seen += [p["id"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 4 and len(seen) == len(set(seen)) == 183      # hpo only, no annex points
    assert all(not s.startswith("annex") for s in seen)
    admin = api.req("GET", "/api/v1/points?limit=1000", "ann").json()["items"]
    assert len(admin) == 185
    eq = api.req("GET", "/api/v1/equipment?type=thermostat&building=hpo", "vic").json()["items"]
    assert [e["id"] for e in eq] == ["tstat-lobby", "tstat-conf-3"]


def test_model_edit_flows_to_ingest(api):
    r = api.req("POST", "/api/v1/points", "max", json={
        "id": "ahu-1.new-t", "equipment": "ahu-1", "name": "New sensor", "kind": "temperature",
        "unit": "°C", "min": -10, "max": 60, "source": {"driver": "virtual"}})
    assert r.status_code == 201, r.text
    pid = r.json()["point_id"]
    assert r.headers["Location"].endswith("/api/v1/points/ahu-1.new-t")
    now = int(time.time() * 1000)
    r = api.req("POST", "/api/v1/readings", "opal", json={"readings": [
        {"point": pid, "t": now, "v": 21.5}, {"point": "ahu-1.new-t", "t": now + 1, "v": 99}]})
    assert r.json()["accepted"] == 1 and r.json()["rejected"] == 1          # 99 > max
    latest = api.req("GET", f"/api/v1/points/{pid}/latest", "vic").json()
    assert latest["value"] == 21.5 and latest["ts"] == now
    r = api.req("PATCH", "/api/v1/points/ahu-1.new-t", "max", json={"max": 120})
    assert r.status_code == 200 and r.json()["max"] == 120
    r = api.req("POST", "/api/v1/readings", "opal", json={"readings": [
        {"point": pid, "t": now + 2, "v": 99}]})
    assert r.json()["accepted"] == 1                                        # new range applies
    log = api.req("GET", "/api/v1/audit?action=point.", "max").json()["items"]
    assert [a["action"] for a in log][:2] == ["point.update", "point.create"]
    assert log[0]["before"]["max"] == 60 and log[0]["after"]["max"] == 120
    assert log[0]["actor"] == "max"


def test_patch_is_an_rfc7396_merge(api):
    # nested objects merge member by member; null removes; arrays replace whole
    r = api.req("PATCH", "/api/v1/zones/f1-core", "max", json={
        "comfort": {"occupied": {"cooling": 24.5}}, "schedule": {"sat": None, "sun": "10:00-12:00"},
        "description": None})
    assert r.status_code == 200, r.text
    z = r.json()
    assert z["comfort"] == {"occupied": {"heating": 21, "cooling": 24.5},
                            "unoccupied": {"heating": 15.5, "cooling": 29.5}}, z
    assert z["schedule"] == {"mon-fri": "06:30-20:00", "sun": "10:00-12:00"}, z
    assert "description" not in z
    # the result is validated whole: a merge that leaves heating above cooling is refused
    r = api.req("PATCH", "/api/v1/zones/f1-core", "max", json={"comfort": {"occupied": {"heating": 25}}})
    assert r.status_code == 400, r.text
    assert api.req("GET", "/api/v1/zones/f1-core", "vic").json()["comfort"]["occupied"]["heating"] == 21
    r = api.req("PATCH", "/api/v1/equipment/vav-1-core", "max", json={"tags": ["vav"]})
    assert r.status_code == 200 and r.json()["tags"] == ["vav"], r.text


def test_history_and_export(api):
    t0 = 1795651200000
    rows = [{"point": "meter-main.power", "t": t0 + i * 60000, "v": 100 + i} for i in range(120)]
    rows += [{"point": "ahu-1.sat", "t": t0 + i * 60000, "v": 12 + (i % 3)} for i in range(0, 120, 2)]
    r = api.req("POST", "/api/v1/readings", "opal", json={"readings": rows})
    assert r.json()["accepted"] == 180, r.text
    h = api.req("GET", f"/api/v1/points/meter-main.power/history?from={t0}&to={t0 + 7200000}&resolution=1h",
                "vic").json()
    assert h["kind"] == "rate" and len(h["buckets"]) == 2
    assert h["buckets"][0]["value"] == pytest.approx(sum(100 + i for i in range(60)) / 60, rel=1e-3)
    raw = api.req("GET", f"/api/v1/points/ahu-1.sat/history?from={t0}&to={t0 + 7200000}", "vic").json()
    assert raw["count"] == 60
    q = f"points=meter-main.power,ahu-1.sat&from={t0}&to={t0 + 7200000}"
    csv = api.req("GET", f"/api/v1/export?{q}&format=csv", "vic")
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in csv.headers["Content-Disposition"]
    lines = csv.text.strip().split("\r\n")
    assert lines[0].startswith("time,meter-main.power (kW),ahu-1.sat (")
    assert len(lines) == 121 and lines[1].split(",")[1:] == ["100", "12"] and lines[2].endswith(",")
    j = api.req("GET", f"/api/v1/export?{q}&format=json", "vic").json()
    assert len(j["rows"]) == 120 and j["rows"][1][2] is None
    x = api.req("GET", f"/api/v1/export?{q}&format=xlsx&resolution=1h", "vic")
    assert x.status_code == 200 and x.content[:4] == b"PK\x03\x04"
    import openpyxl
    ws = openpyxl.load_workbook(io.BytesIO(x.content)).active
    vals = list(ws.iter_rows(values_only=True))
    assert "meter-main.power" in vals[0][1] and len(vals) == 3
    assert vals[1][1] == pytest.approx(h["buckets"][0]["value"], rel=1e-9)


def test_overview_zone_status_latest(api):
    now = int(time.time() * 1000)
    api.req("POST", "/api/v1/readings", "opal", json={"readings": [
        {"point": "meter-main.power", "t": now, "v": 321.5},
        {"point": "vav-1-north.zn-t", "t": now, "v": 22.0}]})
    o = api.req("GET", "/api/v1/buildings/hpo/overview", "vic").json()
    assert o["power_kw"] == 321.5 and o["comfort"]["zones"] == 15
    # the alert service counts open alerts (none here)
    assert o["alerts"] == {"available": True, "active": 0, "open": 0, "critical": 0, "major": 0,
                           "minor": 0, "info": 0, "unacknowledged": 0}, o["alerts"]
    z = api.req("GET", "/api/v1/zones/f1-north/status", "vic").json()
    assert z["temperature"] == 22.0 and z["comfort"] in ("in_band", "too_cold", "too_warm")


def test_control_validated_audited(api):
    r = api.req("POST", "/api/v1/points/ahu-1.sat-sp/write", "opal", json={"value": 99})
    assert r.status_code == 400 and "within" in err(r)["details"][0]["message"]
    r = api.req("POST", "/api/v1/points/ahu-1.sat/write", "opal", json={"value": 55})
    assert r.status_code == 409                               # a sensor: not writable
    # its BACnet device has no running driver here: refused, and audited
    r = api.req("POST", "/api/v1/points/ahu-1.sat-sp/write", "opal", json={"value": 55, "priority": 8})
    assert r.status_code == 503 and "driver" in err(r)["message"]
    a = wait_for(lambda: api.req("GET", "/api/v1/audit?action=point.write", "max").json()["items"])
    assert a[0]["actor"] == "opal" and a[0]["result"] == "error"
    assert a[0]["after"]["command"]["value"] == 55 and a[0]["after"]["command"]["priority"] == 8
    assert api.req("GET", "/api/v1/drivers", "ann").json()["devices"] == []   # drivers off


# ---- transport ---------------------------------------------------------------

def test_gzip_cors_headers(sbems):
    api = start_api(sbems, "--set", "api.cors_origins=https://ems.example.com")
    tok = api.token("ann")
    r = requests.get(api.url("/api/v1/points?limit=200"), headers={
        "Authorization": "Bearer " + tok, "Accept-Encoding": "gzip"}, stream=True)
    assert r.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(r.raw.read())
    assert len(json.loads(body)["items"]) == 185
    assert int(r.headers["Content-Length"]) < len(body) / 4
    # CORS: the allowed origin is echoed, another gets nothing; preflight
    r = requests.get(api.url("/healthz"), headers={"Origin": "https://ems.example.com"})
    assert r.headers["Access-Control-Allow-Origin"] == "https://ems.example.com"
    r = requests.get(api.url("/healthz"), headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers
    r = requests.options(api.url("/api/v1/points"), headers={
        "Origin": "https://ems.example.com", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204 and "POST" in r.headers["Access-Control-Allow-Methods"]
    r = requests.options(api.url("/api/v1/points"), headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    for h in ("X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy",
              "Referrer-Policy"):
        assert h in r.headers


def test_metrics(api):
    api.req("GET", "/api/v1/sites", "vic")
    m = requests.get(api.url("/metrics")).text
    assert 'sbems_http_requests_total{method="GET",route="/api/v1/sites",status="200"}' in m
    assert "sbems_http_request_duration_seconds_bucket" in m
    assert "sbems_ingest_queue_depth" in m and "sbems_ws_clients 0" in m


def test_static_files(sbems, tmp_path):
    web = tmp_path / "web"
    (web / "assets").mkdir(parents=True)
    (web / "index.html").write_text("<!doctype html><title>sbems ui</title>")
    (web / "assets" / "app-1a2b.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("no")
    api = start_api(sbems, "--set", f"api.web_root={web}")
    r = requests.get(api.url("/"))
    assert r.status_code == 200 and "sbems ui" in r.text and r.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in r.headers["Content-Security-Policy"]
    r2 = requests.get(api.url("/"), headers={"If-None-Match": r.headers["ETag"]})
    assert r2.status_code == 304
    r = requests.get(api.url("/assets/app-1a2b.js"))
    assert "immutable" in r.headers["Cache-Control"] and r.headers["Content-Type"].startswith("text/javascript")
    # a large script goes out gzip-coded to a client that takes it, whole to one that does not
    big = "".join(f"export const v{i} = {i} * 2;\n" for i in range(3000))
    (web / "assets" / "big-9f8e.js").write_text(big)
    r = requests.get(api.url("/assets/big-9f8e.js"), headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("Content-Encoding") == "gzip" and r.text == big
    assert int(r.headers["Content-Length"]) < len(big) / 3 and "Accept-Encoding" in r.headers["Vary"]
    r = requests.get(api.url("/assets/big-9f8e.js"), headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in r.headers and r.text == big
    assert "sbems ui" in requests.get(api.url("/buildings/hpo")).text          # SPA route
    assert "sbems ui" in requests.get(api.url("/zones/f1.west")).text          # ids may hold dots
    for bad in ("/../secret.txt", "/%2e%2e/secret.txt", "/.hidden", "/assets/nope.js", "/nope.js",
                "/assets/f1.west"):
        assert requests.get(api.url(bad)).status_code == 404, bad
    assert requests.get(api.url("/api/v1/nope")).status_code == 404


def test_tls(sbems, tmp_path):
    key, crt = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-out", str(crt), "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    sbems.run("import", os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                                     "office-site.json"))
    p, port = start_daemon(sbems, *FAST, "--set", f"api.tls_cert={crt}", "--set", f"api.tls_key={key}")
    r = requests.get(f"https://127.0.0.1:{port}/healthz", verify=str(crt))
    assert r.status_code == 200 and "max-age" in r.headers["Strict-Transport-Security"]
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)


def test_malformed_input_never_hurts(api):
    junk = [
        b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x00\x01\x02\xff" * 100,
        b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /api/v1/readings HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n",
        b"POST /api/v1/readings HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{\"usern",
        b"GET /api/v1/points HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + b"A" * 5000 + b"\r\n\r\n",
        b"GET /api/v1/points/%00/latest HTTP/1.1\r\nHost: x\r\n\r\n",
    ]
    for j in junk:
        with socket.create_connection(("127.0.0.1", api.port), timeout=5) as s:
            s.sendall(j)
            s.shutdown(socket.SHUT_WR)
            try:
                s.recv(4096)
            except OSError:
                pass
    tok = api.token("ann")
    bodies = ['{"readings":', '{"readings":[1,2,3]}', '{"readings":[{"point":{},"t":[],"v":"x"}]}',
              '{"readings":[{"point":1,"t":1e300,"v":1}]}', '"just a string"', "null",
              '{"readings":[' + ",".join(['{"point":1,"t":1,"v":1}'] * 5) + "]}" + "x"]
    for b in bodies:
        r = requests.post(api.url("/api/v1/readings"), data=b,
                          headers={"Authorization": "Bearer " + tok})
        assert r.status_code in (200, 400), (b, r.status_code)
    assert api.proc.poll() is None
    assert requests.get(api.url("/healthz")).status_code == 200


def test_forwarded_for_only_from_trusted_proxies(sbems):
    """Behind nginx every request comes from the proxy: with the proxy in
    api.trusted_proxies, the per-address limit counts the address nginx
    appended to X-Forwarded-For (clients apart); without it, the header is
    ignored, so a client cannot pick a fresh address per request."""
    def codes(base, xff, n):
        h = {"X-Forwarded-For": xff} if xff else {}
        return [requests.get(base + "/api/v1/sites", headers=h, timeout=10).status_code
                for _ in range(n)]

    p, port = start_daemon(sbems, "--set", "api.rate_limit_ip=3",
                           "--set", "api.trusted_proxies=127.0.0.1, ::1")
    base = f"http://127.0.0.1:{port}"
    # a forged address on the left changes nothing: the rightmost untrusted one counts
    assert codes(base, "1.1.1.1, 198.51.100.1", 4) == [401, 401, 401, 429]
    assert codes(base, "2.2.2.2, 198.51.100.1", 1) == [429]
    assert codes(base, "198.51.100.2", 3) == [401, 401, 401]      # another client
    assert codes(base, None, 1) == [401]                             # the proxy itself
    p.terminate()
    assert p.wait(timeout=60) == 0

    p, port = start_daemon(sbems, "--set", "api.rate_limit_ip=3")
    base = f"http://127.0.0.1:{port}"
    got = [codes(base, f"198.51.100.{i}", 1)[0] for i in range(10, 14)]
    assert got == [401, 401, 401, 429], got                          # all one address
    p.terminate()
    assert p.wait(timeout=60) == 0

    r = sbems.run("serve", "--set", "api.trusted_proxies=10.0.0.1/8", check=False, timeout=30)
    assert r.returncode != 0 and "api.trusted_proxies: 10.0.0.1/8" in r.stderr, r.stderr
