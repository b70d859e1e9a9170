"""Backfill through a running daemon (its control socket), and kill -9 the
daemon in the middle: every reading it acknowledged is in the store."""
import re
import signal
import time

import conftest


from conftest import (CSV_POINTS as POINTS, CSV_START as START, CSV_STEP as STEP,
                      csv_value as value, write_csv)




def start_daemon(site):
    return conftest.start_daemon(site)[0]


def test_ingest_through_daemon(site, tmp_path):
    d = start_daemon(site)
    csv = tmp_path / "a.csv"
    write_csv(csv, 20_000)
    with open(csv, "a") as f:
        f.write("no-such-point,1,2\n")
    r = site.run("ingest", str(csv), check=False)
    assert r.returncode == 3, r.stderr                 # one bad line, reported
    assert "through the daemon" in r.stderr and "line 60002" in r.stderr
    assert "ack readings=60000" in r.stdout
    got = site.query("ahu-2.sat", "--from", str(START), "--to", str(START + 20_000 * STEP))
    assert [g["v"] for g in got] == [value(i, 1) for i in range(20_000)]
    hours = site.query("ahu-2.sat", "--from", str(START), "--to", str(START + 20_000 * STEP),
                       "--res", "1h")
    assert sum(h["n"] for h in hours) == 20_000
    d.send_signal(signal.SIGTERM)
    assert d.wait(timeout=30) == 0


def test_kill9_daemon_during_ingest(site, tmp_path):
    csv = tmp_path / "big.csv"
    rows = 250_000                                      # 750,000 readings
    write_csv(csv, rows)
    d = start_daemon(site)
    c = site.popen("ingest", str(csv))
    acked = 0
    for line in c.stdout:
        m = re.match(r"ack readings=(\d+) lines=(\d+)", line)
        if m:
            acked = int(m.group(2))
            if int(m.group(1)) >= 150_000:
                break
    d.send_signal(signal.SIGKILL)                       # the daemon, not the client
    d.wait(timeout=30)
    assert d.returncode == -signal.SIGKILL
    c.wait(timeout=60)
    assert c.returncode == 1            # the daemon vanished before "done"
    assert acked > 0
    n_rows = (acked - 1) // len(POINTS)
    for k, pt in enumerate(POINTS):
        got = site.query(pt, "--from", str(START), "--to", str(START + rows * STEP))
        have = {g["ts"]: g["v"] for g in got}
        lost = [i for i in range(n_rows) if have.get(START + i * STEP) != value(i, k)]
        assert not lost, f"{pt}: {len(lost)} acknowledged readings lost, first {lost[:5]}"
    # the daemon comes back, replays its head, and takes the rest
    d = start_daemon(site)
    r = site.run("ingest", str(csv))
    assert f"ack readings={3 * rows}" in r.stdout
    got = site.query(POINTS[0], "--from", str(START), "--to", str(START + rows * STEP))
    assert len(got) == rows
    d.send_signal(signal.SIGTERM)
    assert d.wait(timeout=60) == 0


def test_source_units_offline_and_through_daemon(site, tmp_path):
    """ahu-1.sat is declared in degF: --units source converts 68 degF to 20 degC."""
    t0 = START
    csv = tmp_path / "f.csv"
    csv.write_text(f"point,time,value\nahu-1.sat,{t0},68\nahu-1.sat,{t0 + 60000},77\n")
    site.run("ingest", str(csv), "--units", "source")
    got = site.query("ahu-1.sat", "--from", str(t0), "--to", str(t0 + 120000))
    assert [round(g["v"], 9) for g in got] == [20.0, 25.0]
    d = start_daemon(site)
    csv.write_text(f"point,time,value\nahu-1.sat,{t0 + 120000},50\n")
    site.run("ingest", str(csv), "--units", "source")
    got = site.query("ahu-1.sat", "--from", str(t0), "--to", str(t0 + 180000))
    assert [round(g["v"], 9) for g in got] == [20.0, 25.0, 10.0]
    r = site.run("ingest", str(csv), "--units", "kelvin", check=False)
    assert r.returncode == 2 and "--units" in r.stderr
    d.send_signal(signal.SIGTERM)
    assert d.wait(timeout=30) == 0
