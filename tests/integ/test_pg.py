"""sbems on its PostgreSQL backend, against a real PostgreSQL 15 the test
starts on loopback (pgserver.py).

- the same ingest/query/rollup behaviour as the embedded store, through the
  CLI and the daemon; /readyz names the backend;
- PostgreSQL crashes (immediate stop) in the middle of an ingest and comes
  back: `sbems ingest` keeps acknowledging (batches go to the local spool),
  and every acknowledged reading is in the database afterwards;
- kill -9 of sbems while PostgreSQL is away: the spooled batches survive and
  are moved into the database by the next writer;
- backup with pg_dump and restore with pg_restore into another database;
- the application database in PostgreSQL too (store.appdb = postgres): no
  file in the data directory holds accounts, and a session outlives a
  PostgreSQL crash (the connection is re-established).
"""
import json
import os
import re
import signal
import subprocess
import threading
import time
import urllib.request

import pytest

import conftest
import pgserver

pytestmark = pytest.mark.skipif(not pgserver.available(),
                                reason="PostgreSQL 15 is not installed (scripts/bootstrap check)")

from conftest import (CSV_POINTS as POINTS, CSV_START as START, CSV_STEP as STEP,
                      csv_value as value, csv_rows, write_csv)




def on_pg(sbems, pg, db="sbems"):
    sbems.env["SBEMS_STORE_BACKEND"] = "postgres"
    sbems.env["SBEMS_STORE_URL"] = pg.url(db)
    sbems.env["SBEMS_STORE_NODE"] = "test-node"
    return sbems


def check_all(sbems, rows, upto_rows=None):
    n = rows if upto_rows is None else upto_rows
    for k, pt in enumerate(POINTS):
        got = sbems.query(pt, "--from", str(START), "--to", str(START + rows * STEP))
        have = {g["ts"]: g["v"] for g in got}
        lost = [i for i in range(n) if have.get(START + i * STEP) != value(i, k)]
        assert not lost, f"{pt}: {len(lost)} acknowledged readings lost, first {lost[:5]}"


def test_ingest_query_rollups_and_daemon(sbems, pg, tmp_path):
    on_pg(sbems, pg)
    sbems.run("import", conftest.SITE)
    csv = tmp_path / "a.csv"
    write_csv(csv, 20_000)
    r = sbems.run("ingest", str(csv))
    assert "ack readings=60000" in r.stdout
    # nothing in the data directory but the application's own files: the
    # readings are in PostgreSQL, in the partitioned tables
    assert not os.path.exists(os.path.join(sbems.data_dir, "sbems.db"))
    assert int(pg.psql("SELECT count(*) FROM sb_chunk", "sbems")) >= 3 * 2
    parts = int(pg.psql("SELECT count(*) FROM pg_inherits WHERE inhparent = 'sb_chunk'::regclass",
                        "sbems"))
    assert parts >= 1
    check_all(sbems, 20_000)
    hours = sbems.query("ahu-2.sat", "--from", str(START), "--to", str(START + 20_000 * STEP),
                        "--res", "1h")
    assert sum(h["n"] for h in hours) == 20_000
    # duplicates are idempotent
    sbems.run("ingest", str(csv))
    hours2 = sbems.query("ahu-2.sat", "--from", str(START), "--to", str(START + 20_000 * STEP),
                         "--res", "1h")
    assert hours2 == hours
    # the daemon on the same database: ready, names its backend
    p, port = conftest.start_daemon(sbems)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10) as resp:
        ready = json.loads(resp.read())
    assert ready["status"] == "ready"
    assert ready["store"]["backend"] == "postgres"
    assert ready["store"]["version"].startswith("PostgreSQL 15")
    assert ready["store"]["partitioned"] is True
    assert ready["store"]["timescaledb"] in (True, False)
    # the password-less URL is still never printed
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=60) == 0
    assert "host=127.0.0.1" not in p.stderr.read()



class Acks:
    """Reads `sbems ingest`'s stdout on a thread: the last acknowledged count.
    (The CLI prints acknowledgements as it submits, so a reader that blocked
    on them could stall the writer that feeds its stdin.)"""

    def __init__(self, c):
        self.acked, self.acked_lines, self.lines = 0, 0, []
        self.t = threading.Thread(target=self._run, args=(c,), daemon=True)
        self.t.start()

    def _run(self, c):
        for line in c.stdout:
            self.lines.append(line)
            m = re.match(r"ack readings=(\d+) lines=(\d+)", line)
            if m:
                self.acked, self.acked_lines = int(m.group(1)), int(m.group(2))

    def wait(self, cond, what, timeout=60):
        end = time.monotonic() + timeout
        while not cond():
            assert time.monotonic() < end, "timed out waiting for " + what
            time.sleep(0.05)


def spooled(spool):
    return os.path.isdir(spool) and [f for f in os.listdir(spool) if f.endswith(".batch")]


