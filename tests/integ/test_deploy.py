"""The deployment files of deploy/ (deploy/README.md), checked with the real
tools where this machine has them, and the operations docs/operations.md
describes:

- deploy/nginx.conf: `nginx -t` on a copy with the upstream and the
  certificate paths substituted (the shipped file names the compose service
  `sbems` and the image's /etc/nginx/certs), then that nginx run for real in
  front of a real sbems: the redirect, TLS, HSTS, the refresh cookie made
  Secure, /metrics not published, the WebSocket through the proxy;
- deploy/sbems.service: `systemd-analyze verify` (no unknown directive) and
  `systemd-analyze --offline=true security` on a copy whose ExecStart names
  the binary under test; MemoryDenyWriteExecute=yes checked by running the
  daemon under the kernel's equivalent (prctl PR_SET_MDWE, Linux >= 6.3);
- deploy/docker-compose.yml: `docker-compose config` (Debian's 1.29) or
  `docker compose config` when either exists; every SBEMS_* variable it sets
  and every key of deploy/sbems.conf is a real option;
- deploy/Dockerfile: its runtime stage installs the package of every shared
  library the built binaries need (readelf + dpkg -S);
- backup and restore as docs/operations.md tells it: `sbems backup` while the
  daemon runs and takes readings, the file restored into a fresh data
  directory, the same user signs in and reads the same readings back.

Not here: `make install-files` + running the installed binary is
test_install.py's; no image is built and no container started (that needs a
Docker engine).
"""
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest
import requests

from conftest import BIN, FAST, PASSWORD, ROOT, Sbems, free_port, start_daemon, wait_for

DEPLOY = os.path.join(ROOT, "deploy")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"


def read(name):
    with open(os.path.join(DEPLOY, name)) as f:
        return f.read()


def make_cert(d):
    key, crt = d / "privkey.pem", d / "fullchain.pem"
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(crt)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return crt


def nginx_copy(tmp_path, upstream, http_port=None, https_port=None):
    """deploy/nginx.conf with what only exists in the compose network replaced."""
    certs = tmp_path / "certs"
    certs.mkdir()
    make_cert(certs)
    conf = read("nginx.conf")
    subs = [("server sbems:8080;", f"server {upstream};"),
            ("/etc/nginx/certs/", f"{certs}/"),
            ("pid /tmp/nginx.pid;", f"pid {tmp_path}/nginx.pid;")]
    if os.geteuid() != 0:     # `user` means nothing (and warns) without root
        subs.append(("user nginx;", ""))
    elif not has_user("nginx"):   # the image's user; Debian's package has www-data
        subs.append(("user nginx;", "user www-data;" if has_user("www-data") else "user nobody;"))
    if http_port:
        subs += [("listen 80;", f"listen 127.0.0.1:{http_port};"), ("listen [::]:80;", ""),
                 ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
                 ("listen [::]:443 ssl;", "")]
    for a, b in subs:
        assert a in conf, a
        conf = conf.replace(a, b)
    out = tmp_path / "nginx.conf"
    out.write_text(conf)
    return out


def has_user(name):
    import pwd
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (scripts/bootstrap check: nginx-light)")


