"""Fixtures: a TCP listener that plays a network printer, a ticket payload, a migrated SQLite database."""

from __future__ import annotations

import socket
import threading

import pytest

from queue_server.config import PrinterConfig
from queue_server.db import make_engine, session_factory, upgrade

DLE_EOT = b"\x10\x04"
WAIT_S = 10  # upper bound for a wait that normally ends at once; never a timing threshold


class FakePrinter:
    """Accepts connections on a fixed loopback port, keeps each connection's bytes, answers DLE EOT."""

    def __init__(self) -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self.status = {1: 0x12, 2: 0x12, 4: 0x12}  # online, cover closed, paper present
        self.jobs: list[bytes] = []  # one entry per closed connection
        self._changed = threading.Condition()
        self._server: socket.socket | None = None
        self._clients: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self.accepted = 0
        self._settles = 0

    def start(self) -> None:
        """Begin accepting (again) on the same port."""
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self._server = server
        thread = threading.Thread(target=self._accept, args=(server,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Refuse connections from now on, as a switched-off printer does."""
        if self._server is not None:
            try:
                self._server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone does not
            except OSError:
                pass
            self._server.close()
            self._server = None
        for client in list(self._clients):
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(WAIT_S)
        self._threads.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            self._clients.append(client)
            with self._changed:
                self.accepted += 1
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, client: socket.socket) -> None:
        received = b""
        with client:
            while True:
                try:
                    chunk = client.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                received += chunk
                # Only a connection that has sent nothing but status queries gets answers,
                # so bytes inside an image that look like DLE EOT are not answered.
                queries = received.split(DLE_EOT)
                if queries[0] == b"" and all(len(q) == 1 for q in queries[1:]):
                    code = received[-1]
                    if code in self.status:
                        client.sendall(bytes([self.status[code]]))
        self._clients.remove(client)
        with self._changed:
            self.jobs.append(received)
            self._changed.notify_all()

    def wait_for_jobs(self, count: int) -> list[bytes]:
        """Block until `count` connections have been closed by the client; return their bytes."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.jobs) >= count, WAIT_S):
                raise AssertionError(f"expected {count} connections, got {len(self.jobs)}")
            return list(self.jobs)

    def settle(self) -> list[bytes]:
        """Every connection made before this call, fully received; empty connections left out."""
        # The accept queue is FIFO: once this empty connection is in, every earlier
        # one has been accepted, and when all accepted ones are recorded we have them all.
        self._settles += 1
        with socket.create_connection(("127.0.0.1", self.port), timeout=WAIT_S):
            pass
        with self._changed:
            done = self._changed.wait_for(
                lambda: self.jobs.count(b"") >= self._settles and len(self.jobs) == self.accepted,
                WAIT_S,
            )
            if not done:
                raise AssertionError("the listener did not settle")
            return [job for job in self.jobs if job]

    def config(self, name: str = "kiosk-1", **overrides) -> PrinterConfig:
        """A network PrinterConfig that points at this listener."""
        values = {
            "name": name,
            "hall": "demo",
            "type": "network",
            "host": "127.0.0.1",
            "port": self.port,
            "timeout": 3.0,
            **overrides,
        }
        return PrinterConfig(**values)


@pytest.fixture
def fake_printer():
    printer = FakePrinter()
    printer.start()
    yield printer
    printer.stop()


@pytest.fixture
def stopped_printer():
    """A listener that owns a port but is switched off until the test starts it."""
    printer = FakePrinter()
    yield printer
    printer.stop()


@pytest.fixture
def payload() -> dict:
    return {
        "hall_name": "青山区政务服务中心",
        "hall_name_en": "Qingshan District Government Service Center",
        "number": "A007",
        "service_name": "不动产登记（二手房转移）",
        "ahead": 3,
        "estimated_wait": {"low_s": 300, "high_s": 700},
        "issued_at": "2026-11-27T09:30:00+08:00",
        "track_url": "https://hall.example.gov.cn/t/Zk3pQ9xY2mW8vR4tL6nB1c",
        "notices": [
            "请留意叫号，过号请重新取号（当日有效）：谢谢配合、欢迎评价—",
            "Please watch the display for your number",
        ],
        "materials": [
            "居民身份证原件及复印件（一式两份）",
            "不动产权证书",
            "Marriage certificate (if married)",
        ],
        "time_limit_days": 5,
        "kind": "promised",
        "with_materials": False,
    }


@pytest.fixture
def db_factory(db_url):
    """A migrated database, SQLite file and PostgreSQL in turn (the shared db_url fixture)."""
    engine = make_engine(db_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()
