"""Independent BACnet/IP peers for sbems's integration tests.

The peers are the npm stacks in tests/integ/peers/bacnet (device.js,
client.js; see docs/internals/bacnet-interop.md) and tshark, which decodes
the loopback traffic and reports anything it marks malformed.

    from bacnet_peers import npm_ready, start_device, run_client, TsharkCapture

    def test_read(tmp_path):
        npm_ready()                                   # skips when npm is absent
        with TsharkCapture(ports=(47808, 47809), path=tmp_path / "t.pcapng") as cap:
            with start_device(ip="127.0.0.5", port=47808, device=77) as dev:
                r = run_client("read", address=dev.address, object="analog-input:1",
                               property="present-value", bind_port=47809)
                assert r["ok"], r
        cap.assert_clean()                            # no malformed BACnet, some captured

Every process a helper starts is stopped by its own PID (context managers or
.stop()); nothing is killed by name.  Network traffic stays on 127.0.0.0/8.
"""
import atexit
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PEERS_DIR = os.path.join(ROOT, "tests", "integ", "peers", "bacnet")
DEVICE_JS = os.path.join(PEERS_DIR, "device.js")
CLIENT_JS = os.path.join(PEERS_DIR, "client.js")
STAMP = ".sbems-lock-sha256"        # in node_modules: hash of the lockfile it was installed from

# What TsharkCapture calls a bad packet, as a tshark display filter:
#  - _ws.malformed: a dissector threw (e.g. BACapp "Malformed Packet
#    (Exception occurred)": a tag or length that runs past the APDU);
#  - _ws.expert.severity >= warning: expert items of severity warning or
#    error (e.g. BACapp "LVT length too long").  Chat and note items are
#    left out on purpose: the UDP dissector adds chat-level "Possible
#    traceroute" to any datagram whose port falls in 33434-33534, which
#    ephemeral client ports do.
# See docs/internals/bacnet-interop.md for the packets used to choose it.
BAD_FILTER = "_ws.malformed || _ws.expert.severity >= warning"


class PeerError(RuntimeError):
    """A peer did not start or answered something unparseable."""


# ---- npm -------------------------------------------------------------------

