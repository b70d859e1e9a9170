#!/usr/bin/env python3
"""scripts/demo_setup.py - the parts of `make demo` that talk to a running sbems:
discover the simulated building's BACnet controllers and accept every proposal
(equipment linked to its zone and AHU), then backfill history from sbems-sim
through `sbems ingest`.  Called by scripts/demo; also usable on its own:

  demo_setup.py --url http://127.0.0.1:8080 --user demo --password-file F \
      --sbems build/rel/sbems --sim build/rel/sbems-sim --data-dir D --sim-list L \
      [--backfill-days 30] [--sim-args '...']

Standard library only (urllib), so it runs wherever python3 does.
"""
import argparse
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

def log(msg):
    print(f"demo: {msg}", file=sys.stderr, flush=True)


class Api:
    def __init__(self, base, user, password):
        self.base = base.rstrip("/")
        self.token = self.call("POST", "/api/v1/auth/login",
                               {"username": user, "password": password})["access_token"]

    def call(self, method, path, body=None, ok=(200, 201, 202)):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if getattr(self, "token", None):
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                text = r.read().decode()
                return json.loads(text) if text else {}
        except urllib.error.HTTPError as e:
            if e.code in ok:
                return json.loads(e.read().decode() or "{}")
            raise SystemExit(f"demo: {method} {path}: HTTP {e.code}: {e.read().decode()[:400]}")

    def all_points(self):
        items, cursor = [], None
        for _ in range(1000):
            q = "/api/v1/points?limit=1000" + (f"&cursor={cursor}" if cursor else "")
            page = self.call("GET", q)
            items += page.get("items", [])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return items


def slug(s):
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


EQUIP_KEYS = ("id", "name", "type", "zone", "parent", "vendor", "model", "brick")


def sim_equipment(sim, sim_args=()):
    """The simulator's own equipment entries (sbems-sim --site-json: type,
    zone, parent AHU, Brick class), by device name."""
    out = subprocess.run([sim, *sim_args, "--site-json"], capture_output=True, text=True, check=True)
    return {e["name"]: e for e in json.loads(out.stdout)["equipment"]}


def discover_and_accept(api, sim_devices, equipment, poll_s=30):
    """Finds every simulated BACnet controller and accepts all its points,
    each device's equipment as the simulator describes it (equipment: by
    device name, from sim_equipment())."""
    have = {p["source"]["address"].get("device") for p in api.all_points()
            if p.get("source", {}).get("driver") == "bacnet"}
    by_building = {}
    for d in sim_devices:
        if d["protocol"] == "bacnet/ip" and d["device"] not in have:
            by_building.setdefault(d["building"], []).append(d)
    for building, devs in by_building.items():
        log(f"discovering {len(devs)} BACnet controllers of {building}")
        api.call("POST", "/api/v1/bacnet/discover",
                 {"targets": [f"{d['address']}:{d['port']}" for d in devs], "wait_ms": 1500})
        res = None
        for _ in range(600):
            res = api.call("GET", "/api/v1/bacnet/discover")
            if res.get("status") != "running":
                break
            time.sleep(0.5)
        if res.get("status") not in ("done", "partial"):
            raise SystemExit(f"demo: discovery {res.get('status')}: {json.dumps(res)[:400]}")
        found = {d["device"]: d for d in res["result"]["devices"]}
        missing = [d["name"] for d in devs if d["device"] not in found]
        if missing:
            log(f"not found (will retry at the next start): {', '.join(missing)}")
        eqs, pts = [], []
        for d in devs:
            if d["device"] not in found:
                continue
            fd = found[d["device"]]
            e = {"device": d["device"], **{k: v for k, v in equipment[d["name"]].items() if k in EQUIP_KEYS}}
            eqs.append(e)
            seen = set()
            for p in fd["points"]:
                pid = f"{e['id']}.{slug(p['name'])}"
                if pid in seen:
                    pid += "-" + slug(p["source"]["address"]["object"])
                seen.add(pid)
                pts.append({"device": d["device"], "object": p["source"]["address"]["object"],
                            "id": pid, "poll_s": poll_s})
        if pts:
            r = api.call("POST", "/api/v1/bacnet/discover/accept",
                         {"building": building, "equipment": eqs, "points": pts})
            log(f"accepted {len(r.get('points', []))} points on {len(eqs)} controllers of {building}")


def last_reading_ms(api, points, until_ms):
    """The newest stored reading before until_ms (0: none in the last 31
    days) among a few points: the last hourly bucket, then its raw readings.
    Live readings taken since the simulator started do not count."""
    newest = 0
    for p in points[:10]:
        base = f"/api/v1/points/{p['id']}/history?to={until_ms}"
        r = api.call("GET", f"{base}&from={until_ms - 31 * 86400000}&resolution=1h", ok=(200, 404))
        starts = [b["start"] for b in r.get("buckets", []) if b["start"] < until_ms]
        if not starts:
            continue
        r = api.call("GET", f"{base}&from={max(starts)}&resolution=raw&limit=100000", ok=(200, 404))
        newest = max([newest] + [x["ts"] for x in r.get("samples", []) if x["ts"] < until_ms])
    return newest


def backfill(api, args, until_ms):
    points = api.all_points()
    newest = last_reading_ms(api, points, until_ms)
    days = args.backfill_days
    if newest:
        days = min(days, max(0.0, (until_ms - newest) / 86400e3))
        if days < 1 / 96:
            log("history is up to date: no backfill")
            return
    path = f"{args.data_dir}/demo-points.json"
    with open(path, "w") as f:
        json.dump({"points": points}, f)
    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(until_ms / 1000))
    log(f"backfilling {days:.2f} days of {len(points)} points through sbems ingest")
    t0 = time.monotonic()
    sim = subprocess.Popen([args.sim, *args.sim_args.split(), "--backfill", f"{days:.6f}",
                            "--points", path, "--until", until, "--step", "300"],
                           stdout=subprocess.PIPE)
    ing = subprocess.run([args.sbems, "ingest", "-", "--units", "source", "--data-dir", args.data_dir],
                         stdin=sim.stdout, capture_output=True, text=True)
    sim.stdout.close()
    if sim.wait() != 0 or ing.returncode not in (0, 3):
        raise SystemExit(f"demo: backfill failed (sbems ingest exit {ing.returncode}): {ing.stdout[-400:]} {ing.stderr[-400:]}")
    summary = (ing.stderr.strip().splitlines() or ing.stdout.strip().splitlines() or ["?"])[-1]
    log(f"backfill: {summary.replace('sbems ingest: ', '')} in {time.monotonic() - t0:.1f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--password-file", required=True)
    ap.add_argument("--sbems", required=True)
    ap.add_argument("--sim", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--sim-list", required=True)
    ap.add_argument("--sim-args", default="")
    ap.add_argument("--backfill-days", type=float, default=30)
    ap.add_argument("--until-ms", type=int, default=0)
    args = ap.parse_args()
    with open(args.password_file) as f:
        api = Api(args.url, args.user, f.read().strip())
    with open(args.sim_list) as f:
        devices = json.load(f)
    discover_and_accept(api, devices, sim_equipment(args.sim, args.sim_args.split()))
    backfill(api, args, args.until_ms or int(time.time() * 1000))


if __name__ == "__main__":
    main()
