#!/usr/bin/python3
"""RSS of the real `sbems serve` daemon holding N points (default 10,000).

Builds a site of N points (200 AHU-like pieces of equipment x 50 points,
kinds mixed like a real building), imports it, backfills a day of 1-minute
readings for every point through `sbems ingest` (so every point has open
rollup buckets to hold), starts the daemon, waits until /readyz answers,
reads VmRSS and VmHWM from /proc, and stops it with SIGTERM (by PID).
Prints RESULT lines like the other benchmarks.

The daemon is started twice and measured the second time.  Its first start
in a new data directory creates the initial admin account, and hashing that
password with argon2id (libsodium's interactive limits, auth.password_cost)
takes 64 MiB for a moment, as every sign-in does: that is the price of the
password hash, not of holding points, so it is reported on its own line
(sb_daemon_first_start_hwm_bytes) and kept out of the held-points figure.
"""
import json, os, signal, socket, subprocess, sys, tempfile, time, urllib.request

sbems = sys.argv[1]
npoints = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
work = tempfile.mkdtemp(prefix="sbems-rss-")
data = os.path.join(work, "data")
kinds = [("temperature", "°C"), ("humidity", "%"), ("co2", "ppm"), ("power", "kW"),
         ("energy", "kWh"), ("status", None), ("setpoint", "°C"), ("pressure", "Pa")]
neq = (npoints + 49) // 50
doc = {"format": "sbems-site", "version": 1,
       "sites": [{"id": "s", "name": "Campus"}],
       "buildings": [{"id": "b", "name": "B", "site": "s", "timezone": "America/New_York"}],
       "zones": [], "equipment": [], "points": []}
for e in range(neq):
    doc["equipment"].append({"id": f"eq{e}", "name": f"Unit {e}", "type": "ahu", "building": "b"})
for i in range(npoints):
    k, u = kinds[i % len(kinds)]
    p = {"id": f"eq{i // 50}.p{i % 50}", "name": f"P{i}", "kind": k, "equipment": f"eq{i // 50}"}
    if u:
        p["unit"] = u
    if k == "setpoint":
        p["writable"] = True
    doc["points"].append(p)
site = os.path.join(work, "site.json")
json.dump(doc, open(site, "w"))
run = lambda *a: subprocess.run([sbems, *a, "--data-dir", data], check=True, capture_output=True)
run("import", site)
now = int(time.time()) // 60 * 60000
csv = os.path.join(work, "day.csv")
with open(csv, "w") as f:
    f.write("point,time,value\n")
    for m in range(0, 1440, 5):              # a day at 5-minute steps, every point
        t = now - (1440 - m) * 60000
        for i in range(npoints):
            k = kinds[i % len(kinds)][0]
            v = (m * 10 + i) if k == "energy" else (i % 2 if k == "status" else 20 + (m % 50) / 10)
            f.write(f"eq{i // 50}.p{i % 50},{t},{v}\n")
run("ingest", csv)
def serve():
    """Start the daemon, wait for /readyz; (process, VmRSS, VmHWM)."""
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    p = subprocess.Popen([sbems, "serve", "--data-dir", data, "--listen", f"127.0.0.1:{port}"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1).status == 200:
                break
        except OSError:
            time.sleep(0.1)
    time.sleep(2)
    st = dict(l.split(":", 1) for l in open(f"/proc/{p.pid}/status") if ":" in l)
    kb = lambda k: int(st[k].split()[0]) * 1024
    return p, kb("VmRSS"), kb("VmHWM")


def stop(p):
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=60)


p = None
try:
    p, _, first_hwm = serve()              # creates the admin account (argon2id)
    stop(p)
    p, rss, hwm = serve()
    stop(p)
    p = None
    print(f"RESULT name=sb_daemon_points value={npoints} unit=points")
    print(f"RESULT name=sb_daemon_rss_bytes value={rss} unit=bytes")
    print(f"RESULT name=sb_daemon_hwm_bytes value={hwm} unit=bytes")
    print(f"RESULT name=sb_daemon_first_start_hwm_bytes value={first_hwm} unit=bytes")
finally:
    if p:
        stop(p)
    subprocess.run(["rm", "-rf", work])
