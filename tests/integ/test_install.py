"""`make install` lays out a working sbems: the installed programs, run from
an unrelated directory, find what they ship (the web UI, device profiles,
the simulator's weather) beside their bin/ (src/core/paths.h), and the
installed daemon serves the installed UI."""
import os
import subprocess
import json

import requests

from conftest import BIN, FAST, ROOT, start_daemon


def test_make_install(sbems, tmp_path):
    dest = tmp_path / "dest"
    p = subprocess.run(["make", "--no-print-directory", "install-files", f"OUT={os.path.dirname(BIN)}",
                        f"DESTDIR={dest}", "PREFIX=/opt/sbems"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    pre = dest / "opt" / "sbems"
    for f in ("bin/sbems", "bin/sbems-sim", "share/sbems/web/index.html", "share/sbems/profiles/eastron-sdm630.json",
              "share/sbems/sim/weather/SOURCE.md", "share/doc/sbems/README.md", "share/doc/sbems/docs/api.md"):
        assert (pre / f).exists(), f
    assert os.access(pre / "bin" / "sbems", os.X_OK)
    assert (pre / "share/sbems/web/index.html").stat().st_mode & 0o777 == 0o644

    # the installed simulator, from an empty directory, finds its weather and the profiles
    work = tmp_path / "elsewhere"
    work.mkdir()
    r = subprocess.run([str(pre / "bin/sbems-sim"), "--drivers-json"], cwd=work, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["modbus"]["profiles"] == str(pre / "share/sbems/profiles")
    r = subprocess.run([str(pre / "bin/sbems-sim"), "--site-json"], cwd=work, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and len(json.loads(r.stdout)["zones"]) == 15, r.stderr

    # the installed daemon serves the installed UI (no web_root given)
    sbems.bin = str(pre / "bin/sbems")
    proc, port = start_daemon(sbems, *FAST)
    page = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
    assert page.status_code == 200 and '<div id="root">' in page.text, page.text[:300]
    assert page.text == (pre / "share/sbems/web/index.html").read_text()
    proc.terminate()
    assert proc.wait(timeout=30) == 0
