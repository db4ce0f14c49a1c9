"""A webhook receiver on a loopback port: records every request, answers with scripted statuses."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Answers the first `fail` requests with 500, then 200; `wait_for(n)` blocks until n requests came."""

    def __init__(self, fail: int = 0) -> None:
        self.fail, self.requests = fail, []
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.changed:
                    receiver.requests.append(
                        {
                            "headers": self.headers,
                            "body": body,  # case-insensitive
                            "json": json.loads(body.decode("utf-8")),
                        }
                    )
                    status = 500 if len(receiver.requests) <= receiver.fail else 200
                    receiver.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, timeout: float = 30) -> list[dict]:
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"expected {count} webhook requests, got {len(self.requests)}")
            return list(self.requests)

    def wait_for_kind(self, kind: str, timeout: float = 30) -> dict:
        """The first message of this kind, waiting for it."""

        def found():
            return next((r["json"] for r in self.requests if r["json"]["kind"] == kind), None)

        with self.changed:
            if not self.changed.wait_for(found, timeout):
                raise AssertionError(f"no {kind!r} webhook request; got {len(self.requests)} others")
            return found()

    def kinds(self) -> list[tuple[str, str]]:
        with self.changed:
            return [(r["json"]["ticket"]["number"], r["json"]["kind"]) for r in self.requests]
