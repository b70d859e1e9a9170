"""A plant behind BOPTEST's REST API, for testing `sbems boptest` here.

BOPTEST itself (https://github.com/ibpsa/project1-boptest) runs Modelica
FMUs in Docker images that this machine cannot fetch (its registries are
Debian's and npm's), so the tests use this stand-in: the same endpoints,
envelopes and signal conventions as BOPTEST's service API (openapi.yaml of
project1-boptest, service/web/server/docs) and KPI definitions as in Blum
et al. 2021 (J. Building Performance Simulation 14(5), section 3.3):
tdis_tot = sum over zones of the time integral of the deviation outside
[LowerSetp, UpperSetp], K.h, divided by the number of zones; ener_tot = HVAC
energy kWh/m2; cost_tot = HVAC energy cost /m2 at the scenario's price;
pele_tot = peak HVAC electric power kW/m2 (over control-step means).

The plant: each zone a two-node RC model (air, mass) with an ideal
fan-coil: heat or cool, up to its capacity, to bring the air to the active
setpoint by the end of each 60 s sub-step; cooling electric at COP 3,
heating electric at COP 1.  Weather: a daily sinusoid.  The embedded
controller (what BOPTEST's baseline is) holds 21/24 degC occupied
(weekdays 8-18 h) and 15/30 degC otherwise, exactly the comfort bounds,
recovering only once occupancy begins.

Test cases: "bestest_air" (one zone, bestest_air's signal names) and
"multizone_simple" (two zones, multizone_office_simple_air-style names).
Run: python3 boptest_peer.py PORT  (prints "ready PORT" on stdout).
"""
import json
import math
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

K = 273.15
STEP_DEFAULT = 3600.0
AREA = 48.0          # m2 per zone (BESTEST case 900's floor area)


