"""A PostgreSQL 15 of the test's own: initdb in a temporary directory, a free
loopback port, started and stopped by the test (by its postmaster's PID,
never by name).

As root (CI containers), initdb refuses to run: the cluster then belongs to
the `postgres` user the Debian package creates, and the commands run through
runuser.  fsync stays on: the tests are about durability.
"""
import os
import shutil
import signal
import socket
import subprocess
import time

PGBIN = "/usr/lib/postgresql/15/bin"


def available():
    return os.path.exists(os.path.join(PGBIN, "initdb"))


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, base):
        self.dir = os.path.join(str(base), "pg")
        self.data = os.path.join(self.dir, "data")
        self.port = _free_port()
        self.pid = None
        self.runas = []
        os.makedirs(self.dir, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            # the postgres user must reach its directory through the test's tree
            p = self.dir
            while p not in ("/", ""):
                p = os.path.dirname(p)
                try:
                    os.chmod(p, os.stat(p).st_mode | 0o011)
                except PermissionError:
                    break
            self.runas = ["runuser", "-u", "postgres", "--"]

    def _run(self, *cmd, check=True, timeout=120):
        return subprocess.run([*self.runas, *cmd], capture_output=True, text=True,
                              timeout=timeout, check=check)

    def init(self):
        self._run(os.path.join(PGBIN, "initdb"), "-D", self.data, "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-locale")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                    f"unix_socket_directories = '{self.dir}'\nmax_connections = 40\n"
                    "fsync = on\nsynchronous_commit = on\nshared_buffers = 64MB\n")
        return self

    def start(self):
        r = self._run(os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-l",
                      os.path.join(self.dir, "server.log"), "-w", "-t", "60", "start", check=False)
        assert r.returncode == 0, r.stdout + r.stderr + self.log()
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())
        return self

    def crash(self):
        """Stop the way a power cut or kill -9 would (immediate: no checkpoint)."""
        self._run(os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w",
                  "-t", "60", "stop", check=False)
        self._wait_gone()

    def stop(self):
        if self.pid is None:
            return
        r = self._run(os.path.join(PGBIN, "pg_ctl"), "-D", self.data, "-m", "fast", "-w",
                      "-t", "60", "stop", check=False)
        if r.returncode != 0:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._wait_gone()

    def _wait_gone(self):
        end = time.monotonic() + 60
        while self.pid is not None and time.monotonic() < end:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                self.pid = None
                return
            time.sleep(0.05)

    def log(self):
        try:
            with open(os.path.join(self.dir, "server.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def url(self, db="postgres"):
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={db}"

    def psql(self, sql, db="postgres"):
        r = subprocess.run([os.path.join(PGBIN, "psql"), "-X", "-A", "-t", "-v",
                            "ON_ERROR_STOP=1", "-d", self.url(db), "-c", sql],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def tool(self, name, *args):
        return subprocess.run([os.path.join(PGBIN, name), *args], capture_output=True, text=True,
                              timeout=300)
