"""The web UI in a real browser against a live simulated building: Debian's
Chromium driven by playwright-core (web/tools/browser-check.mjs), sbems (ASan
build) serving the built UI, sbems-sim's office on BACnet/Modbus/MQTT/REST on
this test's loopback block with a day of history, a Mosquitto of its own.

The browser signs in (keyboard only), audits every page with axe-core (WCAG
2.1 AA, light and dark), tabs through every control, sees a live value
change, changes a zone setpoint and watches the simulated zone cool, exports
a chart as CSV, tours the pages at 375, 768 and 1440 px and as a viewer finds
no control.  Screenshots are kept in the test's directory."""
import json
import os
import shutil
import signal
import socket
import subprocess

import requests

from conftest import BIN, FAST, PASSWORD, ROOT, free_port, start_daemon, wait_for

SIM = os.path.join(os.path.dirname(BIN), "sbems-sim")
WEB = os.path.join(ROOT, "web")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NET = "127.0.8"                      # this test's block of loopback addresses
POLL_S = 2


def udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sim_json(cfg, *args):
    p = subprocess.run([SIM, "--config", str(cfg), *args], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def test_ui_in_chromium(sbems, tmp_path, broker):
    missing = [w for w, ok in (("Chromium (scripts/bootstrap check installs it)", os.path.exists(CHROMIUM)),
                               ("node", shutil.which("node")),
                               ("the built UI (make build)", os.path.exists(os.path.join(WEB, "dist", "index.html"))),
                               ("playwright-core and axe-core (npm ci in web/)",
                                all(os.path.exists(os.path.join(WEB, "node_modules", m))
                                    for m in ("playwright-core", "axe-core"))))
               if not ok]
    assert not missing, "cannot run the browser test without: " + ", ".join(missing)

    # the simulated office, accelerated 60x so a setpoint change shows within a minute
    cfg = tmp_path / "sim.json"
    cfg.write_text(json.dumps({
        "speed": 60, "mqtt": {"host": "127.0.0.1", "port": broker, "period_s": POLL_S},
        "profile_dir": os.path.join(ROOT, "profiles"),
        "sites": [{"bacnet": {"ip_base": f"{NET}.20", "port": 47808},
                   "modbus": {"ip_base": f"{NET}.60", "port": free_port()},
                   "http": {"ip": f"{NET}.10", "port": free_port()}}]}))
    doc = sim_json(cfg, "--site-json")
    for p in doc["points"]:
        p["source"]["poll_s"] = POLL_S
    site = tmp_path / "site.json"
    site.write_text(json.dumps(doc))
    sbems.run("import", str(site))
    drv = sim_json(cfg, "--drivers-json")
    drv["bacnet"].update(bind="127.0.0.1", port=udp_port(), apdu_timeout_ms=500, retries=1, cov_heartbeat_s=5)
    dj = tmp_path / "data" / "drivers.json"
    dj.write_text(json.dumps(drv))
    dj.chmod(0o600)

    # a day of history, so charts and exports have rows
    bf = subprocess.Popen([SIM, "--config", str(cfg), "--backfill", "1", "--points", str(site)],
                          stdout=subprocess.PIPE, cwd=ROOT)
    ing = subprocess.run([BIN, "ingest", "-", "--units", "source", "--data-dir", sbems.data_dir],
                         stdin=bf.stdout, capture_output=True, text=True, timeout=300, env=sbems.env)
    bf.stdout.close()
    assert bf.wait(timeout=60) == 0 and ing.returncode == 0, ing.stderr[-500:]
    for name, role, grant in (("ui", "admin", ()), ("vw", "viewer", ("--grant", "building:hpo"))):
        sbems.run("user", "add", name, "--role", role, *grant, "--password-stdin", "--set",
                  "auth.password_cost=min", stdin=PASSWORD + "\n")

    # a working morning in the simulated building, whatever the wall clock: outside
    # occupancy its AHUs' fans are off and zones do not answer a setpoint quickly
    sim = subprocess.Popen([SIM, "--start", "2026-07-15T14:00:00Z", "--config", str(cfg)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, cwd=ROOT)
    try:
        assert '"ready"' in sim.stdout.readline()
        proc, port = start_daemon(sbems, *FAST, "--set", "drivers.stale_factor=3",
                                  "--set", f"api.web_root={os.path.join(WEB, 'dist')}", drivers=True)
        # a rule that fires on the live building at once (discharge air is ~13 degC), for
        # the browser to find and acknowledge the alert
        base = f"http://127.0.0.1:{port}"
        tok = requests.post(base + "/api/v1/auth/login", json={"username": "ui", "password": PASSWORD},
                            timeout=30).json()["access_token"]
        h = {"Authorization": "Bearer " + tok}
        alert_name = "Browser test: AHU-1 discharge air above 5 °C"
        r = requests.post(base + "/api/v1/alert-rules", headers=h, timeout=30, json={
            "id": "ui-sat", "name": alert_name, "type": "threshold", "point": "ahu-1.discharge-air-temp",
            "severity": "major", "above": 5})
        assert r.status_code == 201, r.text
        assert wait_for(lambda: requests.get(base + "/api/v1/alerts", headers=h, timeout=30).json()["items"],
                        timeout=60, step=1), "the rule did not fire"
        shots = tmp_path / "shots"
        shots.mkdir()
        p = subprocess.run(["node", "tools/browser-check.mjs", f"http://127.0.0.1:{port}", str(shots)],
                           cwd=WEB, capture_output=True, text=True, timeout=600,
                           env=dict(os.environ, CHROMIUM=CHROMIUM, SBEMS_ADMIN=f"ui:{PASSWORD}",
                                    SBEMS_VIEWER=f"vw:{PASSWORD}", CHECK_ALERT_NAME=alert_name))
        lines = [json.loads(x) for x in p.stdout.splitlines() if x.startswith("{")]
        print("\n".join(json.dumps(x) for x in lines))
        assert p.returncode == 0 and lines and lines[-1].get("done"), p.stdout[-3000:] + p.stderr[-2000:]
        checks = [x["check"] for x in lines if "check" in x]
        for want in ("initial JavaScript within budget", "sign-in with the keyboard alone",
                     "a live value changes on screen", "setpoint change confirmed by the device",
                     "the simulated zone responds", "CSV export downloads real rows",
                     "alert acknowledged in the UI"):
            assert want in checks, (want, checks)
        assert sum("axe-core" in c for c in checks) >= 6 and sum("keyboard reaches" in c for c in checks) >= 3
        for tag in ("phone", "tablet", "desktop", "viewer"):
            assert any(c.startswith(f"{tag}: ") and "no console error" in c for c in checks), (tag, checks)
        # the server agrees: acknowledged by the browser's user
        alerts = requests.get(base + "/api/v1/alerts?state=all", headers=h, timeout=30).json()["items"]
        assert any(a["rule"] == "ui-sat" and a["acknowledged_by"] == "ui" for a in alerts), alerts
        names = {f.name for f in shots.iterdir()}
        assert {f"{pg}-{tag}.png" for pg in ("portfolio", "building", "zone")
                for tag in ("phone", "tablet", "desktop", "viewer")} <= names, names
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()[-3000:]
    finally:
        sim.send_signal(signal.SIGTERM)
        sim.wait(timeout=20)
