"""The speech engine: pyttsx3 + espeak-ng in a child process, so that a crash costs one announcement.

libespeak-ng is C code fed with hall-controlled text and has been seen to segfault; in the server
process that kills every hall at once. The server talks to `python -m display.voice_engine` over
two pipes (one JSON line per request and per reply); a child that dies or stops answering is
killed and reaped, that render fails, and the next render starts a fresh child.
"""

from __future__ import annotations

import ctypes.util
import importlib
import importlib.util
import json
import logging
import os
import resource
import signal
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger(__name__)

INSTALL_HINT = "apt-get install espeak-ng libespeak-ng1"
# cmn reads Chinese through pinyin spelled as English words; cmn-latn-pinyin reads Mandarin.
VOICES: dict[str, str] = {"zh-CN": "cmn-latn-pinyin", "en": "en"}
START_TIMEOUT_S = 30.0
# Pyttsx3Renderer.render tries three times and waits up to 10 s each; more than that is a hang.
RENDER_TIMEOUT_S = 45.0
_ROOT = Path(__file__).resolve().parents[1]


class VoiceUnavailable(RuntimeError):
    """Speech cannot be rendered here; the message says what to install."""


class EngineDied(RuntimeError):
    """The engine process crashed or hung during a request; it is gone and the next request starts another."""


def is_green() -> bool:
    """Whether eventlet has monkey-patched threads in this process."""
    patcher = sys.modules.get("eventlet.patcher")
    return bool(patcher is not None and patcher.is_monkey_patched("thread"))


def native(name: str) -> ModuleType:
    """The real OS-level module (threading, queue, os, select, time) even when eventlet has patched it."""
    if is_green():
        return sys.modules["eventlet.patcher"].original(name)
    return threading if name == "threading" else importlib.import_module(name)


# --- in the child: the engine itself -------------------------------------------------------------


class Pyttsx3Renderer:
    """pyttsx3 with the espeak driver; runs in the engine process (or any process that may crash)."""

    def __init__(self) -> None:
        self.engine: Any = None
        self.finished = native("threading").Event()

    def probe(self) -> None:
        """Start the engine once; raise VoiceUnavailable naming what to install."""
        if self.engine is not None:
            return
        if ctypes.util.find_library("espeak-ng") is None:
            raise VoiceUnavailable(f"voice off: libespeak-ng1 is missing; {INSTALL_HINT}")
        if importlib.util.find_spec("pyttsx3") is None:
            raise VoiceUnavailable("voice off: pyttsx3 is not installed; pip install pyttsx3")
        try:
            import pyttsx3

            engine = pyttsx3.init("espeak")
            ids = {v.id.rsplit("/", 1)[-1] for v in engine.getProperty("voices")}
        except Exception as exc:
            raise VoiceUnavailable(f"voice off: pyttsx3 could not start espeak-ng ({exc}); {INSTALL_HINT}") from exc
        missing = sorted(v for v in VOICES.values() if v not in ids)
        if missing:
            raise VoiceUnavailable(f"voice off: espeak-ng lacks voice(s) {', '.join(missing)}; {INSTALL_HINT}")
        driver: Any = sys.modules["pyttsx3.drivers.espeak"]
        # Its run loop calls time.sleep, which under eventlet would start a hub on this
        # native thread; give it the real one. And its print() per file goes to the log.
        driver.time = native("time")
        driver.print = lambda *a, **k: log.debug(" ".join(map(str, a)))
        # Sent (from espeak's own thread) right after the driver has written the file. Its
        # stop path also sends completed=False for utterances that go on to finish: ignore those.
        engine.connect("finished-utterance", lambda completed=True, **_: completed and self.finished.set())
        self.engine = engine

    def render(self, voice: str, text: str, rate: int, volume: float, out: Path) -> None:
        """Write one utterance to `out` as a WAV (retried: espeak may cancel a fresh start)."""
        from pyttsx3.drivers import _espeak

        self.probe()
        for _ in range(3):
            # libespeak-ng synthesises on its own thread and runAndWait() can return before
            # the file is written (pyttsx3 issue #219): wait for the driver's notification.
            _espeak.Synchronize()
            out.unlink(missing_ok=True)
            for name, value in (("voice", voice), ("rate", rate), ("volume", volume)):
                self.engine.setProperty(name, value)
            self.finished.clear()
            self.engine.save_to_file(text, str(out))
            self.engine.runAndWait()
            if self.finished.wait(10.0) and out.is_file() and out.stat().st_size > 44:
                return
            log.warning("espeak-ng did not finish %r; retrying", text)
        raise RuntimeError(f"espeak-ng produced no audio for {text!r}")


