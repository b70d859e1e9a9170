"""Fixtures for integration tests: the real sbems binary on real files.

SBEMS_BIN names the binary under test (scripts/check passes the ASan build).
Every test gets its own data directory under pytest's tmp_path; processes a
test starts are stopped by PID in the fixture's teardown.
"""
import json
import os
import signal
import socket
import subprocess
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SBEMS_BIN", os.path.join(ROOT, "build", "rel", "sbems"))
SITE = os.path.join(ROOT, "examples", "office-site.json")


class Sbems:
    """Runs sbems sub-commands against one data directory."""

    def __init__(self, data_dir):
        self.data_dir = str(data_dir)
        self.bin = BIN                      # an installed copy can stand in (test_install.py)
        self.procs = []
        self.env = dict(os.environ)
        # leaks are checked by the unit tests; the daemon is killed on purpose here
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=0")

    def run(self, *args, stdin=None, check=True, timeout=300):
        cmd = [self.bin, args[0], "--data-dir", self.data_dir, *args[1:]]
        p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout,
                           env=self.env)
        if check and p.returncode != 0:
            raise AssertionError(f"{cmd} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def popen(self, *args, **kw):
        cmd = [self.bin, args[0], "--data-dir", self.data_dir, *args[1:]]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=self.env, **kw)
        self.procs.append(p)
        return p

    def query(self, point, *args):
        p = self.run("query", point, "--format", "json", *args)
        return [json.loads(line) for line in p.stdout.splitlines() if line.strip()]

    def stop_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait(timeout=30)


@pytest.fixture
def sbems(tmp_path):
    s = Sbems(tmp_path / "data")
    yield s
    s.stop_all()


@pytest.fixture
def site(sbems):
    """A store with the example office site imported."""
    sbems.run("import", SITE)
    return sbems


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SIM = os.environ.get("SBEMS_SIM") or os.path.join(os.path.dirname(BIN), "sbems-sim")