def test_postgres_restart_mid_ingest_loses_nothing_acknowledged(sbems, pg, tmp_path):
    """The CSV is fed through stdin in phases, so each step happens while the
    ingest runs: acknowledged into PostgreSQL, PostgreSQL crashes, acknowledged
    into the spool, PostgreSQL back, the rest trickles in over the back-off."""
    on_pg(sbems, pg)
    sbems.run("import", conftest.SITE)
    c = sbems.popen("ingest", "-", "--set", "ingest.batch=2048",
                    "--set", "store.flush_samples=20000", stdin=subprocess.PIPE)
    acks = Acks(c)
    spool = os.path.join(sbems.data_dir, "spool")
    phase = 40_000                                  # rows; 120,000 readings
    c.stdin.write("point,time,value\n" + csv_rows(0, phase))
    c.stdin.flush()
    acks.wait(lambda: acks.acked >= 30_000, "acknowledgements into PostgreSQL")
    assert not spooled(spool)
    pg.crash()                                      # PostgreSQL goes away mid-ingest
    c.stdin.write(csv_rows(phase, 2 * phase))
    c.stdin.flush()
    acks.wait(lambda: spooled(spool), "a spooled batch")
    crash_acked = acks.acked
    pg.start()
    # the rest in small steps over a few seconds: the store retries the
    # server after its back-off and moves the spool in while ingest goes on
    step = phase // 8
    for i in range(8):
        c.stdin.write(csv_rows(2 * phase + i * step, 2 * phase + (i + 1) * step))
        c.stdin.flush()
        time.sleep(0.5)
    c.stdin.close()
    assert c.wait(timeout=300) == 0
    acks.t.join(timeout=30)
    err = c.stderr.read()
    assert acks.acked == 9 * phase and crash_acked < acks.acked
    assert "moved into the database" in err, err[-3000:]
    assert not spooled(spool), err[-3000:]
    check_all(sbems, 3 * phase)
    # and in the database itself, not only in memory or a file
    assert int(pg.psql("SELECT count(*) FROM sb_chunk", "sbems")) >= 3


def test_kill9_while_postgres_is_away(sbems, pg, tmp_path):
    on_pg(sbems, pg)
    sbems.run("import", conftest.SITE)
    c = sbems.popen("ingest", "-", "--set", "ingest.batch=2048",
                    "--set", "store.flush_samples=20000", stdin=subprocess.PIPE)
    acks = Acks(c)
    spool = os.path.join(sbems.data_dir, "spool")
    phase = 30_000
    c.stdin.write("point,time,value\n" + csv_rows(0, phase))
    c.stdin.flush()
    acks.wait(lambda: acks.acked >= 20_000, "acknowledgements into PostgreSQL")
    pg.crash()
    c.stdin.write(csv_rows(phase, 2 * phase))
    c.stdin.flush()
    acks.wait(lambda: len(spooled(spool) or []) >= 3, "spooled batches")
    c.send_signal(signal.SIGKILL)
    c.wait(timeout=30)
    acks.t.join(timeout=30)
    assert acks.acked >= 20_000
    rows = (acks.acked_lines - 1) // len(POINTS)   # whole rows acknowledged (line 1: header)
    assert spooled(spool)
    pg.start()
    # a reader sees the spooled batches already (it reads the spool too)
    check_all(sbems, 2 * phase, rows)
    # the next writer moves them into the database
    r = sbems.run("migrate")
    assert "moved into the database" in r.stderr
    assert not spooled(spool)
    check_all(sbems, 2 * phase, rows)


def test_pg_dump_restore(sbems, pg, tmp_path):
    on_pg(sbems, pg)
    sbems.run("import", conftest.SITE)
    csv = tmp_path / "a.csv"
    write_csv(csv, 5_000)
    sbems.run("ingest", str(csv))
    r = sbems.run("backup", str(tmp_path / "x.db"), check=False)
    assert r.returncode != 0 and "pg_dump" in r.stderr    # says how instead
    dump = tmp_path / "sbems.dump"
    r = pg.tool("pg_dump", "-Fc", "-f", str(dump), "-d", pg.url("sbems"))
    assert r.returncode == 0, r.stderr
    pg.psql("CREATE DATABASE restored")
    r = pg.tool("pg_restore", "--no-owner", "-d", pg.url("restored"), str(dump))
    assert r.returncode == 0, r.stderr
    other = conftest.Sbems(tmp_path / "other")
    on_pg(other, pg, "restored")
    check_all(other, 5_000)


def test_appdb_on_postgres_survives_a_crash(sbems, pg, tmp_path):
    """Accounts, sessions and the audit log in PostgreSQL: made by the CLI,
    used by the daemon, nothing of them in the data directory; PostgreSQL
    crashes and comes back under a running daemon: the session renews (the
    connection is re-established) and the log holds both sides."""
    on_pg(sbems, pg)
    sbems.env["SBEMS_STORE_APPDB"] = "postgres"
    sbems.run("user", "add", "ann", "--role", "admin", "--password-stdin",
              "--set", "auth.password_cost=min", stdin=conftest.PASSWORD + "\n")
    assert pg.psql("SELECT username FROM app_users", "sbems") == "ann"
    p, port = conftest.start_daemon(sbems, "--set", "auth.password_cost=min")
    base = f"http://127.0.0.1:{port}/api/v1"

    def post(path, body):
        req = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, None

    try:
        st, tok = post("/auth/login", {"username": "ann", "password": conftest.PASSWORD})
        assert st == 200
        # the user existed: no first-start admin was made, and no account file
        assert not os.path.exists(os.path.join(sbems.data_dir, "initial-admin-password"))
        assert not os.path.exists(os.path.join(sbems.data_dir, "sbems.db"))
        pg.crash()
        st, _ = post("/auth/refresh", {"refresh_token": tok["refresh_token"]})
        assert st in (500, 503), st                  # the database is away: refused, not hung
        pg.start()
        st, tok2 = post("/auth/refresh", {"refresh_token": tok["refresh_token"]})
        assert st == 200, st
        st, _ = post("/auth/refresh", {"refresh_token": tok["refresh_token"]})
        assert st == 401                             # rotated: the old one is spent
        rows = pg.psql("SELECT action || ' ' || result FROM app_audit ORDER BY id", "sbems")
        assert "auth.login ok" in rows and "auth.token_reuse denied" in rows, rows
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=60) == 0
    assert "host=127.0.0.1" not in p.stderr.read()
