#!/usr/bin/python3
"""rest_server.py - a local HTTP peer for the REST and weather drivers' tests.

Serves, on 127.0.0.1 and a free port (printed as the first line of stdout):

  /tapi/v1/...   the simulated thermostat cloud API of docs/internals/rest.md,
                 OAuth 2.0 client credentials (POST /tapi/v1/oauth2/token)
  /kapi/v1/...   the same thermostats behind an API key (X-Api-Key)
  /open/v1/forecast                       an Open-Meteo forecast (recorded)
  /open/stations/KBOS/observations/latest an api.weather.gov observation (recorded)

The recorded documents are read from --data (rest_data/).  Test control:

  POST /_ctl/script  {"path": "/tapi/v1/thermostats/rt-101/status",
                      "responses": [{"status": 500}, {"status": 429,
                      "headers": {"Retry-After": "1"}}, {"delay": 2.0}]}
                     answers the next requests of that path (any method) from
                     the list in order; {"delay": s} sleeps and then answers
                     normally; "status" with optional "body" answers that.
  POST /_ctl/revoke  forget every token issued (the next use gets 401)
  POST /_ctl/config  {"expires_in": 2, "forecast_status": 503}
  POST /_ctl/reset   clear log, scripts, tokens, state and config
  GET  /_ctl/log     every request so far: t (monotonic s), method, path,
                     query, token (bearer), api_key, basic_user, body

Only for tests: it hands out tokens it also logs.  Stop it with SIGTERM.
"""
import argparse
import base64
import copy
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID = "sbems-test"
CLIENT_SECRET = "s3cr3t-Xy+/=z"
API_KEY = "k3y-9f8e7d"
MODES = ("off", "heat", "cool", "auto", "eco")
FANS = ("auto", "low", "medium", "high")
KNOWN_VARS = ("temperature_2m", "relative_humidity_2m", "shortwave_radiation",
              "wind_speed_10m", "cloud_cover", "dew_point_2m")


class State:
    """Everything the handlers share, under one lock."""

    def __init__(self, data):
        self.data = data
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with open(os.path.join(self.data, "thermostats.json"), encoding="utf-8") as f:
            self.tstats = json.load(f)
        self.log = []
        self.scripts = {}
        self.tokens = {}
        self.expires_in = 3600
        self.forecast_status = 200


