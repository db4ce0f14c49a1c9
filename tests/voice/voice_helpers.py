"""Helpers for the voice tests: a hall voice config, a WAV reader, a counting renderer, engine crashes."""

from __future__ import annotations

import array
import fcntl
import math
import os
import signal
import termios
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class HallVoice:
    """Duck-typed stand-in for queue_server.config.VoiceConfig."""

    enabled: bool = True
    languages: list[str] = field(default_factory=lambda: ["zh-CN", "en"])
    templates: dict[str, str] = field(default_factory=dict)
    repeat: int = 1
    rate: int = 160
    volume: float = 1.0


@dataclass
class WavInfo:
    comptype: str
    channels: int
    sampwidth: int
    rate: int
    frames: int
    rms: float

    @property
    def seconds(self) -> float:
        return self.frames / self.rate


def wav_info(path: Path) -> WavInfo:
    """Format, length and loudness of a 16-bit WAV."""
    with wave.open(str(path), "rb") as w:
        samples = array.array("h", w.readframes(w.getnframes()))
        rms = math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0
        return WavInfo(w.getcomptype(), w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes(), rms)


def write_tone(path: Path, frames: int = 2205, value: int = 1000, rate: int = 22050) -> None:
    """A tiny square-ish WAV, enough to stand in for speech."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(array.array("h", [value, -value] * (frames // 2)).tobytes())


class CountingRenderer:
    """Fake engine: writes a short tone per utterance and records what it was asked to say."""

    def __init__(self, broken: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.broken = broken

    def probe(self) -> None:
        if self.broken:
            raise RuntimeError("voice off: no espeak here; apt-get install espeak-ng libespeak-ng1")

    def render(self, voice: str, text: str, rate: int, volume: float, out: Path) -> None:
        self.calls.append((voice, text))
        write_tone(out)


def engine_processes(parent: int) -> list[int]:
    """Speech engine processes (python -m display.voice_engine) started by process `parent`."""
    children: set[int] = set()
    for task in Path(f"/proc/{parent}/task").iterdir():
        children.update(int(pid) for pid in (task / "children").read_text().split())
    return sorted(pid for pid in children if b"display.voice_engine" in _cmdline(pid))


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _state(pid: int) -> str:
    """The process's state letter from /proc (R, S, T for stopped …)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def unread_request_bytes(pid: int) -> int:
    """Bytes waiting in process `pid`'s stdin pipe: a request the server has sent and it has not read."""
    fd = os.open(f"/proc/{pid}/fd/0", os.O_RDONLY | os.O_NONBLOCK)
    try:
        size = array.array("i", [0])
        fcntl.ioctl(fd, termios.FIONREAD, size)
        return size[0]
    finally:
        os.close(fd)


@contextmanager
def crash_on_next_request(pid: int, sig: signal.Signals = signal.SIGSEGV) -> Iterator[None]:
    """Freeze the engine; inside the block send it a request; on leaving, it dies by `sig` holding it.

    A stopped process cannot read, so the request is still unanswered when the signal lands: the
    same, for the server, as a crash in the middle of synthesis, without racing a fast render.
    """
    from tests.support import wait_until

    os.kill(pid, signal.SIGSTOP)
    # Stopped only once it leaves the kernel: until then a request written now may still be read.
    wait_until(lambda: _state(pid) in ("T", "t"), timeout=60, what="the engine to stop")
    try:
        yield
        wait_until(lambda: unread_request_bytes(pid) > 0, timeout=60, what="a render request in the engine's pipe")
        os.kill(pid, sig)
    finally:
        os.kill(pid, signal.SIGCONT)
