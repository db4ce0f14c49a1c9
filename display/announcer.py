"""Hall announcer: hears `ticket_called` over Socket.IO and plays each call's WAV, one at a time."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import engineio
import socketio

log = logging.getLogger(__name__)

SYSTEM_PLAYERS = (("aplay", "-q"), ("paplay",))
Player = Callable[[Path], None]


def default_player_command() -> list[str] | None:
    """The first system WAV player found: `aplay -q`, else `paplay`."""
    for command in SYSTEM_PLAYERS:
        if shutil.which(command[0]):
            return list(command)
    return None


def play_wav(path: str | os.PathLike[str], command: str | Sequence[str] | None = None) -> None:
    """Play a WAV with the system player and return when it has finished."""
    argv = shlex.split(command) if isinstance(command, str) else list(command or default_player_command() or [])
    if not argv:
        raise RuntimeError("no audio player found; apt-get install alsa-utils (aplay) or pulseaudio-utils (paplay)")
    subprocess.run([*argv, os.fspath(path)], check=True)


@dataclass
class Played:
    item: Any
    started: float
    ended: float
    error: str | None = None


class PlaybackQueue:
    """Plays items strictly in the order put, one at a time, on a single worker thread."""

    def __init__(self, player: Callable[[Any], None]) -> None:
        self.player = player
        self.history: list[Played] = []
        self._items: list[Any] = []
        self._unfinished = 0
        self._closed = False
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="announcer-playback", daemon=True)
        self._thread.start()

    def put(self, item: Any) -> None:
        """Queue an item behind everything already queued."""
        with self._cond:
            if self._closed:
                raise RuntimeError("playback queue is closed")
            self._items.append(item)
            self._unfinished += 1
            self._cond.notify_all()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until everything queued has been played; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._unfinished == 0, timeout)

    def close(self, timeout: float | None = None) -> None:
        """Stop after the item now playing; drop the rest."""
        with self._cond:
            self._closed = True
            self._unfinished -= len(self._items)
            self._items.clear()
            self._cond.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._items or self._closed)
                if not self._items:
                    return
                item = self._items.pop(0)
            started, error = time.monotonic(), None
            try:
                self.player(item)
            except Exception as exc:  # one bad item must not silence the hall
                error = f"{type(exc).__name__}: {exc}"
                log.warning("playback failed for %r: %s", item, error)
            with self._cond:
                self.history.append(Played(item, started, time.monotonic(), error))
                self._unfinished -= 1
                self._cond.notify_all()


def download(url: str, timeout: float = 60.0, attempts: int = 3) -> bytes:
    """GET a WAV; the server may hold the request until rendering is done. Retries briefly."""
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.read()
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            if attempt == attempts or (isinstance(exc, urllib.error.HTTPError) and exc.code < 500):
                raise
            time.sleep(0.5 * attempt)
    raise AssertionError("unreachable")


class _InOrderEngineIO(engineio.Client):
    # engineio.Client runs each message handler in its own thread, so two calls emitted
    # back to back may be handled out of order (python-socketio issue #382). Our handlers
    # only enqueue, so dispatch them on the read loop, in arrival order.
    def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
        kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class _InOrderClient(socketio.Client):
    def _engineio_client_class(self) -> type[engineio.Client]:
        return _InOrderEngineIO


def _call_player(server_url: str, play: Player, download_timeout: float) -> Callable[[dict], None]:
    def play_call(call: dict) -> None:
        announcement = call.get("announcement") or {}
        audio_url = announcement.get("audio_url")
        number = (call.get("ticket") or {}).get("number")
        if not audio_url:
            log.info("call %s has no audio (%s)", number, announcement.get("text", ""))
            return
        data = download(server_url.rstrip("/") + audio_url, download_timeout)
        fd, name = tempfile.mkstemp(prefix="onewindow-call-", suffix=".wav")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            play(Path(name))
        finally:
            os.unlink(name)

    return play_call


def run_announcer(
    server_url: str,
    hall: str,
    player: Player | str | None = None,
    stop: threading.Event | None = None,
    download_timeout: float = 60.0,
    transports: Sequence[str] | None = None,
) -> None:
    """Subscribe to a hall and play every call's announcement in call order until `stop` is set.

    The device agent's speaker role without a device token (`queue-server announcer` is its alias).
    """
    from printer.agent import Agent

    agent = Agent(server_url, hall=hall, player=player, transports=transports, download_timeout=download_timeout)
    try:
        agent.run(stop or threading.Event())
    except KeyboardInterrupt:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry: `announcer SERVER_URL HALL [--player CMD]`."""
    parser = argparse.ArgumentParser(prog="announcer", description="Play a hall's voice calls on this PC.")
    parser.add_argument("server_url")
    parser.add_argument("hall")
    parser.add_argument("--player", help="command that plays a WAV file (default: aplay -q, else paplay)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.player is None and default_player_command() is None:
        parser.error("no audio player found; apt-get install alsa-utils (aplay) or pulseaudio-utils (paplay)")
    try:
        run_announcer(args.server_url, args.hall, args.player)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