def serve() -> None:
    """The engine process: probe, say whether it is ready, then render one request per line until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the server, which then closes our stdin
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash costs one announcement, not a core file
    logging.basicConfig(level=logging.WARNING, format="voice engine: %(message)s")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)  # whatever the driver or libespeak prints goes to the log, not into the replies

    def reply(**message: object) -> None:
        replies.write(json.dumps(message, ensure_ascii=False) + "\n")

    renderer = Pyttsx3Renderer()
    try:
        renderer.probe()
    except VoiceUnavailable as exc:
        reply(ok=False, unavailable=str(exc))
        return
    reply(ok=True)
    for line in sys.stdin.buffer:
        request = json.loads(line)
        try:
            renderer.render(request["voice"], request["text"], request["rate"], request["volume"], Path(request["out"]))
        except Exception as exc:
            reply(ok=False, error=str(exc))
        else:
            reply(ok=True)


# --- in the server: the child and the renderer that uses it -------------------------------------


class _Child:
    """One engine process and its two pipes; only real OS calls, so it never touches an eventlet hub."""

    def __init__(self) -> None:
        self.os, self.owner = native("os"), os.getpid()
        requests_r, self.requests = self.os.pipe()
        self.replies, replies_w = self.os.pipe()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(_ROOT), os.environ.get("PYTHONPATH")]))}
        self.pid = self.os.posix_spawn(
            sys.executable,
            [sys.executable, "-m", "display.voice_engine"],
            env,
            file_actions=[(os.POSIX_SPAWN_DUP2, requests_r, 0), (os.POSIX_SPAWN_DUP2, replies_w, 1)],
        )
        self.os.close(requests_r)
        self.os.close(replies_w)
        self.buffer = b""
        self.status: str | None = None  # how it ended, once reaped

    def alive(self) -> bool:
        """Still running (reaps it when it has ended)."""
        if self.status is None:
            try:
                pid, code = self.os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere
                pid, code = self.pid, 0
            if pid:
                self.status = _describe(code)
                self.close()
        return self.status is None

    def ask(self, request: dict, timeout: float) -> dict:
        """Send one request and wait for its reply; raise EngineDied if the child crashes or hangs."""
        data = (json.dumps(request, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            while data:
                data = data[self.os.write(self.requests, data) :]
        except OSError:  # BrokenPipeError: it died before reading
            raise EngineDied(f"the speech engine {self.stop()}") from None
        return self.reply(timeout)

    def reply(self, timeout: float) -> dict:
        """The next reply line, within `timeout` seconds."""
        poller = native("select").poll()
        poller.register(self.replies, native("select").POLLIN)
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EngineDied(
                    f"the speech engine did not answer within {timeout:g} s and was stopped ({self.stop()})"
                )
            if poller.poll(remaining * 1000):
                chunk = self.os.read(self.replies, 65536)
                if not chunk:
                    raise EngineDied(f"the speech engine {self.stop()}")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def stop(self) -> str:
        """Kill (if still running) and reap the child; say how it ended."""
        if self.status is None and self.owner == os.getpid():
            try:
                self.os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                self.status = _describe(self.os.waitpid(self.pid, 0)[1])
            except ChildProcessError:  # reaped elsewhere
                self.status = "ended"
        self.close()
        return self.status or "ended"

    def close(self) -> None:
        for fd in (self.requests, self.replies):
            try:
                self.os.close(fd)
            except OSError:
                pass
        self.requests = self.replies = -1


def _describe(code: int) -> str:
    if os.WIFSIGNALED(code):
        sig = os.WTERMSIG(code)
        return f"was killed by {signal.Signals(sig).name if sig in signal.valid_signals() else sig}"
    return f"exited with status {os.WEXITSTATUS(code)}"


class ChildRenderer:
    """The Renderer the server uses: each utterance rendered by the engine process, restarted when it dies.

    Call it from one thread at a time (the voice worker); a wait for the child blocks only that thread.
    """

    def __init__(self, start_timeout: float = START_TIMEOUT_S, render_timeout: float = RENDER_TIMEOUT_S) -> None:
        self.start_timeout, self.render_timeout = start_timeout, render_timeout
        self.child: _Child | None = None
        self.unavailable: VoiceUnavailable | None = None  # what is missing stays missing: no retry per call

    @property
    def pid(self) -> int | None:
        """The engine process in use, if one has started (read only: the voice worker reaps it)."""
        return self.child.pid if self.child is not None else None

    def probe(self) -> None:
        """Start the engine process; raise VoiceUnavailable naming what to install."""
        self._running()

    def render(self, voice: str, text: str, rate: int, volume: float, out: Path) -> None:
        """Write one utterance to `out`; raise EngineDied when the engine crashed or hung on it."""
        child = self._running()
        try:
            answer = child.ask(
                {"voice": voice, "text": text, "rate": rate, "volume": volume, "out": str(out)}, self.render_timeout
            )
        except EngineDied as exc:
            self.child = None
            log.warning("voice: %s while saying %r; this call has no audio, the next one restarts it", exc, text[:80])
            raise
        if not answer.get("ok"):
            raise RuntimeError(answer.get("error") or "the speech engine failed")

    def _running(self) -> _Child:
        child = self.child
        if child is not None and child.owner != os.getpid():  # a forked server: that child is the parent's
            child.close()
            child = self.child = None
        if child is not None and child.alive():
            return child
        if self.unavailable is not None:
            raise self.unavailable
        if child is not None:
            log.warning("voice: the speech engine %s between calls; starting it again", child.status)
        child = _Child()
        try:
            hello = child.reply(self.start_timeout)
        except EngineDied as exc:
            raise VoiceUnavailable(f"voice off: {exc} at start; {INSTALL_HINT}") from None
        if not hello.get("ok"):
            child.stop()
            self.unavailable = VoiceUnavailable(
                hello.get("unavailable") or f"voice off: no speech engine; {INSTALL_HINT}"
            )
            raise self.unavailable
        self.child = child
        return child


if __name__ == "__main__":
    serve()
