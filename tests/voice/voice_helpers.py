"""Helpers for the voice tests: a hall voice config, a WAV reader, a counting renderer."""

from __future__ import annotations

import array
import math
import wave
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
