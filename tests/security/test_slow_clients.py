"""Slow clients: headers trickled byte by byte are cut off, and a reconnect storm finds a long listen backlog."""

from __future__ import annotations

import selectors
import statistics
import subprocess
import threading
import time

from queue_server.server import BACKLOG, HEADER_TIMEOUT_S
from tests.security.attackers import baseline, connect_from, issue_while
from tests.support import demo_config

SLOW = [f"127.0.0.{n}" for n in (2, 3, 4) for _ in range(100)]  # 300 connections from three addresses
SLOWDOWN = 5


def trickle(port: int, started: threading.Event) -> list[float]:
    """Open the slow connections, send a header byte on each every second; the seconds until each was closed."""
    selector = selectors.DefaultSelector()
    opened = time.monotonic()
    for source in SLOW:
        sock = connect_from(source, port)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hall\r\n")
        selector.register(sock, selectors.EVENT_READ)
    started.set()
    closed: list[float] = []
    deadline = opened + HEADER_TIMEOUT_S + 20
    while selector.get_map() and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):  # closed by the server, or the next byte is due
            sock = key.fileobj
            try:
                data = sock.recv(1024)
            except ConnectionError:
                data = b""
            assert not data, f"the server answered headers that never ended: {data[:80]!r}"
            selector.unregister(sock)
            sock.close()
            closed.append(time.monotonic() - opened)
        for key in list(selector.get_map().values()):
            try:
                key.fileobj.send(b"X")  # one more byte of a header line that never ends
            except OSError:
                pass
    for key in list(selector.get_map().values()):
        key.fileobj.close()
    return closed


def test_trickled_headers_are_cut_off_and_the_backlog_is_long(make_server, tmp_path):
    server = make_server(demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data"))
    before = baseline(server.url)
    started, done, times = threading.Event(), threading.Event(), []
    kiosk = threading.Thread(target=lambda: times.extend(issue_while(server.url, started, done)))
    kiosk.start()
    closed = trickle(server.port, started)
    done.set()
    kiosk.join(30)
    during = statistics.median(times)
    print(
        f"\nissue before {before * 1000:.1f} ms, during the trickle {during * 1000:.1f} ms ({len(times)} issues); "
        f"{len(closed)}/{len(SLOW)} slow connections closed after {min(closed):.1f}-{max(closed):.1f} s"
    )
    assert len(closed) == len(SLOW), f"{len(SLOW) - len(closed)} slow connections were still open"
    assert max(closed) <= HEADER_TIMEOUT_S + 5
    assert during <= SLOWDOWN * before, f"issuing went from {before:.3f}s to {during:.3f}s"

    # After a restart every board reconnects at once: the kernel holds them until they are accepted.
    somaxconn = int(open("/proc/sys/net/core/somaxconn").read())
    listening = subprocess.run(["ss", "-ltnH", f"sport = :{server.port}"], capture_output=True, text=True, check=True)
    assert int(listening.stdout.split()[2]) == min(BACKLOG, somaxconn)  # a listening socket's Send-Q is its backlog
