#!/usr/bin/env python3
"""split.py - check what one MQTT benchmark daemon stored and split its
end-to-end latency at the driver.

    split.py --csv QUERY.csv --points 1000 [--phase NAME:DURABLE_FILE]...

QUERY.csv is `sbems query 1..P --format csv` (point slug, time, value,
quality) over the run.  Every value is a send time in ms with a microsecond
fraction (mqpub.c), so (point, value) names one published message: a
second row with the same pair is a duplicate (a QoS 1 redelivery stamped
with a new arrival time).  A row's time is when the MQTT driver pushed the
value (the framework stamps readings without a source time on arrival,
src/drivers/manager.c sb_drv_push: sb_now_ms(), whole milliseconds).

Each DURABLE_FILE (watch.py --durable-out) lists "k t_send_us t_durable_us"
for the timed messages of a phase; message k went to point k % P + 1
(mqpub.c).  For each, the stored row gives the arrival time, and:
    arrival = arrival time - send time    (publisher, broker, driver)
    inside  = durable time - arrival time (ingest queue, store commit)
Both are in ms; arrival has the store's 1 ms resolution (it can read up to
1 ms low, even slightly negative), inside the same plus watch.py's poll.

Output: one JSON object: {"rows":R,"duplicates":D,"<phase>":{"n":..,
"missing":timed messages not in the store,"arrival_ms":{p50,p99,max},
"inside_ms":{p50,p99,max}},...}.
"""
import argparse
import csv
import datetime
import json
import sys


def pct(v, p):
    if not v:
        return None
    k = max(1, -(-len(v) * p // 100))
    return round(v[int(k) - 1], 3)


def stats(v):
    v.sort()
    return {"p50": pct(v, 50), "p99": pct(v, 99), "max": round(v[-1], 3) if v else None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--csv", required=True)
    ap.add_argument("--points", type=int, required=True)
    ap.add_argument("--phase", action="append", default=[])
    a = ap.parse_args()

    minute = {}         # "YYYY-MM-DDTHH:MM" -> epoch ms (parsing every row is slow)

    def ms(ts):         # "2026-11-27T14:42:35.146Z" -> epoch ms
        key = ts[:16]
        b = minute.get(key)
        if b is None:
            d = datetime.datetime.strptime(key, "%Y-%m-%dT%H:%M").replace(
                tzinfo=datetime.timezone.utc)
            b = minute[key] = int(d.timestamp()) * 1000
        return b + round(float(ts[17:].rstrip("Z")) * 1000)

    arrival = {}        # (slug, send time us) -> arrival ms
    rows = dups = 0
    with open(a.csv, newline="") as f:
        r = csv.reader(f)
        next(r, None)
        for slug, t, v, _q in r:
            rows += 1
            key = (slug, round(float(v) * 1000))
            if key in arrival:
                dups += 1
            else:
                arrival[key] = ms(t)
    out = {"rows": rows, "duplicates": dups}

    def slug(k):
        p = k % a.points + 1
        return "eq%02d.p%04d" % ((p - 1) // 50, p)

    for spec in a.phase:
        name, _, path = spec.partition(":")
        arr, ins, missing = [], [], 0
        with open(path) as f:
            for line in f:
                k, ts, td = (int(x) for x in line.split())
                t = arrival.get((slug(k), ts))
                if t is None:
                    missing += 1
                    continue
                arr.append(t - ts / 1000)
                ins.append(td / 1000 - t)
        out[name] = {"n": len(arr), "missing": missing, "arrival_ms": stats(arr),
                     "inside_ms": stats(ins)}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
