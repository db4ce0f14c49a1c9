"""`queue-server agent`: the small program on a kiosk or hall PC that does the device's local work.

It keeps one Socket.IO connection to the server, signed in with the device's token, and does the
roles the device is registered for:
- printer (a kiosk registered with --agent): asks for the kiosk's print jobs, prints each on the local
  printer with the server's own layout, writes the job's key to a local ledger, then acknowledges it;
  a job offered again after a crash between printing and acknowledging is acknowledged unprinted.
  After each ticket, and every STATUS_EVERY_S, it asks the printer how it is (DLE EOT) and tells the
  server, which shows it on the kiosk page, the admin devices page and the supervisor's page.
- speaker (a hall board's PC, or any device given --player): plays the hall's calls in order.
  `queue-server announcer --hall CODE` is this role without a token.
Every failure (wrong token, no printer at the address, a stalled printer, the server down) is one log
line when it starts and one when it ends, and the agent tries again with a growing pause.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import socketio

from display.announcer import PlaybackQueue, _call_player, _InOrderClient, play_wav
from queue_server.config import PrinterConfig

from .connections import connected, describe
from .exceptions import PayloadError, PrinterError
from .layout import TicketPrint, print_ticket
from .ledger import Ledger, default_path
from .status import PrinterStatus, printer_status

log = logging.getLogger("onewindow.agent")

POLL_S = 5.0  # ask for jobs this often even without a wake (a lease that ran out, a missed wake)
STATUS_EVERY_S = 15.0
MAX_DELAY_S = 60.0
CALL_TIMEOUT_S = 30.0
TAKE = 5
PRINTABLE = frozenset({"online", "unknown"})  # unknown: a printer that cannot tell (file, some USB)
ANSWERS = frozenset({"online", "paper_out", "cover_open"})  # states only a printer's own answer gives
ADDRESS_HELP = "use usb:VID:PID, serial:PORT, file:PATH, win32:PRINTER NAME or network:HOST[:PORT]"


class AddressError(ValueError):
    """A --printer value that names no kind of printer connection."""


def parse_address(address: str, name: str = "agent-printer", timeout: float = 5.0) -> PrinterConfig:
    """The PrinterConfig of `usb:VID:PID`, `serial:PORT`, `file:PATH`, `win32:NAME` or `network:HOST[:PORT]`."""
    kind, _, rest = address.partition(":")
    base = {"name": name, "hall": "-", "timeout": timeout}
    try:
        if kind == "usb":
            vendor, product = rest.split(":")
            return PrinterConfig(**base, type="usb", usb_vendor=int(vendor, 16), usb_product=int(product, 16))
        if kind == "network":
            host, _, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "")
            return PrinterConfig(**base, type="network", host=host, port=int(port) if port else 9100)
        if kind in ("serial", "file", "win32") and rest:
            return PrinterConfig(**base, type=kind, device=rest)
    except ValueError:
        pass
    raise AddressError(f"unknown printer address {address!r}: {ADDRESS_HELP}")


class Say:
    """Logs a topic's trouble only when it changes: an outage is one line, and its end another."""

    def __init__(self) -> None:
        self.last: dict[str, str] = {}

    def __call__(self, topic: str, message: str, level: int = logging.WARNING) -> None:
        if self.last.get(topic) != message:
            self.last[topic] = message
            log.log(level, message)

    def fine(self, topic: str, message: str) -> None:
        """The trouble of `topic` is over: say so once (nothing when there was none)."""
        if self.last.pop(topic, None) is not None:
            log.info(message)


