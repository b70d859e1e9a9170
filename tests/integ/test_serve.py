"""The daemon: starts, answers health probes, refuses bad configuration,
keeps other writers out, and stops cleanly on SIGTERM."""
import json
import signal
import urllib.request

from conftest import SITE, start_daemon


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_serve_health_and_clean_stop(site, tmp_path):
    p, port = start_daemon(site)
    assert get(port, "/healthz")[0] == 200
    st, body = get(port, "/readyz")
    assert st == 200, body
    # a second writer is refused while the daemon holds the store
    r = site.run("import", SITE, check=False)
    assert r.returncode != 0 and "in use" in r.stderr
    # readers and backups work beside it
    assert site.run("query", "ahu-1.sat", "--latest").returncode == 0
    site.run("backup", str(tmp_path / "b.db"))
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=30) == 0
    assert "stopped" in p.stderr.read()


def test_bad_config_refuses_to_start(sbems, tmp_path):
    conf = tmp_path / "sbems.conf"
    conf.write_text("store.sync = fast\n")
    r = sbems.run("serve", "--config", str(conf), check=False, timeout=30)
    assert r.returncode != 0
    assert "store.sync" in r.stderr and "fast" in r.stderr and "full" in r.stderr
    r = sbems.run("serve", "--set", "ingest.queue=5", check=False, timeout=30)
    assert r.returncode != 0 and "ingest.queue" in r.stderr
    r = sbems.run("serve", "--listen", "127.0.0.1:99999", check=False, timeout=30)
    assert r.returncode != 0 and "listen" in r.stderr


def test_env_overrides_file(sbems, tmp_path):
    conf = tmp_path / "sbems.conf"
    conf.write_text("store.sync = full\n")
    sbems.env["SBEMS_STORE_SYNC"] = "normal"
    out = sbems.run("config", "--config", str(conf), "--dump").stdout
    line = next(l for l in out.splitlines() if l.startswith("store.sync"))
    assert "normal" in line and "env" in line
