"""Faults on demand: a private PostgreSQL to stop and start, a printer that stops reading, load clients."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.server.conftest import make_server  # noqa: F401 - real server processes, stopped after the test
from tests.support import PrivateRedis, free_port

WAIT_S = 60  # upper bound on a wait that normally ends at once; never a timing threshold


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.skip("PostgreSQL server binaries are not installed (apt-get install postgresql)")
    return found[-1]


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary directory), to stop and start at will.

    The shared server on 5432 is used by other tests at the same time, so it is never restarted.
    """

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
        subprocess.run([*self.as_postgres, *args], check=True, capture_output=True, timeout=WAIT_S)

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
            timeout=WAIT_S,
        )
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres():
    pg = PrivatePostgres().init()
    pg.start()
    yield pg
    pg.destroy()


@pytest.fixture
def redis_server():
    server = PrivateRedis().start()
    yield server
    server.stop()


class StalledPrinter:
    """A network printer that takes one connection and then neither reads nor accepts any more,
    until `resume()`: from then on it reads every connection to the end, as a printer that came back."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(0)
        self.port = self.server.getsockname()[1]
        self.jobs: list[bytes] = []
        self.held: list[socket.socket] = []
        self.changed = threading.Condition()
        self.resumed = threading.Event()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            with self.changed:
                self.held.append(client)
                self.changed.notify_all()
            if not self.resumed.is_set():
                self.resumed.wait()  # stalled: the backlog fills and later connects hang
            threading.Thread(target=self._read, args=(client,), daemon=True).start()

    def _read(self, client: socket.socket) -> None:
        data = b""
        with client:
            while chunk := client.recv(65536):
                data += chunk
        with self.changed:
            self.jobs.append(data)
            self.changed.notify_all()

    def wait_for_connection(self) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.held, WAIT_S), "the spooler never connected"

    def resume(self) -> None:
        self.resumed.set()

    def close(self) -> None:
        self.closed = True
        self.resumed.set()
        self.server.close()


@pytest.fixture
def stalled_printer():
    printer = StalledPrinter()
    yield printer
    printer.close()


class Load:
    """Kiosk and window clients in threads that run until stopped, recording every answer."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.changed = threading.Condition()
        self.statuses: Counter = Counter()
        self.bad: list[str] = []  # answers that are not a clean JSON success or a JSON error
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def run(self, target, *args) -> None:
        def guarded():
            try:
                target(*args)
            except BaseException as exc:  # noqa: BLE001 - reported by join()
                self.errors.append(exc)

        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        self.threads.append(thread)

    def note(self, r: requests.Response, tag: str) -> None:
        json_body = r.status_code == 204 or r.headers.get("Content-Type", "").startswith("application/json")
        if not json_body or (r.status_code >= 400 and "error" not in r.json()):
            self.bad.append(f"{tag} {r.status_code} {r.text[:200]}")
        with self.changed:
            self.statuses[(tag, r.status_code)] += 1
            self.changed.notify_all()

    def wait(self, predicate, what: str) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: predicate(self.statuses), WAIT_S), f"timed out waiting for {what}"

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(WAIT_S)
        assert not any(t.is_alive() for t in self.threads), "a load client hung"
        assert not self.errors, self.errors
