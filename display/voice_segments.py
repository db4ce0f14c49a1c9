"""Calls spoken from segments: each template split into its words and placeholders, each piece rendered once
per voice (or taken from the hall's recorded voice pack, 语音包), kept, and joined into the call's WAV.

A call is a new sentence every time (number × window × language), so rendering whole sentences never hits
a cache; its pieces — 请, the letters, the digits, the window numbers, 号窗口办理 — repeat all day.

Voice pack: `<data_dir>/voice-packs/<hall code>/<language>/<segment>.wav`, 22,050 Hz mono 16-bit PCM (what
espeak-ng produces; a file in another format is passed over with a warning). Segment names:
`letter-A` … `letter-Z`, `digit-0` … `digit-9` (read one by one), `window-1`, `window-12` … (one file
per window number), and the template's words between the placeholders as they stand, edge punctuation
trimmed (`请`, `号，到`, `号窗口办理`; `Number`, `please go to window`). `pack_names()` lists a hall's.
A segment missing from the pack is synthesised with espeak-ng.
"""

from __future__ import annotations

import array
import functools
import hashlib
import json
import logging
import os
import sys
import tempfile
import threading
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from queue_server.core.announcements import split_template

log = logging.getLogger(__name__)

FORMAT = (1, 2, 22050)  # channels, bytes per sample, frames per second: espeak-ng's own
GAP_S = 0.08  # silence between the pieces of one sentence
SILENCE = 300  # samples quieter than this at either end of a piece are trimmed
MARGIN_S = 0.01  # kept around the sound so a soft onset is not clipped
SEGMENT_VERSION = 1


@dataclass(frozen=True)
class Segment:
    """One piece of a spoken call: words of the template, or a letter, digit or window number."""

    kind: str  # words, letter, digit, window
    value: str

    @property
    def name(self) -> str:
        """Its file name (without .wav) in a voice pack."""
        name = self.value if self.kind == "words" else f"{self.kind}-{self.value}"
        return name.replace("/", "_").replace("\\", "_")


def segments_of(template: str, number: str, window: int | str) -> list[Segment]:
    """The pieces of one call's sentence, in order."""
    out: list[Segment] = []
    for kind, words in split_template(template):
        if kind == "words":
            out.append(Segment("words", words))
        elif kind == "number":
            out += [Segment("letter" if c.isalpha() else "digit", c.upper()) for c in number if c.isalnum()]
        else:
            out.append(Segment("window", str(window).strip()))
    return out


def spoken(segment: Segment, lang: str) -> str:
    """What espeak-ng says for a segment: digits the way the hall reads them, window numbers as numerals."""
    from display.voice import EN_DIGITS, ZH_DIGITS, read_window

    if segment.kind == "digit":
        return (ZH_DIGITS if lang == "zh-CN" else EN_DIGITS)[int(segment.value)]
    if segment.kind == "window":
        return read_window(segment.value, lang)
    return segment.value


def trim(pcm: bytes, rate: int = FORMAT[2]) -> bytes:
    """16-bit mono PCM without the silence at its ends (espeak-ng adds a third of a second after each)."""
    samples = array.array("h", pcm)
    if sys.byteorder == "big":
        samples.byteswap()
    start = _first_loud(samples)
    if start >= len(samples):
        return b""
    end = len(samples) - _first_loud(reversed(samples))
    margin = int(rate * MARGIN_S)
    return pcm[2 * max(0, start - margin) : 2 * min(len(samples), end + margin)]


def _first_loud(samples: Iterable[int]) -> int:
    count = 0
    for sample in samples:
        if abs(sample) > SILENCE:
            return count
        count += 1
    return count


def write_wav(path: Path, sentences: Sequence[Sequence[bytes]], pause_s: float) -> None:
    """One WAV: each sentence's pieces with a short gap between them, the sentences with `pause_s` between."""
    channels, width, rate = FORMAT
    gap, pause = b"\0" * (int(rate * GAP_S) * width), b"\0" * (int(rate * pause_s) * width)
    frames = pause.join(gap.join(pieces) for pieces in sentences)
    # one temporary file per writer: two threads joining the same call must not share one
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with wave.open(str(tmp), "wb") as sink:
        sink.setparams((channels, width, rate, 0, "NONE", "not compressed"))
        sink.writeframes(frames)
    os.replace(tmp, path)  # atomic: /audio never serves half a file


@dataclass(frozen=True)
class Piece:
    """A segment as one voice says it, and where its audio comes from (the pack's file, or the engine)."""

    segment: Segment
    lang: str
    voice: str
    rate: int
    volume: float
    recorded: Path | None
    stamp: str  # the recorded file's size and time, so a replaced file is read again

    @property
    def key(self) -> str:
        """Names the piece's audio in the caches: what is said, by which voice, how, from which recording."""
        how = (self.rate, round(self.volume, 3)) if self.recorded is None else ()
        return _piece_key(self.segment, self.lang, self.voice, how, self.stamp)


@functools.lru_cache(maxsize=4096)  # a call asks for a dozen keys; the same few hundred all day
def _piece_key(segment: Segment, lang: str, voice: str, how: tuple, stamp: str) -> str:
    payload = [SEGMENT_VERSION, segment.kind, segment.value, lang, voice, *how, stamp]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode("utf-8")).hexdigest()[:32]


