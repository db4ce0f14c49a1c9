"""`queue-server run`: patch the async library first, then build and serve the app."""

from __future__ import annotations

import gc
import json
import logging
import os
import sys

log = logging.getLogger("onewindow.server")
LOOPBACK = ("127.0.0.1", "localhost", "::1")
MAX_CONNECTIONS = 20_000  # per process; raise LimitNOFILE (deploy/systemd) to match
BACKLOG = 1024  # connections the kernel holds before accept: every board reconnects at once after a restart
HEADER_TIMEOUT_S = 10  # from a request's first byte to the end of its headers (slow-header clients)
IDLE_TIMEOUT_S = 30  # a connection with no request; deploy/nginx keeps its idle upstream connections less long
SOCKET_TIMEOUT_S = 60  # any single read or write of a request body or response (websockets set their own)


_TOO_LONG = json.dumps(
    {"error": {"code": "url_too_long", "message": "the address is too long", "message_zh": "请求地址过长"}},
    ensure_ascii=False,
).encode()
URL_TOO_LONG = (  # eventlet answers a too long request line with no body: this JSON error instead
    b"HTTP/1.0 414 Request URI Too Long\r\nContent-Type: application/json\r\nConnection: close\r\n"
    b"Content-Length: %d\r\n\r\n" % len(_TOO_LONG) + _TOO_LONG
)


def patch(async_mode: str) -> None:
    """Monkey-patch before Flask, redis or the database driver are imported."""
    if async_mode == "eventlet":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # eventlet announces its deprecation on import; see README
            import eventlet

        eventlet.monkey_patch()
    elif async_mode == "gevent":
        try:
            from gevent import monkey
        except ImportError:
            from queue_server.exceptions import ConfigError

            raise ConfigError(
                "server.async_mode is gevent but gevent is not installed; "
                "run: pip install -c constraints.txt -e '.[gevent]' (or use async_mode: eventlet)"
            ) from None
        monkey.patch_all()


def early_async_mode(config: str | None) -> str:
    """The async mode, read with plain YAML before anything else loads (validation comes after)."""
    import yaml

    path = config or os.environ.get("QUEUE_SERVER_CONFIG") or "config.yaml"
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
        mode = (raw.get("server") or {}).get("async_mode", "eventlet")
    except (OSError, yaml.YAMLError, AttributeError):
        mode = "eventlet"  # load_settings reports the real problem
    return os.environ.get("QUEUE_SERVER_ASYNC_MODE", mode)


def start_test_clock(settings, host: str) -> bool:
    """A test's server (server.testing): loopback only, its clock from server.clock_start; False: refused."""
    if host not in LOOPBACK:
        print(
            f"queue-server: {settings.source}: server.testing is on (a test's config) and the server listens "
            "on loopback only; remove server.testing (and server.clock_start) to serve a hall",
            file=sys.stderr,
        )
        return False
    if settings.server.clock_start is not None:
        from queue_server import clock

        clock.set_source(clock.RunningClock(settings.server.clock_start))
        log.warning("server.testing: the clock starts at %s, not the real time", settings.server.clock_start)
    return True


def tune_gc() -> None:
    """Keep garbage-collection pauses out of the calls.

    With a thousand boards connected, a full (generation 2) collection walks every live object and
    stopped the whole process for 110-240 ms every few seconds: calls reached the boards that much
    later. Objects alive after start-up (modules, mappers, the app) are frozen out of collection, and
    the younger generations are collected less often, so a full collection comes every few minutes
    under load instead (the soak benchmark watches that memory stays flat).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 20)


def serve(config: str | None, host: str | None = None, port: int | None = None) -> int:
    """Run the server until interrupted."""
    patch(early_async_mode(config))
    from queue_server.config import DEMO_SECRET, load_settings

    settings = load_settings(config)
    host = host or settings.server.host
    port = port or settings.server.port
    if settings.server.secret_key == DEMO_SECRET and host not in LOOPBACK:
        print(
            f"queue-server: {settings.source}: server.secret_key is the demo secret; set "
            "QUEUE_SERVER_SECRET_KEY (or server.secret_key) before listening on a public address",
            file=sys.stderr,
        )
        return 2
    if settings.server.testing and not start_test_clock(settings, host):
        return 2
    os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
    from queue_server.app import create_app
    from queue_server.extensions import socketio

    app = create_app(settings)
    tune_gc()
    log.info(
        "OneWindow serving %s on http://%s:%s (%s)",
        ", ".join(h.code for h in settings.halls),
        host,
        port,
        settings.server.async_mode,
    )
    if settings.server.async_mode == "eventlet":
        serve_eventlet(app, host, port)
    else:
        kwargs = {"allow_unsafe_werkzeug": True} if settings.server.async_mode == "threading" else {}
        socketio.run(app, host=host, port=port, log_output=False, **kwargs)
    return 0


def serve_eventlet(app, host: str, port: int) -> None:
    """What `socketio.run` does for eventlet, with a listen backlog and timeouts for slow or idle clients."""
    import socket

    import eventlet
    import eventlet.wsgi

    family, *_rest, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    listener = eventlet.listen(address, family, backlog=BACKLOG)
    eventlet.wsgi.server(
        listener,
        app,
        log_output=False,
        # Every board and phone holds one green thread for its websocket; eventlet's default of
        # 1,024 would leave client 1,025 hanging unanswered. The open-file limit is the real bound.
        max_size=MAX_CONNECTIONS,
        socket_timeout=SOCKET_TIMEOUT_S,
        keepalive=True,  # idle time is bounded by HeaderDeadline, not by a per-read timeout
        protocol=_deadline_protocol(),
    )


def _deadline_protocol():
    """eventlet's HTTP protocol with two deadlines: for the next request to start, and for its headers.

    Per-read timeouts alone never end a client that sends one header byte every few seconds.
    """
    import eventlet
    import eventlet.wsgi

    class HeaderDeadline(eventlet.wsgi.HttpProtocol):
        deadline = None

        def _read_request_line(self):
            self.connection.settimeout(IDLE_TIMEOUT_S)
            try:
                if not self.rfile.peek(1):  # the client closed the connection
                    return ""
            except TimeoutError:
                raise  # eventlet closes the connection quietly
            except OSError:  # reset by the client
                return ""
            finally:
                self.connection.settimeout(SOCKET_TIMEOUT_S)
            self.deadline = eventlet.Timeout(HEADER_TIMEOUT_S, TimeoutError("request headers too slow"))
            line = super()._read_request_line()
            if not line or len(line) >= self.server.url_length_limit:  # answered without parse_request
                self.deadline.cancel()
            if line and len(line) >= self.server.url_length_limit:
                self.wfile.write(URL_TOO_LONG)
                self.close_connection = 1
                return ""
            return line

        def parse_request(self):
            try:
                return super().parse_request()
            finally:
                self.deadline.cancel()

        def finish(self):
            if self.deadline is not None:
                self.deadline.cancel()
            super().finish()

    return HeaderDeadline