def occupied(t):
    day = int(t // 86400)
    h = (t % 86400) / 3600.0
    return day % 7 < 5 and 8.0 <= h < 18.0


def bounds(t):
    return (21.0 + K, 24.0 + K) if occupied(t) else (15.0 + K, 30.0 + K)


def t_out(t, mean):
    return mean + K + 5.0 * math.sin(2 * math.pi * ((t % 86400) / 86400.0 - 0.375))


def ghi(t):
    h = (t % 86400) / 3600.0
    return max(0.0, 600.0 * math.sin(math.pi * (h - 6) / 12.0)) if 6 <= h <= 18 else 0.0


def price(t, kind):
    h = (t % 86400) / 3600.0
    if kind == "constant":
        return 0.2
    if kind == "highly_dynamic":
        return 0.1 + 0.3 * (16 <= h < 21) + 0.05 * math.sin(h)
    return 0.1 + 0.2 * (16 <= h < 21)


CASES = {
    "bestest_air": {
        "zones": {"zon": {"temp": "zon_reaTRooAir_y", "heat": "con_oveTSetHea_u", "cool": "con_oveTSetCoo_u"}},
        "extra_inputs": {"fcu_oveFan_u": (0.0, 1.0, "1")},
        "extra_meas": {"fcu_reaPCoo_y": "W", "fcu_reaPHea_y": "W"},
    },
    "multizone_simple": {
        "zones": {
            "cor": {"temp": "hvac_reaZonCor_TZon_y", "heat": "hvac_oveZonSupCor_TZonHeaSet_u",
                    "cool": "hvac_oveZonSupCor_TZonCooSet_u"},
            "nor": {"temp": "hvac_reaZonNor_TZon_y", "heat": "hvac_oveZonSupNor_TZonHeaSet_u",
                    "cool": "hvac_oveZonSupNor_TZonCooSet_u"},
        },
        "extra_inputs": {"hvac_oveAhu_TSupSet_u": (285.15, 313.15, "K")},
        "extra_meas": {"hvac_reaAhu_PFanSup_y": "W"},
    },
}
PERIODS = {"typical_heat_day": (30 * 86400.0, 14, 2.0), "peak_heat_day": (20 * 86400.0, 14, -3.0),
           "typical_cool_day": (200 * 86400.0, 14, 27.0)}


class Test:
    def __init__(self, case):
        self.case = case
        self.cfg = CASES[case]
        self.step = STEP_DEFAULT
        self.price_kind = "constant"
        self.mean = 2.0
        self.t = 0.0
        self.end = None
        self.x = {z: [20.0 + K, 20.0 + K] for z in self.cfg["zones"]}
        self.over = {}
        self.kpi = self.zero_kpi()
        self.log = []

    def zero_kpi(self):
        return {"energy_kwh": 0.0, "cost": 0.0, "peak_kw": 0.0, "tdis": 0.0, "steps": 0}

    def inputs(self):
        out = {}
        for z in self.cfg["zones"].values():
            out[z["heat"]] = {"Description": "Zone heating setpoint", "Minimum": 278.15, "Maximum": 308.15,
                              "Unit": "K"}
            out[z["cool"]] = {"Description": "Zone cooling setpoint", "Minimum": 285.15, "Maximum": 313.15,
                              "Unit": "K"}
        for k, (lo, hi, u) in self.cfg["extra_inputs"].items():
            out[k] = {"Description": "other", "Minimum": lo, "Maximum": hi, "Unit": u}
        for k in list(out):
            out[k[:-2] + "_activate"] = {"Description": "activation", "Minimum": 0, "Maximum": 1, "Unit": None}
        return {k: v for k, v in out.items() if k.endswith("_u")}

    def meas(self):
        out = {z["temp"]: {"Description": "Zone air temperature", "Minimum": None, "Maximum": None, "Unit": "K"}
               for z in self.cfg["zones"].values()}
        for k, u in self.cfg["extra_meas"].items():
            out[k] = {"Description": "power", "Minimum": None, "Maximum": None, "Unit": u}
        return out

    def fc_points(self):
        out = {"TDryBul": {"Description": "outdoor", "Unit": "K"}, "HGloHor": {"Description": "ghi", "Unit": "W/m2"}}
        for k in ("PriceElectricPowerConstant", "PriceElectricPowerDynamic", "PriceElectricPowerHighlyDynamic"):
            out[k] = {"Description": "price", "Unit": "($/Euro)/kWh"}
        for z in self.cfg["zones"]:
            out[f"LowerSetp[{z}]"] = {"Description": "lower comfort bound", "Unit": "K"}
            out[f"UpperSetp[{z}]"] = {"Description": "upper comfort bound", "Unit": "K"}
            out[f"Occupancy[{z}]"] = {"Description": "occupants", "Unit": "1"}
        return out

    def values(self):
        v = {"time": self.t}
        for name, z in self.cfg["zones"].items():
            v[z["temp"]] = self.x[name][0]
        return v

    def setpoints(self, z, name):
        lo, hi = bounds(self.t)
        h = self.over.get(z["heat"], lo)
        c = self.over.get(z["cool"], hi)
        return h, c

    def advance(self, u):
        for k, v in u.items():
            if k.endswith("_activate"):
                continue
            meta = self.inputs().get(k)
            if meta is None:
                raise ValueError(f"Unexpected input variable: {k}")
            if not isinstance(v, (int, float)) or not (meta["Minimum"] <= v <= meta["Maximum"]):
                raise ValueError(f"{k} = {v} is outside [{meta['Minimum']}, {meta['Maximum']}]")
        self.over = {}
        for k, v in u.items():
            if k.endswith("_u") and u.get(k[:-2] + "_activate") in (1, 1.0, True):
                self.over[k] = float(v)
        sub = 60.0
        n = max(1, int(round(self.step / sub)))
        kwh = 0.0
        for _ in range(n):
            to = t_out(self.t, self.mean)
            p_el = 0.0
            for name, z in self.cfg["zones"].items():
                ti, tm = self.x[name]
                h, c = self.setpoints(z, name)
                ci, cm, rim, rio, rmo = 2.0e6, 2.0e7, 0.004, 0.02, 0.01   # J/K, K/W
                free = ((tm - ti) / rim + (to - ti) / rio + 3.0 * ghi(self.t) + 300.0)
                # the heat that brings the air to the setpoint by the sub-step's end
                need_h = (h - ti) * ci / sub - free
                need_c = (c - ti) * ci / sub - free
                q = 0.0
                if need_h > 0:
                    q = min(need_h, 6000.0)
                elif need_c < 0:
                    q = max(need_c, -6000.0)
                ti += sub * (free + q) / ci
                tm += sub * ((ti - tm) / rim + (to - tm) / rmo) / cm
                self.x[name] = [ti, tm]
                p_el += (q / 1.0 if q > 0 else -q / 3.0) / 1000.0
                lo, hi = bounds(self.t)
                self.kpi["tdis"] += max(0.0, lo - ti, ti - hi) * sub / 3600.0
            e = p_el * sub / 3600.0
            kwh += e
            self.kpi["energy_kwh"] += e
            self.kpi["cost"] += e * price(self.t, self.price_kind)
            self.t += sub
        self.kpi["peak_kw"] = max(self.kpi["peak_kw"], kwh / (self.step / 3600.0))
        self.kpi["steps"] += 1

    def kpis(self):
        nz = len(self.cfg["zones"])
        area = AREA * nz
        return {"ener_tot": self.kpi["energy_kwh"] / area, "cost_tot": self.kpi["cost"] / area,
                "emis_tot": self.kpi["energy_kwh"] * 0.5 / area, "pele_tot": self.kpi["peak_kw"] / area,
                "pgas_tot": None, "pdih_tot": None, "tdis_tot": self.kpi["tdis"] / nz, "idis_tot": 0.0,
                "time_rat": 0.0}

    def forecast(self, names, horizon, interval):
        n = int(horizon // interval) + 1
        ts = [self.t + i * interval for i in range(n)]
        out = {"time": ts}
        for p in names:
            if p.startswith("LowerSetp["):
                out[p] = [bounds(t)[0] for t in ts]
            elif p.startswith("UpperSetp["):
                out[p] = [bounds(t)[1] for t in ts]
            elif p == "TDryBul":
                out[p] = [t_out(t, self.mean) for t in ts]
            elif p == "HGloHor":
                out[p] = [ghi(t) for t in ts]
            elif p.startswith("PriceElectricPower"):
                kind = {"PriceElectricPowerConstant": "constant", "PriceElectricPowerDynamic": "dynamic"}.get(
                    p, "highly_dynamic")
                out[p] = [price(t, kind) for t in ts]
            elif p.startswith("Occupancy["):
                out[p] = [5.0 if occupied(t) else 0.0 for t in ts]
            else:
                raise ValueError(f"Unknown forecast point: {p}")
        return out


TESTS = {}
LOCK = threading.Lock()
CALLS = []


class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, obj, text=False):
        body = (obj if text else json.dumps(obj)).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain" if text else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def env(self, payload, msg="ok"):
        self.reply(200, {"message": msg, "payload": payload, "status": 200})

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw) if raw else {}

    def handle_any(self, method):
        parts = [p for p in self.path.split("/") if p]
        try:
            b = self.body()
        except ValueError:
            return self.reply(400, {"message": "body is not JSON", "payload": None, "status": 400})
        with LOCK:
            CALLS.append((method, parts[0] if parts else "", b))
            try:
                return self.route(method, parts, b)
            except ValueError as e:
                return self.reply(400, {"message": str(e), "payload": None, "status": 400})

    def route(self, method, parts, b):
        if method == "GET" and parts == ["calls"]:            # the test's own view of the protocol
            return self.reply(200, [[m, p, body] for m, p, body in CALLS[:-1]])
        if method == "POST" and len(parts) == 3 and parts[0] == "testcases" and parts[2] == "select":
            if parts[1] not in CASES:
                return self.reply(404, {"message": f"Test case {parts[1]} not found", "payload": None,
                                        "status": 404})
            tid = str(uuid.uuid4())
            TESTS[tid] = Test(parts[1])
            return self.reply(200, {"testid": tid})
        if len(parts) != 2 or parts[1] not in TESTS:
            return self.reply(404, {"message": "no such test", "payload": None, "status": 404})
        t = TESTS[parts[1]]
        what = parts[0]
        if method == "GET" and what == "inputs":
            return self.env(t.inputs())
        if method == "GET" and what == "measurements":
            return self.env(t.meas())
        if method == "GET" and what == "forecast_points":
            return self.env(t.fc_points())
        if method == "PUT" and what == "step":
            t.step = float(b["step"])
            return self.env({"step": t.step})
        if method == "PUT" and what == "scenario":
            if "electricity_price" in b:
                if b["electricity_price"] not in ("constant", "dynamic", "highly_dynamic"):
                    raise ValueError("electricity_price must be constant, dynamic or highly_dynamic")
                t.price_kind = b["electricity_price"]
            res = {"electricity_price": t.price_kind, "time_period": None}
            if "time_period" in b:
                if b["time_period"] not in PERIODS:
                    raise ValueError(f"time_period {b['time_period']} is not one of {sorted(PERIODS)}")
                start, days, mean = PERIODS[b["time_period"]]
                t.mean = mean
                t.t = start - 7 * 86400.0
                while t.t < start:                 # warm-up under the embedded controller
                    t.advance({})
                t.kpi = t.zero_kpi()
                t.end = start + days * 86400.0
                res["time_period"] = t.values()
            return self.env(res)
        if method == "PUT" and what == "initialize":
            t.t = float(b["start_time"]) - float(b["warmup_period"])
            while t.t < float(b["start_time"]):
                t.advance({})
            t.kpi = t.zero_kpi()
            t.end = None
            return self.env(t.values())
        if method == "PUT" and what == "forecast":
            return self.env(t.forecast(b["point_names"], float(b["horizon"]), float(b["interval"])))
        if method == "POST" and what == "advance":
            if t.end is not None and t.t >= t.end - 1e-6:
                return self.env({})
            t.advance(b)
            return self.env(t.values())
        if method == "GET" and what == "kpi":
            return self.env(t.kpis())
        if method == "PUT" and what == "stop":
            del TESTS[parts[1]]
            return self.reply(200, "OK", text=True)
        return self.reply(404, {"message": f"{method} /{what} is not part of the API", "payload": None,
                                "status": 404})

    def do_GET(self):
        self.handle_any("GET")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_POST(self):
        self.handle_any("POST")


if __name__ == "__main__":
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H)
    print(f"ready {srv.server_address[1]}", flush=True)
    srv.serve_forever()