def sim_json(cfg_path, *args):
    """What `sbems-sim --config cfg_path args` prints (--list, --site-json, --drivers-json), parsed."""
    p = subprocess.run([SIM, "--config", str(cfg_path), *args], capture_output=True, text=True,
                       timeout=60, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def sim_config(tmp_path, net, mqtt_port, period_s, speed=60):
    """An sbems-sim configuration of one site on its own block of loopback
    addresses (net = "127.0.N"): BACnet controllers from net.20, Modbus meters
    from net.60, the REST face at net.10; written to tmp_path/sim.json."""
    cfg = {"speed": speed, "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "period_s": period_s},
           "profile_dir": os.path.join(ROOT, "profiles"),
           "sites": [{"bacnet": {"ip_base": f"{net}.20", "port": 47808},
                      "modbus": {"ip_base": f"{net}.60", "port": free_port()},
                      "http": {"ip": f"{net}.10", "port": free_port()}}]}
    path = tmp_path / "sim.json"
    path.write_text(json.dumps(cfg))
    return path, cfg


@pytest.fixture
def pg(tmp_path):
    """A PostgreSQL 15 of the test's own (pgserver.py) with a database "sbems"."""
    import pgserver
    if not pgserver.available():
        pytest.skip("PostgreSQL 15 is not installed (scripts/bootstrap check)")
    s = pgserver.PgServer(tmp_path).init().start()
    s.psql("CREATE DATABASE sbems")
    yield s
    s.stop()


def wait_for(pred, timeout=30.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


@pytest.fixture
def broker(tmp_path):
    """A Mosquitto broker of the test's own on a free loopback port; its port."""
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    p = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(conf)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    assert wait_for(lambda: socket.socket().connect_ex(("127.0.0.1", port)) == 0, timeout=10)
    yield port
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=10)


def start_daemon(sbems, *args, port=None, drivers=False):
    """Start `sbems serve` on a free loopback port; returns (process, port)
    once it prints its "listening" line (the first start also prints where
    the admin's one-time password is).  Drivers stay off unless asked for:
    the example site's devices are on a real building's network, and tests
    talk to 127.0.0.0/8 only."""
    port = port or free_port()
    if not drivers:
        args = (*args, "--set", "drivers.enabled=false")
    p = sbems.popen("serve", "--listen", f"127.0.0.1:{port}", *args)
    for _ in range(5):
        line = p.stdout.readline()
        if "listening" in line or not line:
            break
    assert f"://127.0.0.1:{port}/" in line, line + (p.stderr.read() if p.poll() is not None else "")
    return p, port


# ---- the REST API --------------------------------------------------------

PASSWORD = "correct horse battery"          # the test users' password (policy-valid)
USERS = {                                   # name -> (roles, grants)
    "ann": ("admin", None),
    "max": ("manager", "building:hpo"),
    "opal": ("operator", "building:hpo"),
    "vic": ("viewer", "building:hpo"),
}

# A second building nobody but admins may see: the out-of-scope objects.
ANNEX = [
    ("/api/v1/buildings", {"id": "annex", "site": "harbor-point", "name": "Annex",
                           "timezone": "America/New_York"}),
    ("/api/v1/zones", {"id": "annex-z", "building": "annex", "name": "Annex zone",
                       "comfort": {"occupied": {"heating": 21, "cooling": 24},
                                   "unoccupied": {"heating": 16, "cooling": 29}},
                       "schedule": {"mon-fri": "07:00-19:00"}}),
    ("/api/v1/equipment", {"id": "annex-tstat", "building": "annex", "name": "Annex thermostat",
                           "type": "thermostat", "zone": "annex-z"}),
    ("/api/v1/points", {"id": "annex-tstat.sp", "equipment": "annex-tstat", "name": "Setpoint",
                        "kind": "setpoint", "unit": "°C", "writable": True, "min": 10, "max": 30,
                        "source": {"driver": "virtual"}}),
    ("/api/v1/points", {"id": "annex-tstat.t", "equipment": "annex-tstat", "name": "Temperature",
                        "kind": "temperature", "unit": "°C", "source": {"driver": "virtual"}}),
]

FAST = ("--set", "auth.password_cost=min", "--set", "api.rate_limit=0",
        "--set", "api.rate_limit_ip=0")


class Api:
    """A running daemon with the example site, four users and an annex."""

    def __init__(self, sbems, proc, port):
        import requests
        self.sbems, self.proc, self.port = sbems, proc, port
        self.base = f"http://127.0.0.1:{port}"
        self.http = requests.Session()
        self.tokens = {}

    def url(self, path):
        return self.base + path

    def login(self, user, password=PASSWORD):
        r = self.http.post(self.url("/api/v1/auth/login"),
                           json={"username": user, "password": password}, timeout=30)
        assert r.status_code == 200, r.text
        return r.json()

    def token(self, user):
        if user not in self.tokens:
            self.tokens[user] = self.login(user)["access_token"]
        return self.tokens[user]

    def req(self, method, path, user=None, token=None, **kw):
        import requests
        h = kw.pop("headers", {})
        if user or token:
            h["Authorization"] = "Bearer " + (token or self.token(user))
        kw.setdefault("timeout", 30)
        return requests.request(method, self.url(path), headers=h, **kw)


def start_api(sbems, *extra):
    sbems.run("import", SITE)
    for name, (roles, grants) in USERS.items():
        args = ["user", "add", name, "--role", roles, "--password-stdin",
                "--set", "auth.password_cost=min"]
        if grants:
            args += ["--grant", grants]
        sbems.run(*args, stdin=PASSWORD + "\n")
    proc, port = start_daemon(sbems, *FAST, *extra)
    api = Api(sbems, proc, port)
    for path, body in ANNEX:
        r = api.req("POST", path, "ann", json=body)
        assert r.status_code == 201, (path, r.text)
    return api


@pytest.fixture
def api(sbems):
    return start_api(sbems)


# ---- a readings CSV the ingest tests share ---------------------------------

CSV_STEP = 10000                              # 250,000 rows span 29 days
CSV_START = (int(time.time()) // 86400 - 35) * 86400000
CSV_POINTS = ["ahu-1.sat", "ahu-2.sat", "ahu-3.sat"]


def csv_value(i, k):
    """The value of row i, point k: exact in 0.1 steps, so reads compare equal."""
    return round(14 + k + (i % 83) * 0.1, 1)


def csv_rows(i0, i1):
    return "".join(f"{p},{CSV_START + i * CSV_STEP},{csv_value(i, k)}\n"
                   for i in range(i0, i1) for k, p in enumerate(CSV_POINTS))


def write_csv(path, rows):
    """point,time,value rows 0..rows-1 of the three points."""
    with open(path, "w") as f:
        f.write("point,time,value\n")
        for i0 in range(0, rows, 10000):
            f.write(csv_rows(i0, min(rows, i0 + 10000)))