def form(body):
    return {k: v[0] for k, v in urllib.parse.parse_qs(body).items()}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "rest-test-peer/1"

    def log_message(self, fmt, *args):   # quiet
        pass

    # ---- plumbing ---------------------------------------------------------
    def send(self, status, obj=None, headers=None):
        body = b"" if obj is None else json.dumps(obj).encode()
        try:
            self.send_response(status)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if obj is not None:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test) while we slept.
            self.close_connection = True

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode("utf-8", "replace") if n else ""

    def record(self, path, query, body):
        auth = self.headers.get("Authorization") or ""
        tok, user = None, None
        if auth.startswith("Bearer "):
            tok = auth[7:]
        elif auth.startswith("Basic "):
            try:
                user = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                user = "?"
        st = self.server.st
        with st.lock:
            st.log.append({"t": time.monotonic(), "method": self.command, "path": path,
                           "query": query, "token": tok, "basic_user": user,
                           "api_key": self.headers.get("X-Api-Key"), "body": body,
                           "user_agent": self.headers.get("User-Agent")})

    def scripted(self, path):
        st = self.server.st
        with st.lock:
            q = st.scripts.get(path)
            step = q.pop(0) if q else None
        if step is None:
            return False
        if "delay" in step:
            time.sleep(step["delay"])
            return False
        self.send(step["status"], step.get("body"), step.get("headers"))
        return True

    # ---- dispatch ---------------------------------------------------------
    def handle_any(self):
        u = urllib.parse.urlsplit(self.path)
        path, query = u.path, u.query
        body = self.read_body()
        if path.startswith("/_ctl/"):
            return self.ctl(path, body)
        self.record(path, query, body)
        if self.scripted(path):
            return None
        if path == "/tapi/v1/oauth2/token":
            return self.token(body)
        if path.startswith("/tapi/v1/"):
            if not self.bearer_ok():
                return self.send(401, {"error": {"code": "unauthorized",
                                                 "message": "invalid or expired token"}},
                                 {"WWW-Authenticate": 'Bearer error="invalid_token"'})
            return self.thermostats(path[len("/tapi/v1"):], body)
        if path.startswith("/kapi/v1/"):
            if self.headers.get("X-Api-Key") != API_KEY:
                return self.send(401, {"error": {"code": "unauthorized",
                                                 "message": "bad API key"}})
            return self.thermostats(path[len("/kapi/v1"):], body)
        if path == "/open/v1/forecast":
            return self.forecast(query)
        if path == "/open/stations/KBOS/observations/latest":
            return self.file("nws-kbos-latest.json")
        if path == "/open/notjson":
            self.send_response(200)
            self.send_header("Content-Length", "9")
            self.end_headers()
            self.wfile.write(b"<html>hi!")
            return None
        return self.send(404, {"error": {"code": "not_found", "message": "no such resource"}})

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = handle_any

    def file(self, name):
        with open(os.path.join(self.server.st.data, name), encoding="utf-8") as f:
            return self.send(200, json.load(f))

    # ---- control ----------------------------------------------------------
    def ctl(self, path, body):
        st = self.server.st
        with st.lock:
            if path == "/_ctl/log":
                out = list(st.log)
            elif path == "/_ctl/script":
                req = json.loads(body)
                st.scripts.setdefault(req["path"], []).extend(req["responses"])
                out = {"ok": True}
            elif path == "/_ctl/revoke":
                st.tokens.clear()
                out = {"ok": True}
            elif path == "/_ctl/config":
                req = json.loads(body)
                st.expires_in = req.get("expires_in", st.expires_in)
                st.forecast_status = req.get("forecast_status", st.forecast_status)
                out = {"ok": True}
            elif path == "/_ctl/reset":
                st.reset()
                out = {"ok": True}
            else:
                out = None
        if out is None:
            return self.send(404, {"error": "no such control"})
        return self.send(200, out)

    # ---- OAuth 2.0 (RFC 6749 4.4) ----------------------------------------
    def token(self, body):
        f = form(body)
        auth = self.headers.get("Authorization") or ""
        cid, csec = f.get("client_id"), f.get("client_secret")
        if auth.startswith("Basic "):
            raw = base64.b64decode(auth[6:]).decode()
            cid, csec = (urllib.parse.unquote_plus(x) for x in raw.split(":", 1))
        if f.get("grant_type") != "client_credentials":
            return self.send(400, {"error": "unsupported_grant_type"})
        if cid != CLIENT_ID or csec != CLIENT_SECRET:
            return self.send(401, {"error": "invalid_client",
                                   "error_description": "client authentication failed"},
                             {"WWW-Authenticate": 'Basic realm="token"'})
        st = self.server.st
        tok = secrets.token_urlsafe(24)
        with st.lock:
            life = st.expires_in
            st.tokens[tok] = time.monotonic() + life
        return self.send(200, {"access_token": tok, "token_type": "Bearer",
                               "expires_in": life, "scope": f.get("scope", "")},
                         {"Cache-Control": "no-store"})

    def bearer_ok(self):
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Bearer "):
            return False
        st = self.server.st
        with st.lock:
            exp = st.tokens.get(auth[7:])
        return exp is not None and exp > time.monotonic()

    # ---- thermostats ------------------------------------------------------
    def thermostats(self, path, body):
        parts = path.strip("/").split("/")
        st = self.server.st
        if parts == ["thermostats"] and self.command == "GET":
            with st.lock:
                lst = [{"id": k, "name": v["status"]["name"], "model": v["status"]["model"]}
                       for k, v in st.tstats.items()]
            return self.send(200, {"thermostats": lst})
        if len(parts) != 3 or parts[0] != "thermostats":
            return self.send(404, {"error": {"code": "not_found", "message": "no such resource"}})
        with st.lock:
            t = st.tstats.get(parts[1])
            if t is None:
                return self.send(404, {"error": {"code": "not_found",
                                                 "message": "no thermostat " + parts[1]}})
            return self.thermostat(t, parts[2], body)

    def thermostat(self, t, what, body):
        s = t["status"]
        if what == "status" and self.command == "GET":
            doc = copy.deepcopy(s)
            if doc["online"]:     # offline: the cloud keeps the last contact time
                doc["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            return self.send(200, doc)
        if what == "hold" and self.command == "DELETE":
            s["setpoints"] = dict(t["schedule"])
            s["hold"] = False
            return self.send(204)
        if self.command != "PUT" or what not in ("setpoints", "mode", "fan"):
            return self.send(405, {"error": {"code": "method_not_allowed",
                                             "message": "not allowed here"}})
        try:
            req = json.loads(body)
        except ValueError:
            return self.send(400, {"error": {"code": "bad_json", "message": "body is not JSON"}})
        return getattr(self, "put_" + what)(s, req)

    def unprocessable(self, msg):
        return self.send(422, {"error": {"code": "out_of_range", "message": msg}})

    def put_setpoints(self, s, req):
        sp = dict(s["setpoints"])
        for k, v in req.items():
            if k not in ("heating", "cooling") or not isinstance(v, (int, float)):
                return self.unprocessable("unknown setpoint " + k)
            if not 5 <= v <= 35:
                return self.unprocessable(f"{k} setpoint {v} outside 5..35 °C")
            sp[k] = v
        if sp["heating"] > sp["cooling"] - 1:
            return self.unprocessable("heating must stay 1 K below cooling")
        s["setpoints"] = sp
        s["hold"] = True
        return self.send(200, sp)

    def put_mode(self, s, req):
        if req.get("mode") not in MODES:
            return self.unprocessable("unknown mode")
        s["mode"] = req["mode"]
        return self.send(200, {"mode": s["mode"]})

    def put_fan(self, s, req):
        if req.get("fan") not in FANS:
            return self.unprocessable("unknown fan speed")
        s["fan"] = req["fan"]
        return self.send(200, {"fan": s["fan"]})

    # ---- Open-Meteo -------------------------------------------------------
    def forecast(self, query):
        q = {k: v[0] for k, v in urllib.parse.parse_qs(query).items()}
        st = self.server.st
        with st.lock:
            status = st.forecast_status
        if status != 200:
            return self.send(status, {"error": True, "reason": "service unavailable"})
        if "latitude" not in q or "longitude" not in q:
            return self.send(400, {"error": True,
                                   "reason": "Parameter 'latitude' and 'longitude' must be set"})
        for block in ("current", "hourly"):
            for v in q.get(block, "").split(","):
                if v and v not in KNOWN_VARS:
                    return self.send(400, {"error": True, "reason":
                                           "Cannot initialize ForecastVariable from invalid "
                                           "String value " + v + " for key " + block})
        return self.file("openmeteo-forecast.json")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.st = State(args.data)
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    # The test may close its end once it has the port: write nothing more.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
