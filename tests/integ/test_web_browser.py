"""The web UI in a real browser: Debian's Chromium, driven by playwright-core
(web/tools/browser-check.mjs), against sbems serving the built UI with the
simulated office's site and a day of its history.  Sign in, portfolio,
building dashboard and zone page at 1280 px and 375 px (dark), no sideways
scrolling on the phone, no console error; screenshots kept in the test's
directory."""
import json
import os
import shutil
import subprocess

from conftest import BIN, FAST, PASSWORD, ROOT, start_daemon

SIM = os.path.join(os.path.dirname(BIN), "sbems-sim")
WEB = os.path.join(ROOT, "web")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def test_ui_in_chromium(sbems, tmp_path):
    missing = [w for w, ok in (("Chromium (scripts/bootstrap check installs it)", os.path.exists(CHROMIUM)),
                               ("node", shutil.which("node")),
                               ("the built UI (make build)", os.path.exists(os.path.join(WEB, "dist", "index.html"))),
                               ("playwright-core (npm ci in web/)",
                                os.path.exists(os.path.join(WEB, "node_modules", "playwright-core"))))
               if not ok]
    assert not missing, "cannot run the browser test without: " + ", ".join(missing)
    site = tmp_path / "site.json"
    site.write_text(subprocess.run([SIM, "--site-json"], capture_output=True, text=True, check=True,
                                   cwd=ROOT, timeout=60).stdout)
    sbems.run("import", str(site))
    bf = subprocess.Popen([SIM, "--backfill", "1", "--points", str(site)], stdout=subprocess.PIPE, cwd=ROOT)
    ing = subprocess.run([BIN, "ingest", "-", "--units", "source", "--data-dir", sbems.data_dir],
                         stdin=bf.stdout, capture_output=True, text=True, timeout=300, env=sbems.env)
    bf.stdout.close()
    assert bf.wait(timeout=60) == 0 and ing.returncode == 0, ing.stderr[-500:]
    sbems.run("user", "add", "ui", "--role", "admin", "--password-stdin", "--set", "auth.password_cost=min",
              stdin=PASSWORD + "\n")
    proc, port = start_daemon(sbems, *FAST, "--set", f"api.web_root={os.path.join(WEB, 'dist')}")
    shots = tmp_path / "shots"
    shots.mkdir()
    p = subprocess.run(["node", "tools/browser-check.mjs", f"http://127.0.0.1:{port}", "ui", PASSWORD,
                        str(shots)], cwd=WEB, capture_output=True, text=True, timeout=240,
                       env=dict(os.environ, CHROMIUM=CHROMIUM))
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
    assert p.returncode == 0 and lines and lines[-1].get("done"), p.stdout[-3000:] + p.stderr[-2000:]
    checks = [x["check"] for x in lines if "check" in x]
    assert sum("no console error" in c for c in checks) == 2 and len(checks) >= 9, checks
    assert {f.name for f in shots.iterdir()} >= {"building-desktop.png", "building-phone.png", "zone-phone.png"}
    proc.terminate()
    assert proc.wait(timeout=30) == 0