@needs_nginx
def test_nginx_config_is_valid(tmp_path):
    conf = nginx_copy(tmp_path, "127.0.0.1:8080")
    p = subprocess.run([NGINX, "-t", "-e", "stderr", "-c", str(conf)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    assert "syntax is ok" in p.stderr and "test is successful" in p.stderr, p.stderr
    assert "[warn]" not in p.stderr, p.stderr
    # the body limit is sbems's own (api.max_body), kept equal on both sides
    assert "client_max_body_size 4m;" in read("nginx.conf")
    assert re.search(r"^api\.max_body = 4m$", read("sbems.conf"), re.M)


@needs_nginx
def test_nginx_in_front_of_sbems(site, tmp_path):
    site.run("user", "add", "ann", "--role", "admin", "--password-stdin", "--set",
             "auth.password_cost=min", stdin=PASSWORD + "\n")
    import urllib3
    urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)   # our own self-signed pair
    proc, port = start_daemon(site, *FAST)
    http_port, https_port = free_port(), free_port()
    conf = nginx_copy(tmp_path, f"127.0.0.1:{port}", http_port, https_port)
    ng = subprocess.Popen([NGINX, "-e", "stderr", "-c", str(conf), "-g", "daemon off;"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", https_port)) == 0, timeout=10), \
            ng.stderr.read() if ng.poll() is not None else "nginx did not listen"
        base = f"https://127.0.0.1:{https_port}"
        r = requests.get(f"http://127.0.0.1:{http_port}/healthz", allow_redirects=False, timeout=10)
        assert r.status_code == 301 and r.headers["Location"].startswith("https://"), r.headers
        r = requests.get(base + "/healthz", verify=False, timeout=10)
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        assert r.headers["Strict-Transport-Security"].startswith("max-age=")
        assert r.headers["X-Frame-Options"] == "DENY"                 # sbems's, once
        assert r.headers["Server"] == "nginx"                          # server_tokens off: no version
        assert requests.get(base + "/readyz", verify=False, timeout=10).status_code == 200
        assert requests.get(base + "/metrics", verify=False, timeout=10).status_code == 404
        r = requests.post(base + "/api/v1/auth/login", json={"username": "ann", "password": PASSWORD},
                          verify=False, timeout=30)
        assert r.status_code == 200, r.text
        cookie = r.headers["Set-Cookie"]
        assert cookie.startswith("sbems_rt=") and "secure" in cookie.lower() and "HttpOnly" in cookie, cookie
        token = r.json()["access_token"]
        # a body over the limit is refused by nginx already
        r = requests.post(base + "/api/v1/readings", data=b"x" * (5 << 20), verify=False, timeout=30,
                          headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
        assert r.status_code == 413

        # the WebSocket through the proxy, with the browser's Origin of the proxy
        import websockets
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE

        async def go():
            ws = await websockets.connect(f"wss://127.0.0.1:{https_port}/api/v1/ws", ssl=ctx,
                                          origin=f"https://127.0.0.1:{https_port}")
            await ws.send(json.dumps({"type": "auth", "token": token}))
            m = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert m["type"] == "ready", m
            await ws.send(json.dumps({"type": "ping"}))
            m = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert m["type"] == "pong", m
            await ws.close()
            # another site's page may not open it through the proxy either
            with pytest.raises((websockets.InvalidHandshake, EOFError, OSError)):
                await websockets.connect(f"wss://127.0.0.1:{https_port}/api/v1/ws", ssl=ctx,
                                         origin="https://evil.example")
        asyncio.run(asyncio.wait_for(go(), 60))
    finally:
        ng.send_signal(signal.SIGQUIT)
        try:
            ng.wait(timeout=15)
        except subprocess.TimeoutExpired:
            ng.kill()
            ng.wait(timeout=15)
    proc.terminate()
    assert proc.wait(timeout=30) == 0


# ---- systemd ---------------------------------------------------------------

needs_systemd_analyze = pytest.mark.skipif(not os.path.exists(SYSTEMD_ANALYZE),
                                           reason="systemd-analyze is not installed (package systemd)")


def unit_copy(tmp_path):
    """deploy/sbems.service with ExecStart on the binary under test (verify
    insists the program exists)."""
    binary = tmp_path / "sbems"
    shutil.copy(BIN, binary)
    unit = read("sbems.service")
    assert "ExecStart=/usr/local/bin/sbems serve --config /etc/sbems/sbems.conf" in unit
    path = tmp_path / "sbems.service"
    path.write_text(unit.replace("/usr/local/bin/sbems", str(binary)))
    return path


@needs_systemd_analyze
def test_systemd_unit_verifies(tmp_path):
    unit = unit_copy(tmp_path)
    p = subprocess.run([SYSTEMD_ANALYZE, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    out = p.stdout + p.stderr
    assert p.returncode == 0, out
    bad = [l for l in out.splitlines()
           if re.search(r"Unknown (key|section|lvalue)|ignoring|Invalid|Failed to parse|not executable", l)]
    assert not bad, out
    # the flag sbems really has
    r = subprocess.run([BIN, "serve", "--help"], capture_output=True, text=True, timeout=30)
    assert "--config FILE" in r.stdout + r.stderr


@needs_systemd_analyze
def test_systemd_unit_exposure(tmp_path):
    unit = unit_copy(tmp_path)
    p = subprocess.run([SYSTEMD_ANALYZE, "--offline=true", "security", str(unit)], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0 and "offline" in p.stderr:
        pytest.skip("this systemd-analyze has no --offline (systemd < 250)")
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout)
    assert m, p.stdout + p.stderr
    assert float(m.group(1)) <= 2.0, p.stdout


def test_daemon_runs_without_wx_memory(site, tmp_path):
    """MemoryDenyWriteExecute=yes in the unit: the daemon, under the kernel's
    PR_SET_MDWE (inherited across exec), starts, signs in (argon2id), takes
    readings, serves history and an XLSX export."""
    # in a child: the setting cannot be undone in this process
    probe = subprocess.run(["/usr/bin/python3", "-c",
                            "import ctypes,sys; sys.exit(0 if ctypes.CDLL(None).prctl(65,1,0,0,0)==0 else 1)"])
    if probe.returncode != 0:
        pytest.skip("prctl(PR_SET_MDWE) unsupported (Linux < 6.3)")
    # a W+X mapping is refused under it: the check below means something
    neg = subprocess.run(["/usr/bin/python3", "-c",
                          "import ctypes,mmap; assert ctypes.CDLL(None).prctl(65,1,0,0,0)==0\n"
                          "mmap.mmap(-1, 4096, prot=mmap.PROT_READ|mmap.PROT_WRITE|mmap.PROT_EXEC)"],
                         capture_output=True, text=True)
    assert neg.returncode != 0 and "Permission denied" in neg.stderr, neg.stderr
    site.run("user", "add", "ann", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    # the wrapper turns W^X on for itself, then execs sbems serve
    wrapper = ("import ctypes,os,sys\n"
               "assert ctypes.CDLL(None).prctl(65,1,0,0,0)==0\n"
               "os.execv(sys.argv[1], sys.argv[1:])\n")
    port = free_port()
    cmd = ["/usr/bin/python3", "-c", wrapper, site.bin, "serve", "--data-dir", site.data_dir,
           "--listen", f"127.0.0.1:{port}", "--set", "drivers.enabled=false"]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=site.env)
    site.procs.append(p)
    try:
        line = ""
        for _ in range(5):
            line = p.stdout.readline()
            if "listening" in line or not line:
                break
        assert f"127.0.0.1:{port}" in line, line + (p.stderr.read() if p.poll() is not None else "")
        base = f"http://127.0.0.1:{port}"
        r = requests.post(base + "/api/v1/auth/login", json={"username": "ann", "password": PASSWORD},
                          timeout=30)
        assert r.status_code == 200, r.text
        h = {"Authorization": "Bearer " + r.json()["access_token"]}
        t0 = (int(time.time()) // 3600 - 2) * 3600 * 1000
        rd = [{"point": "ahu-1.sat", "t": t0 + i * 60000, "v": 12.5 + i / 10} for i in range(10)]
        r = requests.post(base + "/api/v1/readings", json={"readings": rd}, headers=h, timeout=30)
        assert r.status_code == 200, r.text
        r = requests.get(base + f"/api/v1/points/ahu-1.sat/history?from={t0}&to={t0 + 3600000}",
                         headers=h, timeout=30)
        assert r.status_code == 200, r.text
        r = requests.get(base + f"/api/v1/export?points=ahu-1.sat&from={t0}&to={t0 + 3600000}&format=xlsx",
                         headers=h, timeout=30)
        assert r.status_code == 200 and r.content[:2] == b"PK", r.text[:200]
    finally:
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
    assert rc == 0, p.stderr.read()


# ---- compose and the image -------------------------------------------------

def compose_tool():
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker"):
        p = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True, timeout=30)
        if p.returncode == 0:
            return ["docker", "compose"]
    return None


def test_compose_config():
    tool = compose_tool()
    if tool is None:
        pytest.skip("no docker-compose or docker compose plugin (Debian: apt-get install docker-compose)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POSTGRES_", "REDIS_", "COMPOSE_"))}
    # refused without the secrets: none is in the file
    p = subprocess.run([*tool, "-f", "docker-compose.yml", "config", "-q"], cwd=DEPLOY, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "POSTGRES_PASSWORD" in p.stdout + p.stderr, p.stdout + p.stderr
    env.update(POSTGRES_PASSWORD="pw-under-test", REDIS_PASSWORD="redis-under-test")
    p = subprocess.run([*tool, "-f", "docker-compose.yml", "config"], cwd=DEPLOY, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    import yaml
    doc = yaml.safe_load(p.stdout)
    assert set(doc["services"]) == {"sbems", "postgres", "redis", "mosquitto", "nginx"}
    for name, svc in doc["services"].items():
        assert "healthcheck" in svc, name
    sb = doc["services"]["sbems"]
    assert sb["environment"]["SBEMS_STORE_BACKEND"] == "postgres"
    assert sb["environment"]["SBEMS_STORE_APPDB"] == "postgres"
    assert "password=pw-under-test" in sb["environment"]["SBEMS_STORE_URL"]
    assert "host=postgres" in sb["environment"]["SBEMS_STORE_URL"]
    assert sb["build"]["dockerfile"] == "deploy/Dockerfile"
    assert doc["services"]["postgres"]["image"] == "postgres:15"
    assert doc["services"]["redis"]["image"] == "redis:7"
    assert sb["environment"]["SBEMS_REDIS_URL"] == "redis://:redis-under-test@redis:6379/0"
    # only nginx, at its fixed address on the project's network, may forward addresses
    ng = doc["services"]["nginx"]
    assert sb["environment"]["SBEMS_API_TRUSTED_PROXIES"] == \
        ng["networks"]["default"]["ipv4_address"] == "172.30.42.10"
    assert doc["networks"]["default"]["ipam"]["config"][0]["subnet"] == "172.30.42.0/24"
    assert doc["services"]["mosquitto"]["image"] == "eclipse-mosquitto:2"
    assert doc["services"]["nginx"]["image"] == "nginx:stable"
    assert "version" not in yaml.safe_load(read("docker-compose.yml"))


def test_deploy_settings_are_real_options(sbems):
    """deploy/sbems.conf and the SBEMS_* variables of docker-compose.yml name
    options of src/core/conf.c: sbems takes them and says where each came from."""
    env_vars = sorted(set(re.findall(r"^\s+(SBEMS_[A-Z0-9_]+):", read("docker-compose.yml"), re.M)))
    assert "SBEMS_STORE_URL" in env_vars and "SBEMS_STORE_BACKEND" in env_vars
    for v in env_vars:
        sbems.env[v] = "sqlite" if v in ("SBEMS_STORE_BACKEND", "SBEMS_STORE_APPDB") else (   # names, not values, are checked
            "info" if v == "SBEMS_LOG_LEVEL" else "redis://redis:6379/0" if v == "SBEMS_REDIS_URL"
            else "10.0.0.0/8" if v == "SBEMS_API_TRUSTED_PROXIES" else "host=postgres dbname=sbems")
    r = sbems.run("config", "--config", os.path.join(DEPLOY, "sbems.conf"), "--dump", check=False)
    assert r.returncode == 0, r.stderr
    dump = {l.split("=", 1)[0].strip(): l for l in r.stdout.splitlines() if "=" in l}
    for v in env_vars:
        cand = [k for k in dump if k.replace(".", "_").replace("-", "_").upper() == v[len("SBEMS_"):]]
        assert cand, v
        assert "env" in dump[cand[0]], dump[cand[0]]
    for key in re.findall(r"^([a-z0-9_.]+)\s*=", read("sbems.conf"), re.M):
        # from the file, unless the environment (compose) or the fixture's --data-dir override it
        assert key in dump and re.search(r"# (file \S*sbems\.conf|env |command line)", dump[key]), \
            (key, dump.get(key))


def depends_closure(pkgs, bound=2000):
    """The packages apt installs with pkgs: their Depends and PreDepends, as
    this machine's dpkg knows them (installed packages only), recursively.
    A library of a dependency (libCoinUtils of coinor-libclp1) comes with
    it; a build that keeps every NEEDED entry (the sanitizer build links
    without --as-needed) names such libraries too."""
    seen, queue = set(), list(pkgs)
    while queue and len(seen) < bound:
        p = queue.pop()
        if p in seen:
            continue
        seen.add(p)
        out = subprocess.run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", p],
                             capture_output=True, text=True, timeout=30).stdout
        for alt in out.split(","):
            for d in alt.split("|"):
                name = d.strip().split(" ")[0].split(":")[0]
                if name and name not in seen:
                    queue.append(name)
    return seen


def test_dockerfile_runtime_has_every_library():
    """Every shared library the built programs load comes from a package the
    runtime stage installs (or the base image's libc6)."""
    text = read("Dockerfile")
    runtime = text[text.index("FROM debian:12-slim"):]
    m = re.search(r"apt-get install -y -qq --no-install-recommends \\\n(.*?)\\\n && rm", runtime, re.S)
    assert m, "runtime apt-get install line"
    pkgs = set(m.group(1).replace("\\", " ").split())
    assert {"libwebsockets-evlib-uv", "tzdata", "ca-certificates", "curl"} <= pkgs
    if not shutil.which("dpkg") or not shutil.which("readelf"):
        pytest.skip("dpkg or readelf missing")
    want = set()
    for prog in (BIN, os.path.join(os.path.dirname(BIN), "sbems-sim")):
        if not os.path.exists(prog):
            continue
        d = subprocess.run(["readelf", "-d", prog], capture_output=True, text=True, timeout=30).stdout
        for lib in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", d):
            if lib.startswith(("libasan", "libubsan")):
                continue                       # the sanitizer build of make check
            out = subprocess.run(["dpkg", "-S", f"*/{lib}"], capture_output=True, text=True).stdout
            owners = {l.split(":")[0] for l in out.splitlines() if ":" in l}
            if not owners:                     # alternatives (libopenblas.so.0, liblapack...)
                real = os.path.realpath(next((p for p in ("/usr/lib/x86_64-linux-gnu/" + lib, "/lib/" + lib,
                                                          "/usr/lib/" + lib) if os.path.exists(p)), lib))
                out = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True).stdout
                owners = {l.split(":")[0] for l in out.splitlines() if ":" in l}
            assert owners, lib
            want.add((lib, frozenset(owners)))
    have = depends_closure(pkgs | {"libc6"})
    missing = [(lib, sorted(o)) for lib, o in want if not (o & have)]
    assert not missing, f"add to deploy/Dockerfile's runtime stage: {missing}"


# ---- backup and restore (docs/operations.md) ----------------------------------

def test_backup_while_running_and_restore(site, tmp_path):
    """The procedure of docs/operations.md: `sbems backup FILE` beside the
    running daemon, restore = the file as <data_dir>/sbems.db (+ token keys)
    in a fresh data directory; the restored daemon has the accounts and the
    readings (raw and rollups) of the backup."""
    site.run("user", "add", "ann", "--role", "admin", "--password-stdin", "--set",
             "auth.password_cost=min", stdin=PASSWORD + "\n")
    proc, port = start_daemon(site, *FAST)
    base = f"http://127.0.0.1:{port}"
    r = requests.post(base + "/api/v1/auth/login", json={"username": "ann", "password": PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    h = {"Authorization": "Bearer " + r.json()["access_token"]}
    t0 = (int(time.time()) // 86400 - 3) * 86400000
    pts = ["ahu-1.sat", "ahu-2.sat", "ahu-1.rat"]
    rd = [{"point": p, "t": t0 + i * 60000, "v": round(10 + k + (i % 97) * 0.1, 1)}
          for k, p in enumerate(pts) for i in range(2 * 1440)]
    for i in range(0, len(rd), 2000):
        r = requests.post(base + "/api/v1/readings", json={"readings": rd[i:i + 2000]}, headers=h, timeout=60)
        assert r.status_code == 200, r.text

    def series(b, hdr, point, res):
        r = requests.get(b + f"/api/v1/points/{point}/history?from={t0}&to={t0 + 2 * 86400000}"
                         f"&resolution={res}", headers=hdr, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()

    before = {(p, res): series(base, h, p, res) for p in pts for res in ("raw", "1h", "1d")}
    assert before[("ahu-1.sat", "raw")]["count"] == 2 * 1440, before[("ahu-1.sat", "raw")].get("count")
    assert len(before[("ahu-2.sat", "1d")]["buckets"]) >= 2        # local days of the building
    bk = tmp_path / "sbems-backup.db"
    r = site.run("backup", str(bk))                 # while the daemon runs
    assert "backup written" in r.stdout
    # readings after the backup are not in it
    r = requests.post(base + "/api/v1/readings", headers=h, timeout=30,
                      json={"readings": [{"point": "ahu-1.sat", "t": t0 + 2 * 86400000 - 1000, "v": 99.9}]})
    assert r.status_code == 200, r.text
    proc.terminate()
    assert proc.wait(timeout=30) == 0

    restored = tmp_path / "restored"
    restored.mkdir(mode=0o750)
    shutil.copy(bk, restored / "sbems.db")
    shutil.copy(os.path.join(site.data_dir, "token-keys.json"), restored / "token-keys.json")
    os.chmod(restored / "token-keys.json", 0o600)
    other = Sbems(restored)
    try:
        proc2, port2 = start_daemon(other, *FAST)
        base2 = f"http://127.0.0.1:{port2}"
        # an access token issued before the backup still verifies: same keys
        assert requests.get(base2 + "/api/v1/auth/me", headers=h, timeout=30).status_code == 200
        r = requests.post(base2 + "/api/v1/auth/login", json={"username": "ann", "password": PASSWORD},
                          timeout=30)
        assert r.status_code == 200, r.text
        h2 = {"Authorization": "Bearer " + r.json()["access_token"]}
        after = {(p, res): series(base2, h2, p, res) for p in pts for res in ("raw", "1h", "1d")}
        assert after == before
        proc2.terminate()
        assert proc2.wait(timeout=30) == 0
    finally:
        other.stop_all()