class PrinterRole:
    """The kiosk's own printer: prints offered jobs exactly once and keeps its state."""

    def __init__(self, cfg: PrinterConfig, ledger: Ledger, say: Say, clock: Callable[[], float] = time.monotonic):
        self.cfg, self.ledger, self.say, self.clock = cfg, ledger, say, clock
        self.status: PrinterStatus = {"state": "unknown", "detail": "not checked yet"}
        self.reported: PrinterStatus | None = None
        self.answered = False  # the printer has answered a status query: silence now means it stalled
        self.next_probe, self.probe_delay = 0.0, 1.0
        self.printed: list[int] = []
        self.failed: list[dict] = []

    def message(self, hello: bool) -> dict:
        """What the next exchange tells the server, and how many jobs it asks for."""
        if self.clock() >= self.next_probe:
            self.probe()
        msg: dict[str, Any] = {"printed": self.printed, "failed": self.failed, "hello": hello}
        msg["take"] = TAKE if self.status["state"] in PRINTABLE else 0
        if hello or self.status != self.reported:  # a new connection: the server may have marked it gone
            msg["status"] = dict(self.status)
        return msg

    def sent(self, msg: dict) -> None:
        """The server has the message: forget what it acknowledged."""
        self.printed, self.failed = self.printed[len(msg["printed"]) :], self.failed[len(msg["failed"]) :]
        if "status" in msg:
            self.reported = msg["status"]

    def probe(self) -> None:
        """Ask the printer how it is (DLE EOT); a printer that cannot print is asked again, less and less often."""
        self.status = printer_status(self.cfg, answered_before=self.answered)
        self.answered = self.answered or self.status["state"] in ANSWERS
        printable = self.status["state"] in PRINTABLE
        self.probe_delay = 1.0 if printable else min(self.probe_delay * 2, MAX_DELAY_S)
        self.next_probe = self.clock() + (STATUS_EVERY_S if printable else self.probe_delay)
        if printable:
            self.say.fine("printer", f"printer {describe(self.cfg)} is ready again")
        else:
            self.say("printer", f"printer {describe(self.cfg)}: {self.status['detail']}")

    def handle(self, offer: dict) -> None:
        """Print one offered job, unless the ledger says it was printed before a crash."""
        job_id, key, number = offer["id"], offer["key"], offer.get("number")
        if key in self.ledger:
            log.info("job %s (%s) was printed before a restart: acknowledged without printing", job_id, number)
            self.printed.append(job_id)
            return
        if self.status["state"] not in PRINTABLE:
            self.failed.append({"id": job_id, "error": self.status["detail"]})
            return
        try:
            ticket = TicketPrint.from_payload(offer["payload"])
        except PayloadError as exc:
            log.warning("job %s (%s) cannot be printed: %s", job_id, number, exc)
            self.failed.append({"id": job_id, "error": str(exc)})
            return
        try:
            with connected(self.cfg) as printer:
                print_ticket(printer, ticket, offer["paper_mm"])
        except PrinterError as exc:
            self.failed.append({"id": job_id, "error": exc.reason})
            self.status = {"state": "offline", "detail": exc.reason}
            self.say("printer", f"printer {describe(self.cfg)}: {exc.reason}")
            self.next_probe = self.clock() + self.probe_delay
            return
        self.ledger.add(key)  # on disk before the server hears of it: a crash after this prints nothing twice
        self.printed.append(job_id)
        log.info("printed job %s (%s)", job_id, number)
        self.probe()  # at once: a roll that ran out on this ticket shows before the next citizen comes