class Segments:
    """Trimmed PCM of every piece said so far: in memory, on disk (cache/segments/), from packs or the engine."""

    def __init__(self, cache_dir: Path, packs: Path | None = None) -> None:
        self.directory = cache_dir / "segments"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.packs = packs.resolve() if packs is not None else None
        self.memory: dict[str, bytes] = {}
        self.synthesised = 0  # pieces rendered by the engine (the rest came from packs or the disk cache)
        self.refused: set[Path] = set()

    def plan(
        self, templates: Sequence[tuple[str, str]], voice_cfg: Any, hall: str | None, number: str, window: int | str
    ) -> list[list[Piece]]:
        """The pieces of a call, one list per (language, voice id, template)."""
        # One look for the hall's pack folder, not one per piece: most halls have none.
        pack = self.packs / hall if self.packs is not None and hall and (self.packs / hall).is_dir() else None
        return [
            [
                self._piece(pack, lang, segment, voice, voice_cfg.rate, voice_cfg.volume)
                for segment in segments_of(template, number, window)
            ]
            for lang, voice, template in templates
        ]

    def _piece(self, pack: Path | None, lang: str, segment: Segment, voice: str, rate: int, volume: float) -> Piece:
        recorded, stamp = None, "tts"
        if pack is not None:
            path = pack / lang / f"{segment.name}.wav"
            try:
                stat = path.stat()
            except OSError:
                pass
            else:
                if path not in self.refused:
                    recorded, stamp = path, f"pack:{stat.st_size}:{stat.st_mtime_ns}"
        return Piece(segment, lang, voice, int(rate), float(volume), recorded, stamp)

    def ready(self, plan: Sequence[Sequence[Piece]]) -> bool:
        """Whether every piece is in memory (the call can be joined at once)."""
        return all(piece.key in self.memory for pieces in plan for piece in pieces)

    def pcm(self, piece: Piece, renderer) -> bytes:
        """The piece's trimmed PCM: memory, then disk, then the pack's file, then the engine (on the voice worker)."""
        cached = self.memory.get(piece.key)
        if cached is not None:
            return cached
        stored = self.directory / f"{piece.key}.wav"
        pcm = _read(stored) if stored.is_file() else None
        if pcm is None:
            pcm = self._recorded(piece.recorded) if piece.recorded is not None else None
            if pcm is None:
                pcm = self._synthesise(piece, renderer)
            write_wav(stored, [[pcm]], 0)  # the next start of the server has it at once
        self.memory[piece.key] = pcm
        return pcm

    def pcm_of(self, key: str) -> bytes | None:
        """A piece's trimmed PCM by its key (memory, then the disk cache), None if it was never made here."""
        cached = self.memory.get(key)
        if cached is None and len(key) == 32 and key.isalnum():  # a key, never a path
            stored = self.directory / f"{key}.wav"
            cached = _read(stored) if stored.is_file() else None
            if cached is not None:
                self.memory[key] = cached
        return cached

    def _recorded(self, path: Path) -> bytes | None:
        try:
            with wave.open(str(path), "rb") as src:
                fmt = (src.getnchannels(), src.getsampwidth(), src.getframerate())
                frames = src.readframes(src.getnframes())
        except (OSError, EOFError, wave.Error) as exc:
            fmt, frames = None, b""
            log.warning("voice pack: cannot read %s (%s); synthesising it instead", path, exc)
        if fmt != FORMAT:
            if fmt is not None:
                log.warning("voice pack: %s is %s, not %s (mono 16-bit 22,050 Hz); synthesising it", path, fmt, FORMAT)
            self.refused.add(path)
            return None
        return trim(frames)

    def _synthesise(self, piece: Piece, renderer) -> bytes:
        with tempfile.TemporaryDirectory(dir=self.directory, prefix=".render-") as tmp:
            out = Path(tmp) / "piece.wav"
            renderer.render(piece.voice, spoken(piece.segment, piece.lang), piece.rate, piece.volume, out)
            self.synthesised += 1
            with wave.open(str(out), "rb") as src:
                fmt = (src.getnchannels(), src.getsampwidth(), src.getframerate())
                if fmt != FORMAT:
                    raise ValueError(f"the speech engine wrote {fmt}, expected {FORMAT}")
                return trim(src.readframes(src.getnframes()))


def _read(path: Path) -> bytes | None:
    try:
        with wave.open(str(path), "rb") as src:
            return src.readframes(src.getnframes())
    except (OSError, EOFError, wave.Error):
        return None


def pack_names(templates: dict[str, str], windows: Iterable[int], prefixes: Iterable[str]) -> dict[str, list[str]]:
    """Every segment name a hall's calls use, per language (its template): what a complete voice pack holds."""
    names: dict[str, list[str]] = {}
    for lang, template in templates.items():
        found = {s.name: None for s in segments_of(template, "", "") if s.kind == "words"}
        found |= {f"letter-{p.upper()}": None for p in prefixes}
        found |= {f"digit-{d}": None for d in range(10)}
        found |= {f"window-{n}": None for n in windows}
        names[lang] = list(found)
    return names