def _lock_hash():
    with open(os.path.join(PEERS_DIR, "package-lock.json"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _node_major():
    node = shutil.which("node")
    if not node:
        return None
    r = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    try:
        return int(r.stdout.strip().lstrip("v").split(".")[0])
    except ValueError:
        return None


_READY = None   # cached outcome of npm_ready() for this process: None, True or a skip message


def npm_ready(skip=True):
    """Make sure the peers' node_modules match package-lock.json.

    Runs `npm ci` in tests/integ/peers/bacnet once when node_modules is
    missing or was installed from another lockfile (a hash stamp in
    node_modules says which).  Without node >= 18 or npm, or when `npm ci`
    fails (no registry), it calls pytest.skip with the reason (or raises
    PeerError when skip=False).  Returns the peers directory."""
    global _READY
    if _READY is None:
        _READY = _prepare()
    if _READY is not True:
        if skip:
            pytest.skip(_READY)
        raise PeerError(_READY)
    return PEERS_DIR


def _prepare():
    major = _node_major()
    if major is None:
        return "BACnet peers need Node.js (apt-get install nodejs npm)"
    if major < 18:
        return f"BACnet peers need Node.js >= 18, found {major}"
    stamp = os.path.join(PEERS_DIR, "node_modules", STAMP)
    want = _lock_hash()
    lockfile = os.path.join(tempfile.gettempdir(),
                            "sbems-bacnet-peers-%s.lock" % hashlib.sha1(PEERS_DIR.encode()).hexdigest()[:12])
    with open(lockfile, "w") as lf:
        fcntl.flock(lf, fcntl.LOCK_EX)          # one `npm ci` at a time for this tree
        try:
            with open(stamp) as f:
                if f.read().strip() == want:
                    return True
        except OSError:
            pass
        npm = shutil.which("npm")
        if not npm:
            return "BACnet peers need npm (apt-get install npm)"
        try:
            r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                               cwd=PEERS_DIR, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            return "npm ci timed out after 600 s (npm registry unreachable?)"
        if r.returncode != 0:
            tail = (r.stderr or r.stdout).strip().splitlines()[-5:]
            return "npm ci failed (npm registry unreachable?): " + " | ".join(tail)
        with open(stamp, "w") as f:
            f.write(want + "\n")
    return True


# ---- line-oriented child processes -------------------------------------------

class _Lines:
    """Reads a child's stdout lines on a thread; lines are parsed as JSON."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for raw in self.proc.stdout:
            raw = raw.strip()
            if not raw:
                continue
            try:
                obj = json.loads(raw)
            except ValueError:
                obj = {"unparsed": raw}
            with self.cond:
                self.lines.append(obj)
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait(self, pred, start=0, timeout=10.0):
        """First line at index >= start for which pred(line) holds, and its index."""
        end = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    if pred(self.lines[i]):
                        return i, self.lines[i]
                    i += 1
                left = end - time.monotonic()
                if left <= 0 or self.closed:
                    return None, None
                self.cond.wait(left)


_STARTED = []   # every child process started here, stopped at exit if a test did not


def _track(proc):
    _STARTED.append(proc)
    return proc


@atexit.register
def _stop_leftovers():
    for p in _STARTED:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)


def _stop(proc, timeout=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)


def _matches(line, kw):
    return all(line.get(k) == v for k, v in kw.items())


class Device:
    """A running device.js: .proc, .ready (its ready line), .address ("ip:port")."""

    def __init__(self, proc, lines, ready, stderr_path):
        self.proc, self._lines, self.ready, self.stderr_path = proc, lines, ready, stderr_path
        self.ip, self.port, self.device = ready["ip"], ready["port"], ready["device"]
        self.address = f"{self.ip}:{self.port}"
        self._cursor = 1

    @property
    def events(self):
        """Every event line printed so far."""
        return [x for x in self._lines.lines if "event" in x]

    def wait_event(self, event=None, timeout=10.0, pred=None, since=None, **match):
        """Next event line (after the previous one returned, or from index
        `since`) with "event" == event, the given key/values and pred(line).
        Raises AssertionError on timeout."""
        start = self._cursor if since is None else since

        def ok(x):
            return ("event" in x and (event is None or x["event"] == event)
                    and _matches(x, match) and (pred is None or pred(x)))
        i, line = self._lines.wait(ok, start, timeout)
        if line is None:
            raise AssertionError(f"device {self.address}: no event {event} {match} within {timeout}s; "
                                 f"last lines: {self._lines.lines[-5:]}")
        self._cursor = i + 1
        return line

    def mark(self):
        """An index to pass as since= to look only at later events."""
        return len(self._lines.lines)

    def command(self, cmd, timeout=10.0, **kw):
        """Send a stdin command; returns its reply line (event set, state,
        subscriptions, muted or command-error)."""
        since = self.mark()
        self.proc.stdin.write(json.dumps(dict(kw, cmd=cmd)) + "\n")
        self.proc.stdin.flush()
        reply = {"set": "set", "state": "state", "subscriptions": "subscriptions", "mute": "muted"}[cmd]
        i, line = self._lines.wait(lambda x: x.get("event") in (reply, "command-error"), since, timeout)
        if line is None:
            raise AssertionError(f"device {self.address}: no reply to {cmd}")
        return line

    def stop(self):
        _stop(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_device(ip="127.0.0.2", port=47808, device=1234, config=None, args=(), tmp_path=None,
                 timeout=20.0):
    """Start device.js bound to ip:port and wait for its ready line.

    config: None (the default object set), a dict (written to a JSON file)
    or a path.  args: extra command-line flags, e.g. ("--freeze",
    "--max-apdu", "480", "--log-reads").  Returns a Device; use it as a
    context manager or call .stop()."""
    npm_ready()
    work = str(tmp_path) if tmp_path else tempfile.mkdtemp(prefix="bacnet-dev-")
    # --exit-on-stdin-eof: should the test process die, the device goes too
    cmd = ["node", DEVICE_JS, "--ip", ip, "--port", str(port), "--device", str(device),
           "--exit-on-stdin-eof", *map(str, args)]
    if config is not None:
        if isinstance(config, dict):
            path = os.path.join(work, f"device-{device}.json")
            with open(path, "w") as f:
                json.dump(config, f)
            config = path
        cmd += ["--config", str(config)]
    err_path = os.path.join(work, f"device-{device}-{ip}-{port}.stderr")
    err = open(err_path, "w")
    proc = _track(subprocess.Popen(cmd, cwd=PEERS_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=err, text=True, bufsize=1))
    err.close()
    lines = _Lines(proc)
    _, ready = lines.wait(lambda x: "ready" in x, 0, timeout)
    if not ready or not ready.get("ready"):
        _stop(proc)
        with open(err_path) as f:
            raise PeerError(f"device.js did not start: {ready} {f.read()[-2000:]}")
    return Device(proc, lines, ready, err_path)


# ---- the client --------------------------------------------------------------

def _client_cmd(lib, bind_ip, bind_port, timeout_ms):
    return ["node", CLIENT_JS, "--lib", lib, "--bind-ip", bind_ip, "--bind-port", str(bind_port),
            "--timeout", str(timeout_ms)]


def run_client(op, lib="bacnet-js", bind_ip="127.0.0.1", bind_port=0, timeout_ms=3000, timeout=60.0,
               **params):
    """Run client.js once for one operation; returns its JSON result (a dict
    with "ok"), plus "events": the COV notification lines printed before it.

    params are the operation's keys (see client.js), e.g.
    run_client("write", address=dev.address, object="analog-value:1",
               property="present-value", value=22.5, priority=8)."""
    npm_ready()
    cmd = _client_cmd(lib, bind_ip, bind_port, timeout_ms) + ["--json", json.dumps(dict(params, op=op))]
    p = subprocess.run(cmd, cwd=PEERS_DIR, capture_output=True, text=True, timeout=timeout)
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip().startswith("{")]
    results = [x for x in lines if "ok" in x]
    if not results:
        raise PeerError(f"client.js {op}: no result (exit {p.returncode}): {p.stdout[-1000:]} {p.stderr[-2000:]}")
    res = results[-1]
    res["events"] = [x for x in lines if "event" in x]
    return res


class Client:
    """A long-running client.js --stdin: one socket, many requests."""

    def __init__(self, lib="bacnet-js", bind_ip="127.0.0.1", bind_port=0, timeout_ms=3000, ready_timeout=20.0):
        npm_ready()
        self.proc = _track(subprocess.Popen(_client_cmd(lib, bind_ip, bind_port, timeout_ms) + ["--stdin"],
                                            cwd=PEERS_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True, bufsize=1))
        self._lines = _Lines(self.proc)
        self._id = 0
        _, ready = self._lines.wait(lambda x: "ready" in x or "error" in x, 0, ready_timeout)
        if not ready or not ready.get("ready"):
            _stop(self.proc)
            raise PeerError(f"client.js did not start: {ready} {self.proc.stderr.read()[-2000:]}")
        self.ready = ready
        self.bind = ready["bind"]

    def request(self, op, timeout=60.0, **params):
        """Send one operation, wait for its result line (matched by id)."""
        self._id += 1
        rid = self._id
        self.proc.stdin.write(json.dumps(dict(params, op=op, id=rid)) + "\n")
        self.proc.stdin.flush()
        _, res = self._lines.wait(lambda x: x.get("id") == rid, 0, timeout)
        if res is None:
            raise PeerError(f"client.js: no answer to {op} #{rid}")
        return res

    @property
    def notifications(self):
        """Every COV notification received so far (event lines)."""
        return [x for x in self._lines.lines if x.get("event") == "cov"]

    def wait_notification(self, timeout=10.0, since=0, **match):
        """The first COV notification whose keys match, skipping the first
        `since` notifications (pass len(client.notifications) to wait for a
        new one)."""
        seen = [0]

        def ok(x):
            if x.get("event") != "cov":
                return False
            seen[0] += 1
            return seen[0] > since and _matches(x, match)
        _, n = self._lines.wait(ok, 0, timeout)
        if n is None:
            raise AssertionError(f"no COV notification {match} within {timeout}s; got {self.notifications[since:]}")
        return n

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                _stop(self.proc)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def send_udp(data, addr, src=("127.0.0.1", 0), wait_reply=0.0):
    """Send one datagram (e.g. a malformed BVLL) to addr ("ip:port" or a
    tuple); returns the reply bytes if wait_reply > 0 and one came, else None."""
    if isinstance(addr, str):
        host, port = addr.rsplit(":", 1)
        addr = (host, int(port))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(src)
        s.sendto(bytes(data), addr)
        if wait_reply > 0:
            s.settimeout(wait_reply)
            try:
                return s.recv(65536)
            except socket.timeout:
                return None
    return None


def free_udp_port(ip="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((ip, 0))
        return s.getsockname()[1]


# ---- tshark ------------------------------------------------------------------

def capture_unavailable():
    """None when dumpcap and tshark are there, else why not (for a skip).
    Whether capturing is permitted shows only when a capture starts."""
    for tool in ("dumpcap", "tshark"):
        if not shutil.which(tool):
            return f"{tool} not found (apt-get install tshark)"
    return None


class TsharkCapture:
    """Capture UDP on lo for ports lo..hi while the block runs, then decode.

    dumpcap (it stops by itself after max_seconds) writes a pcapng; on exit
    tshark reads it with udp.port lo-hi decoded as BVLC and fills:
      .packets         frames captured
      .bacnet_packets  frames tshark decoded as BACnet/IP (bvlc)
      .bad             [{frame, summary, experts, why}] for frames matching
                       BAD_FILTER, and datagrams in the port range that tshark
                       could not decode as BVLL at all, or that carry an APDU
                       type the standard does not define
      .summaries       one line per frame (number, protocols, info)
    Capturing needs root or a dumpcap with CAP_NET_RAW/CAP_NET_ADMIN
    (Debian: dpkg-reconfigure wireshark-common + the wireshark group); when
    it is not permitted, entering the block calls pytest.skip (or raises
    PeerError with skip=False)."""

    def __init__(self, ports=(47808, 47808), path=None, iface="lo", max_seconds=300, skip=True,
                 hosts=()):
        """hosts: capture only datagrams to or from these addresses, so two
        test runs on one machine (they share the loopback) do not see each
        other's traffic, such as the self-test's malformed datagrams."""
        self.lo, self.hi = (ports, ports) if isinstance(ports, int) else ports
        self.hosts = tuple(hosts)
        self.path = str(path) if path else os.path.join(tempfile.mkdtemp(prefix="bacnet-cap-"), "bacnet.pcapng")
        self.iface, self.max_seconds, self.skip = iface, int(max_seconds), skip
        self.proc = None
        self.packets = self.bacnet_packets = 0
        self.bad, self.summaries = [], []

    def _fail(self, why):
        if self.skip:
            pytest.skip(why)
        raise PeerError(why)

    def __enter__(self):
        why = capture_unavailable()
        if why:
            self._fail(why)
        if os.path.exists(self.path):
            os.unlink(self.path)
        self._err = tempfile.TemporaryFile(mode="w+")
        self.proc = _track(subprocess.Popen(
            ["dumpcap", "-q", "-i", self.iface, "-f", f"udp portrange {self.lo}-{self.hi}" + (
                " and (" + " or ".join(f"host {h}" for h in self.hosts) + ")" if self.hosts else ""),
             "-a", f"duration:{self.max_seconds}", "-w", self.path],
            stdout=subprocess.DEVNULL, stderr=self._err))
        # dumpcap says "Capturing on" even when it then fails for lack of
        # permission, so wait for the file to hold a pcapng header with
        # dumpcap still running.
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                self._err.seek(0)
                msg = self._err.read().strip().splitlines()
                self._fail("packet capture on lo not permitted or failed: " + " | ".join(msg[:3]))
            if os.path.exists(self.path) and os.path.getsize(self.path) > 0:
                time.sleep(0.3)          # the kernel filter is attached once the file is written
                return self
            time.sleep(0.05)
        self.stop_capture()
        self._fail("dumpcap did not start capturing within 15 s")
        return self

    def stop_capture(self):
        if self.proc and self.proc.poll() is None:
            time.sleep(0.5)              # let the last datagrams reach dumpcap
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)

    def __exit__(self, exc_type, exc, tb):
        self.stop_capture()
        if exc_type is None:
            self.analyse()
        else:                            # keep the test's own failure in front
            try:
                self.analyse()
            except PeerError:
                pass
        return False

    def _tshark(self, *args):
        cmd = ["tshark", "-n", "-r", self.path, "-d", f"udp.port=={self.lo}-{self.hi},bvlc", *args]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            raise PeerError(f"tshark failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
        return [ln.split("\t") for ln in r.stdout.splitlines() if ln.strip()]

    def analyse(self):
        """Decode the capture file (also usable on a file captured earlier)."""
        fields = ["-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|",
                  "-e", "frame.number", "-e", "frame.protocols", "-e", "_ws.col.Info", "-e", "_ws.expert.message"]
        rows = self._tshark(*fields)
        flagged = {r[0] for r in self._tshark("-Y", BAD_FILTER, "-T", "fields", "-e", "frame.number")}
        self.summaries, self.bad = [], []
        for r in rows:
            r += [""] * (4 - len(r))
            num, protos, info, experts = r[0], r[1], r[2], r[3]
            self.summaries.append(f"{num} {protos} {info}")
            why = None
            if num in flagged:
                why = "malformed or expert warning/error"
            elif "bvlc" not in protos.split(":"):
                why = "not decodable as BACnet/IP (BVLL)"
            elif "unknown APDU" in info:
                why = "APDU type not defined by the standard"
            if why:
                self.bad.append({"frame": int(num), "summary": info.strip(), "protocols": protos,
                                 "experts": [e for e in experts.split("|") if e], "why": why})
        self.packets = len(rows)
        self.bacnet_packets = sum(1 for r in rows if "bvlc" in r[1].split(":"))
        return self

    def assert_clean(self, min_bacnet=1):
        """No bad packet and at least min_bacnet BACnet packets captured."""
        assert self.bacnet_packets >= min_bacnet, (
            f"only {self.bacnet_packets} BACnet packets captured in {self.path}")
        assert not self.bad, "tshark flagged packets in %s:\n%s" % (
            self.path, "\n".join(json.dumps(b) for b in self.bad))
