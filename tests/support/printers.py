"""Network printers played by loopback TCP listeners: one that prints, one that stalls mid-job."""

from __future__ import annotations

import socket
import threading

from queue_server.config import PrinterConfig

DLE_EOT = b"\x10\x04"
WAIT_S = 10  # upper bound for a wait that normally ends at once; never a timing threshold
STALL_WAIT_S = 60  # the same for the stalled printer, which waits behind a server


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
        self.on_status = None  # called with the query code before answering; returning True leaves it unanswered
        self.reading = threading.Event()  # cleared by stall(): connections are accepted but not read
        self.reading.set()

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
        self.reading.set()
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
                self.reading.wait()
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
                    if self.on_status is not None and self.on_status(code):
                        continue
                    if code in self.status:
                        try:
                            client.sendall(bytes([self.status[code]]))
                        except OSError:  # the asker is gone (killed, or gave up waiting)
                            break
        self._clients.remove(client)
        with self._changed:
            self.jobs.append(received)
            self._changed.notify_all()

    def stall(self) -> None:
        """From now on connections are accepted and then not read: a jammed printer."""
        self.reading.clear()

    def resume(self) -> None:
        """Read again, every connection to its end."""
        self.reading.set()

    def tickets(self) -> list[bytes]:
        """The connections that carried a ticket (not status queries only)."""
        with self._changed:
            return [job for job in self.jobs if job and not job.startswith(DLE_EOT)]

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
            assert self.changed.wait_for(lambda: self.held, STALL_WAIT_S), "the spooler never connected"

    def resume(self) -> None:
        self.resumed.set()

    def close(self) -> None:
        self.closed = True
        self.resumed.set()
        self.server.close()
