"""The shipped config pointed at a test database, and real processes: the server, Redis, PostgreSQL."""

from __future__ import annotations

import copy
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests
import yaml

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "tests" / "data" / "catalog_573.csv"
PG_ADMIN_URL = os.environ.get("ONEWINDOW_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("ONEWINDOW_TEST_REDIS", "redis://127.0.0.1:6379/0")
_DEMO = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))


def demo_config(database_url: str, data_dir: str | Path, **server: object) -> dict:
    """The shipped config.yaml as a mapping, pointed at a test database and data directory."""
    raw = copy.deepcopy(_DEMO)
    raw["server"].update(database_url=database_url, data_dir=str(data_dir), **server)
    return raw


MONDAY_10AM = "2026-03-02T10:00:00+08:00"  # a weekday morning in Beijing: the hall's slots of the day lie ahead


def clock_at(raw: dict, start: str = MONDAY_10AM) -> dict:
    """A test server whose clock starts at `start` (ISO, with its offset) and runs forward, whatever the hour."""
    raw["server"].update(testing=True, clock_start=start)
    return raw


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(path: Path, raw: dict) -> Path:
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


class ChildProcess:
    """A process of the product started by a test, with its log in a file; stopped, or killed as by a power cut."""

    proc: subprocess.Popen | None = None
    log_path: Path

    def read_log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: the crash a power cut or OOM killer gives."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if getattr(self, "log", None):
            self.log.close()


class ServerProcess(ChildProcess):
    """`python -m queue_server run` on a free loopback port, as a deployment would start it."""

    def __init__(
        self,
        config_path: Path,
        port: int | None = None,
        env: dict | None = None,
        log_path: Path | None = None,
        root: Path = ROOT,
    ) -> None:
        self.config_path, self.port, self.root = config_path, port or free_port(), root
        self.env = {**os.environ, **(env or {})}
        self.log_path = log_path or config_path.with_suffix(f".{self.port}.log")
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> ServerProcess:
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "queue_server", "--config", str(self.config_path), "run", "--port", str(self.port)],
            cwd=self.root,  # another checkout's code when a benchmark compares versions
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)  # polling a port that is not open yet; there is no event to wait on
        raise RuntimeError(f"server did not come up:\n{self.read_log()}")


class PrivateRedis:
    """A redis-server of the test's own on a free port, so it can be stopped and started at will."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return self
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    return found[-1]


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary directory), to stop and start at will.

    The shared server on 5432 is used by other tests at the same time, so it is never restarted.
    """

    WAIT_S = 60  # upper bound on pg_ctl, which normally returns at once

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ow-pg-"))
        self.data = self.dir / "data"
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_postgres:
            shutil.chown(self.dir, "postgres")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=self.WAIT_S)

    def init(self) -> PrivatePostgres:
        self._run(_pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> None:
        # -w: return once the server accepts connections; fsync off: a test cluster, not a hall's data.
        self._run(
            _pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.dir / "log"),
            "-o",
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            "start",
        )

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.data), "-w", "-m", "fast", "stop")

    def destroy(self) -> None:
        subprocess.run(
            [*self.as_postgres, _pg_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=self.WAIT_S,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_until(check, timeout: float = 30, what: str = "condition"):
    """Poll `check()` until it returns a truthy value: only for state in another process that
    changed before we could subscribe to it (no event left to wait on)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class _SourceAddressAdapter(requests.adapters.HTTPAdapter):
    def __init__(self, source: str) -> None:
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        return super().init_poolmanager(*args, **kwargs)


def client_from(address: str) -> requests.Session:
    """HTTP from another loopback address (127.0.0.2, 127.0.0.3 …), so per-address limits apply as in a hall.

    The default config exempts 127.0.0.1 (the kiosk on the server PC) from rate limits; every 127.x
    address reaches a server listening on 127.0.0.1.
    """
    session = requests.Session()
    adapter = _SourceAddressAdapter(address)
    session.mount("http://", adapter)
    return session