class Agent:
    """One connection to the server and the device's roles; `run` returns when `stop` is set."""

    def __init__(
        self,
        server: str,
        token: str | None = None,
        *,
        hall: str | None = None,
        printer: PrinterConfig | None = None,
        ledger: Ledger | None = None,
        player: Callable[[Path], None] | str | None = None,
        transports: Sequence[str] | None = None,
        download_timeout: float = 60.0,
    ) -> None:
        self.server, self.token, self.hall = server.rstrip("/"), token, hall
        self.transports = list(transports) if transports else None
        self.say = Say()
        self.printer = PrinterRole(printer, ledger, self.say) if printer is not None and ledger is not None else None
        self.player, self.download_timeout = player, download_timeout
        self.queue: PlaybackQueue | None = None
        self.wake = threading.Event()
        self.refusal: str | None = None

    def run(self, stop: threading.Event) -> None:
        """Connect, do the roles until disconnected, and connect again with a growing pause."""
        delay = 1.0
        try:
            while not stop.is_set():
                client = self._client()
                if self._connect(client):
                    delay = 1.0
                    try:
                        self._serve(client, stop)
                    except (socketio.exceptions.SocketIOError, TimeoutError, OSError) as exc:
                        self.say("server", f"lost the server at {self.server} ({type(exc).__name__}); reconnecting")
                    except Exception:  # a bug must not end the agent: log it, and start over
                        log.exception("the agent failed; reconnecting")
                    finally:
                        client.disconnect()
                    if stop.is_set():
                        break
                stop.wait(delay)
                delay = min(delay * 2, MAX_DELAY_S)
        finally:
            if self.queue is not None:
                self.queue.close(timeout=5)

    def _client(self) -> socketio.Client:
        client = _InOrderClient(reconnection=False)
        self.refusal = None

        @client.on("connect_error")
        def _refused(data: Any = None) -> None:
            if isinstance(data, dict):  # the server's answer; a network failure comes as text
                self.refusal = str(data.get("message") or "refused")

        @client.on("disconnect")
        def _gone(*_args: Any) -> None:
            self.wake.set()

        @client.on("print_wake")
        def _wake(*_args: Any) -> None:
            self.wake.set()

        @client.on("ticket_called")
        def _called(call: dict) -> None:
            if self.queue is not None:
                self.queue.put(call)

        return client

    def _connect(self, client: socketio.Client) -> bool:
        auth = {"device": self.token} if self.token else None
        try:
            client.connect(self.server, auth=auth, transports=self.transports, wait_timeout=10)
        except socketio.exceptions.ConnectionError:
            if self.refusal:
                self.say("server", f"the server at {self.server} refused this device's token: {self.refusal}")
            else:
                self.say("server", f"cannot reach the server at {self.server}; trying again, at most every 60 s")
            return False
        self.say.last.pop("server", None)
        log.info("connected to %s", self.server)
        return True

    def _serve(self, client: socketio.Client, stop: threading.Event) -> None:
        printing, speaking = self._roles(client)
        if speaking:
            self._speak(client)
        hello = True
        while client.connected and not stop.is_set():
            self.wake.clear()
            busy = False
            if printing:
                msg = self.printer.message(hello)
                reply = client.call("agent_jobs", msg, timeout=CALL_TIMEOUT_S)
                if not isinstance(reply, dict) or "error" in reply:
                    self.say("roles", f"the server refused to hand out print jobs: {_error_text(reply)}")
                    return
                self.printer.sent(msg)
                if reply.get("report"):  # the server marked this kiosk gone after it was back: say it again
                    self.printer.reported = None
                hello = False
                for offer in reply.get("jobs", []):
                    self.printer.handle(offer)
                busy = bool(reply.get("jobs")) or bool(self.printer.printed or self.printer.failed)
            if not busy:
                self.wake.wait(POLL_S if printing else 1.0)

    def _roles(self, client: socketio.Client) -> tuple[bool, bool]:
        """Which roles to do: what the device is registered for, and what this PC was given."""
        if not self.token:
            return False, True  # the announcer: a hall's calls, no device
        me = client.call("agent_hello", {}, timeout=CALL_TIMEOUT_S)
        if not isinstance(me, dict) or "error" in me:
            self.say("roles", f"the server did not accept this device: {_error_text(me)}")
            return False, False
        self.hall = me["hall"]
        printing = bool(me.get("agent")) and self.printer is not None
        if me.get("agent") and self.printer is None:
            self.say("roles", f"device {me['device']} prints through its agent, but no --printer was given")
        elif self.printer is not None and not me.get("agent"):
            self.say(
                "roles",
                f"device {me['device']} is not registered to print through its agent; not printing "
                "(queue-server device add NAME --hall CODE --kind kiosk --agent)",
            )
        elif printing:
            log.info("device %s of hall %s: printing on %s", me["device"], me["hall"], describe(self.printer.cfg))
        speaking = self.player is not None or me.get("kind") == "board"
        return printing, speaking

    def _speak(self, client: socketio.Client) -> None:
        if self.queue is None:
            self.queue = PlaybackQueue(_call_player(self.server, self._play(), self.download_timeout))
        client.emit("subscribe", {"hall": self.hall} if self.hall else {})
        log.info("announcer subscribed to hall %s at %s", self.hall or "of this device", self.server)

    def _play(self) -> Callable[[Path], None]:
        if callable(self.player):
            return self.player
        if self.player is None and sys.platform == "win32":
            import winsound

            return lambda path: winsound.PlaySound(str(path), winsound.SND_FILENAME)
        return lambda path: play_wav(path, self.player)


def _error_text(reply: Any) -> str:
    error = reply.get("error") if isinstance(reply, dict) else None
    return error.get("message", "") if isinstance(error, dict) else f"unexpected answer {reply!r:.80}"


def _quiet_driver(record: logging.LogRecord) -> bool:
    # python-escpos logs "printer enabled" and "closing connection" for every ticket on the root logger.
    return record.levelno >= logging.WARNING or f"{os.sep}escpos{os.sep}" not in record.pathname


def run_cli(args: Any) -> int:
    """`queue-server agent --server URL --token TOKEN [--printer ADDRESS] [--player CMD] [--ledger FILE]`."""
    printer = None
    if args.printer:
        try:
            printer = parse_address(args.printer)
        except AddressError as exc:
            print(f"queue-server agent: {exc}", file=sys.stderr)
            return 2
    ledger = Ledger(args.ledger or default_path(args.server, args.token)) if printer else None
    agent = Agent(args.server, args.token, printer=printer, ledger=ledger, player=args.player)
    for handler in logging.getLogger().handlers:
        handler.addFilter(_quiet_driver)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        agent.run(stop)
    except KeyboardInterrupt:
        pass
    return 0
