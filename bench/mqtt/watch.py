#!/usr/bin/env python3
"""watch.py - follow sbems's ingest counters during one MQTT benchmark phase
and time when each published message became durable.

    watch.py --url http://127.0.0.1:PORT/metrics --target N --done-file F
             --ready-file R [--sendlog LOG [--durable-out F]]
             [--interval-ms 5] [--idle 5] [--timeout 120]

It polls GET /metrics (Prometheus text; public on loopback, no store
access: the counters are read from memory) over one keep-alive connection
every --interval-ms and keeps (wall clock, sbems_ingest_written_total,
sbems_ingest_queue_depth, sbems_driver_readings_total,
sbems_ingest_rejected_total).  The first sample is the baseline: counts are
this phase's; --ready-file is created once it is taken, and the runner
starts the publisher only then.  It stops when written reaches --target, or when --done-file
exists (the publisher finished and wrote its log) and written has not moved for --idle
seconds (a stall or lost messages), or after --timeout seconds.

Latency (--sendlog, written by mqpub -L: "k t_send_us" for every S-th
message): the MQTT driver receives one connection's messages in publish
order (MQTT 3.1.1 s4.6) and pushes them in that order into ingest's one
FIFO queue, which one writer commits in order; so message k (0-based) is
durable at the first sample with written >= k + 1.  Latency = that sample's
time - the send time.  Each value is late by at most one poll interval.  It
holds only without loss or duplicates: with n lost, later messages map to
readings n places further on and seem later; the output says how many
were lost, and the runner flags latencies measured with loss.
--durable-out writes "k t_send_us t_durable_us" per timed message (split.py
splits the latency at the driver with it).

Output: one JSON object on stdout.
"""
import argparse
import http.client
import json
import os
import sys
import time
import urllib.parse


def now_us():
    return time.time_ns() // 1000


def scrape(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read().decode()
    if r.status != 200:
        raise RuntimeError(f"GET {path}: {r.status}")
    want = {"sbems_ingest_written_total": 0, "sbems_ingest_queue_depth": 0,
            "sbems_driver_readings_total": 0, "sbems_ingest_rejected_total": 0}
    for line in body.splitlines():
        name, _, val = line.partition(" ")
        if name in want:
            want[name] = int(float(val))
    return want


def pct(sorted_v, p):
    if not sorted_v:
        return None
    k = max(1, -(-len(sorted_v) * p // 100))      # nearest rank
    return sorted_v[int(k) - 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--target", type=int, required=True)
    ap.add_argument("--done-file", required=True)
    ap.add_argument("--ready-file", required=True)
    ap.add_argument("--sendlog")
    ap.add_argument("--durable-out")
    ap.add_argument("--interval-ms", type=float, default=5)
    ap.add_argument("--idle", type=float, default=5)
    ap.add_argument("--timeout", type=float, default=120)
    a = ap.parse_args()

    u = urllib.parse.urlsplit(a.url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
    base = scrape(conn, u.path)
    open(a.ready_file, "w").close()
    t_begin = time.monotonic()
    samples = []            # (t_us, written, depth, driver, rejected), baseline removed
    last_w, last_change = 0, time.monotonic()
    max_depth, reason = 0, "timeout"
    step = a.interval_ms / 1000
    while True:
        m = scrape(conn, u.path)
        t = now_us()
        w = m["sbems_ingest_written_total"] - base["sbems_ingest_written_total"]
        d = m["sbems_ingest_queue_depth"]
        samples.append((t, w, d,
                        m["sbems_driver_readings_total"] - base["sbems_driver_readings_total"],
                        m["sbems_ingest_rejected_total"] - base["sbems_ingest_rejected_total"]))
        max_depth = max(max_depth, d)
        mono = time.monotonic()
        if w != last_w:
            last_w, last_change = w, mono
        if w >= a.target:
            reason = "target"
            break
        if os.path.exists(a.done_file) and mono - last_change > a.idle:
            reason = "idle"
            break
        if mono - t_begin > a.timeout:
            break
        time.sleep(step)
    conn.close()

    final = samples[-1]
    written = final[1]

    def first_at(n):        # wall clock of the first sample with written >= n
        for s in samples:
            if s[1] >= n:
                return s[0]
        return None

    # The first sample that shows the final count: the end of the phase.
    t_done = first_at(written) if written else None
    out = {"written": written, "driver_readings": final[3], "rejected": final[4],
           "max_depth": max_depth, "polls": len(samples), "stop": reason,
           "t_first_us": first_at(1), "t_10_us": first_at(max(1, a.target // 10)),
           "t_90_us": first_at(a.target - a.target // 10), "t_done_us": t_done,
           "interval_ms": a.interval_ms}
    # Longest time written stood still while readings were waiting (a stall).
    gap, run = 0, samples[0]
    for s in samples[1:]:
        if s[1] != run[1]:
            run = s
        elif s[2] > 0:
            gap = max(gap, s[0] - run[0])
    out["longest_stall_ms"] = round(gap / 1000, 1)

    if a.sendlog:
        # The publisher writes its log when it ends (then the runner makes
        # the done-file); the target may be reached a little before.
        while not os.path.exists(a.done_file) and time.monotonic() - t_begin < a.timeout + 30:
            time.sleep(0.05)
        lat, unmatched, rows = [], 0, []
        i = 0
        try:
            with open(a.sendlog) as f:
                sends = [tuple(int(x) for x in line.split()) for line in f if line.strip()]
        except OSError as e:
            print(f"watch.py: {e}", file=sys.stderr)
            sends = []
        for k, ts in sends:                     # k increasing, samples in time order
            while i < len(samples) and samples[i][1] < k + 1:
                i += 1
            if i == len(samples):
                unmatched += 1
                continue
            lat.append((samples[i][0] - ts) / 1000)
            rows.append(f"{k} {ts} {samples[i][0]}\n")
        if a.durable_out:
            with open(a.durable_out, "w") as f:
                f.writelines(rows)
        lat.sort()
        out["lat_ms"] = {"n": len(lat), "unmatched": unmatched,
                         "p50": pct(lat, 50), "p99": pct(lat, 99),
                         "max": lat[-1] if lat else None}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
