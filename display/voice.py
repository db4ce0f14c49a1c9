"""Voice calling: hall-style number reading, announcement texts and cached WAV rendering.

Renders run one at a time on ONE native OS thread (real even under eventlet), so callers get a
key at once; the engine itself runs in a child process (display.voice_engine) that may crash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import wave
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from queue_server.core.announcements import TemplateError, check_template

from .voice_engine import VOICES, ChildRenderer, VoiceUnavailable, is_green, native
from .voice_segments import GAP_S, Piece, Segments, write_wav

log = logging.getLogger(__name__)

DEFAULT_TEMPLATES: dict[str, str] = {
    "zh-CN": "请 {number} 号 到 {window} 号窗口 办理",
    "en": "Number {number}, please go to window {window}",
}
PAUSE_S = 0.6
# Longest text one utterance hands to the engine: a whole call is a few dozen characters, and
# espeak-ng has crashed on texts of tens of thousands.
LONGEST_TEXT = 500
RENDER_VERSION = 2
POLL_S = 0.02
PRUNE_EVERY = 50  # joined (or noted) calls between two prunes of the cache folder
KEEP_CALLS = 512  # noted calls remembered in memory (older ones are read back from their note on disk)
ZH_DIGITS = "零一二三四五六七八九"
EN_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_KEY = re.compile(r"^[0-9a-f]{32}$")
_CJK = re.compile(r"[\u3400-\u9fff]")

Texts = Sequence[tuple[str, str]]


# --- reading numbers the way a hall reads them -------------------------------------------


def read_number(number: str, lang: str = "zh-CN") -> str:
    """Ticket number as spoken: letters apart, then digits one by one ("A001" -> "A 零零一")."""
    letters = [t.upper() for t in re.findall(r"[A-Za-z]", number)]
    runs = re.findall(r"\d+", number)
    if lang == "zh-CN":
        digits = " ".join("".join(ZH_DIGITS[int(d)] for d in run) for run in runs)
        return " ".join(part for part in (" ".join(letters), digits) if part)
    digits = " ".join(" ".join(EN_DIGITS[int(d)] for d in run) for run in runs)
    return ", ".join(part for part in (" ".join(letters), digits) if part)


def _zh_numeral(n: int) -> str:
    if n == 0:
        return ZH_DIGITS[0]
    if n >= 10000:
        return "".join(ZH_DIGITS[int(d)] for d in str(n))
    out: list[str] = []
    gap = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            gap = gap or bool(out)
            continue
        if gap:
            out.append(ZH_DIGITS[0])
            gap = False
        out.append(ZH_DIGITS[digit] + unit)
    text = "".join(out)
    return text[1:] if 10 <= n < 20 else text  # 十二, not 一十二


def read_window(window: int | str, lang: str = "zh-CN") -> str:
    """Window number as spoken: 3 -> 三, 12 -> 十二, 101 -> 一百零一; English keeps digits."""
    text = str(window).strip()
    if lang != "zh-CN" or not text.isdigit():
        return text
    return _zh_numeral(int(text))


def announcement_texts(voice_cfg: Any, number: str, window_number: int | str) -> list[tuple[str, str]]:
    """(language, text) for each configured language, from the hall's templates."""
    templates = dict(voice_cfg.templates)
    texts = []
    for lang in voice_cfg.languages:
        spoken = {"number": read_number(number, lang), "window": read_window(window_number, lang)}
        texts.append((lang, _template(templates, lang).format(**spoken)))
    return texts


def _template(templates: dict[str, str], lang: str) -> str:
    """The hall's template for `lang`; the default for one saved before the template rules."""
    template = templates.get(lang, DEFAULT_TEMPLATES[lang])
    try:
        return check_template(template)
    except TemplateError as problem:
        log.warning("voice: the %s template %r %s; using the default", lang, template[:80], problem.message)
        return DEFAULT_TEMPLATES[lang]


class VoiceCache:
    """Rendered announcements on disk, one WAV per key; the key is a hash of what is said and how."""

    def __init__(self, directory: str | os.PathLike[str], max_files: int = 1000) -> None:
        # Absolute: Flask's send_file resolves a relative path against the app's folder, not the cwd.
        self.directory = Path(directory).resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.max_files = max_files

    def key(self, texts: Texts, voices: dict[str, str], rate: int, volume: float, repeat: int) -> str:
        """Deterministic key for one announcement."""
        payload = {
            "version": RENDER_VERSION,
            "texts": [list(t) for t in texts],
            "pause": PAUSE_S,
            "voices": {lang: voices.get(lang, lang) for lang, _ in texts},
            "rate": int(rate),
            "volume": round(float(volume), 3),
            "repeat": int(repeat),
        }
        blob = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()[:32]

    def call_key(self, plan: Sequence[Sequence[Piece]], repeat: int) -> str:
        """Deterministic key for one call joined from segments."""
        payload = [RENDER_VERSION, "segments", [[p.key for p in pieces] for pieces in plan], PAUSE_S, GAP_S, repeat]
        return hashlib.sha256(json.dumps(payload).encode("utf-8")).hexdigest()[:32]

    def path(self, key: str) -> Path:
        """Where the WAV for `key` lives; rejects anything that is not a key (no path tricks)."""
        if not _KEY.match(key):
            raise ValueError(f"not a voice key: {key!r}")
        return self.directory / f"{key}.wav"

    def write_note(self, key: str, note: dict) -> None:
        """What a call is joined from (its pieces' keys), for whichever process serves its audio first."""
        path = self.path(key).with_suffix(".call")
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps(note), encoding="utf-8")
        os.replace(tmp, path)

    def read_note(self, key: str) -> tuple[list[list[str]], int] | None:
        try:
            note = json.loads(self.path(key).with_suffix(".call").read_text(encoding="utf-8"))
            return [[str(k) for k in keys] for keys in note["pieces"]], int(note["repeat"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def prune(self) -> None:
        """Keep at most max_files WAVs (and as many call notes), dropping the least recently written."""
        for suffix in (".wav", ".call"):
            with os.scandir(self.directory) as entries:
                files = sorted(
                    ((e.stat().st_mtime, e.path) for e in entries if e.name.endswith(suffix) and e.is_file()),
                )
            for _mtime, old in files[: max(0, len(files) - self.max_files)]:
                Path(old).unlink(missing_ok=True)


# --- one native worker thread for the renders ---------------------------------------------


class _Job:
    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.done = native("threading").Event()
        self.error: BaseException | None = None

    def wait(self, timeout: float) -> bool:
        """Block until done; under eventlet poll with the green sleep so the hub keeps running."""
        if not is_green():
            return self.done.wait(timeout)
        deadline = time.monotonic() + timeout
        while not self.done.is_set() and time.monotonic() < deadline:
            time.sleep(POLL_S)
        return self.done.is_set()


class _Worker:
    """Runs jobs one at a time, in order, on a single daemon OS thread."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.jobs = native("queue").Queue()
        native("threading").Thread(target=self._run, name="voice-render", daemon=True).start()

    def submit(self, fn: Callable[[], Any]) -> _Job:
        job = _Job(fn)
        self.jobs.put(job)
        return job

    def _run(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                job.fn()
            except BaseException as exc:  # reported to whoever waits
                job.error = exc
            job.done.set()


_worker: _Worker | None = None
_worker_lock = threading.Lock()


def _shared_worker() -> _Worker:
    global _worker
    with _worker_lock:
        if _worker is None or _worker.pid != os.getpid():  # a forked child needs its own thread
            _worker = _Worker()
        return _worker


class Renderer(Protocol):
    def probe(self) -> None: ...
    def render(self, voice: str, text: str, rate: int, volume: float, out: Path) -> None: ...


_shared_renderer = ChildRenderer()


def concatenate(parts: Sequence[Path], out: Path, pause_s: float = PAUSE_S) -> None:
    """Join WAVs of one format into `out`, with `pause_s` of silence between them."""
    params = None
    with wave.open(str(out), "wb") as sink:
        for index, part in enumerate(parts):
            with wave.open(str(part), "rb") as src:
                fmt = (src.getnchannels(), src.getsampwidth(), src.getframerate())
                if params is None:
                    params = fmt
                    sink.setparams((*fmt, 0, "NONE", "not compressed"))
                elif fmt != params:
                    raise ValueError(f"{part.name} is {fmt}, expected {params}; cannot join without resampling")
                if index:
                    sink.writeframes(b"\0" * int(params[2] * pause_s) * params[0] * params[1])
                sink.writeframes(src.readframes(src.getnframes()))


def voice_status() -> tuple[bool, str]:
    """(ok, message) for the shared engine; the message names the package to install."""
    return _probe_result(_shared_worker().submit(_shared_renderer.probe), 15.0)


def _probe_result(job: _Job | None, timeout: float) -> tuple[bool, str]:
    if job is None:
        return False, "voice off: disabled for this server"
    if not job.wait(timeout):
        return False, "voice off: the speech engine did not start in time"
    if job.error is not None:
        return False, str(job.error)
    return True, "voice on: pyttsx3 + espeak-ng (" + ", ".join(f"{k}={v}" for k, v in VOICES.items()) + ")"


class Voice:
    """Announcement audio for the server: request() at once, render in the background, wait()."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        available: bool | None = None,
        renderer: Renderer | None = None,
        voices: dict[str, str] | None = None,
        packs: str | os.PathLike[str] | None = None,
        shared: bool = True,
    ) -> None:
        self.cache = VoiceCache(directory)
        # Calls are joined from segments; `packs` holds the halls' recorded ones (<packs>/<hall>/<lang>/<name>.wav).
        self.segments = Segments(self.cache.directory, Path(packs) if packs is not None else None)
        self.renderer: Renderer = renderer or _shared_renderer
        self.voices = voices or dict(VOICES)
        self.renders = 0
        self._forced = available
        self._pending: dict[str, _Job] = {}
        self._calls: dict[str, tuple[list[list[str]], int]] = {}  # noted calls, the latest KEEP_CALLS
        self.shared = shared  # other processes serve this one's calls from its notes on disk
        self.noted = 0
        self._lock = native("threading").Lock()
        self._joining = native("threading").Lock()
        self._probe_job = None if available is False else _shared_worker().submit(self.renderer.probe)

    def status(self) -> tuple[bool, str]:
        """(ok, message) for /readyz; waits briefly for the engine probe."""
        return _probe_result(self._probe_job, 15.0)

    def available(self) -> bool:
        """False once the engine is known to be unusable (never blocks)."""
        if self._forced is not None:
            return self._forced
        job = self._probe_job
        return job is None or not job.done.is_set() or job.error is None

    def request(self, voice_cfg: Any, number: str, window_number: int | str, hall: str | None = None) -> dict[str, Any]:
        """Texts and audio URL for one call of `hall`; joined at once when its segments are known, else queued.
        Never waits for the engine."""
        texts = announcement_texts(voice_cfg, number, window_number)
        by_lang = dict(texts)
        text = by_lang.get("zh-CN") or (texts[0][1] if texts else "")
        if not texts or not voice_cfg.enabled or not self.available():
            return {"text": text, "texts": by_lang, "key": None, "audio_url": None}
        key = self._submit_call(voice_cfg, number, window_number, hall)
        return {"text": text, "texts": by_lang, "key": key, "audio_url": f"/audio/{key}.wav"}

    def plan(self, voice_cfg: Any, number: str, window_number: int | str, hall: str | None = None) -> list:
        """The pieces of one call, per language of the hall (with `hall`: its recorded ones where it has them)."""
        templates = [
            (lang, self.voices.get(lang, lang), _template(dict(voice_cfg.templates), lang))
            for lang in voice_cfg.languages
        ]
        return self.segments.plan(templates, voice_cfg, hall, number, window_number)

    def _submit_call(self, voice_cfg: Any, number: str, window_number: int | str, hall: str | None) -> str:
        plan = self.plan(voice_cfg, number, window_number, hall)
        repeat = int(voice_cfg.repeat)
        key = self.cache.call_key(plan, repeat)
        with self._lock:
            job = self._pending.get(key)
            if key in self._calls or (job is not None and (not job.done.is_set() or job.error is None)):
                return key
            if self.cache.path(key).is_file():
                return key
            if self.segments.ready(plan):
                self._note(key, plan, repeat)
            else:
                self._pending[key] = _shared_worker().submit(lambda: self._join(key, plan, repeat))
        return key

    def _note(self, key: str, plan: Sequence[Sequence[Piece]], repeat: int) -> None:
        """A call whose pieces are all known: its WAV is joined when first asked for (wait()), not on the call.

        The call's request then costs no audio work; with `shared`, a note on disk lets any process serve it.
        """
        pieces = [[piece.key for piece in pieces] for pieces in plan]
        self._calls[key] = (pieces, repeat)
        if len(self._calls) > KEEP_CALLS:
            del self._calls[next(iter(self._calls))]
        if self.shared:
            self.cache.write_note(key, {"pieces": pieces, "repeat": repeat})
            self.noted += 1
            if self.noted % PRUNE_EVERY == 0:
                self.cache.prune()

    def _join(self, key: str, plan: Sequence[Sequence[Piece]], repeat: int) -> None:
        """The call's WAV from its pieces (rendering those not known yet: on the worker only)."""
        path = self.cache.path(key)
        if not path.is_file():
            sentences = [[self.segments.pcm(piece, self.renderer) for piece in pieces] for pieces in plan]
            self._write(path, sentences, repeat)
        with self._lock:
            self._pending.pop(key, None)

    def _write(self, path: Path, sentences: list[list[bytes]], repeat: int) -> None:
        self.renders += 1
        write_wav(path, sentences * repeat, PAUSE_S)
        if self.renders % PRUNE_EVERY == 1:  # a listing of the folder costs more than the join itself
            self.cache.prune()

    def _join_noted(self, key: str, path: Path) -> bool:
        """Join a call noted by this process or another one sharing the cache folder; False if none was."""
        noted = self._calls.get(key) or self.cache.read_note(key)
        if noted is None:
            return False
        pieces, repeat = noted
        with self._joining:  # boards fetch a call together: one joins, the others find the file
            if path.is_file():
                return True
            sentences = [[self.segments.pcm_of(piece) for piece in keys] for keys in pieces]
            if any(pcm is None for pcm in (p for keys in sentences for p in keys)):
                log.warning("voice: a piece of call %s is gone from the cache; no audio for it", key)
                return False
            self._write(path, sentences, repeat)
        return True

    def wait(self, key: str, timeout: float = 30.0) -> Path | None:
        """The WAV for `key` once rendered, or None (unknown key, failure, timeout)."""
        try:
            path = self.cache.path(key)
        except ValueError:
            return None
        job = self._pending.get(key)
        if path.is_file():
            return path
        if job is None:
            return path if self._join_noted(key, path) else None
        job.wait(timeout)
        return path if path.is_file() else None

    def render_now(
        self, texts: Texts, rate: int = 160, volume: float = 1.0, repeat: int = 1, timeout: float = 60.0
    ) -> Path:
        """Render (or reuse) an announcement and return its WAV; raises VoiceUnavailable."""
        if not self.available():
            raise VoiceUnavailable(self.status()[1])
        key = self._submit(texts, rate, volume, repeat)
        path = self.wait(key, timeout)
        if path is None:
            job = self._pending.get(key)
            raise VoiceUnavailable(f"voice rendering failed: {(job and job.error) or 'timed out'}")
        return path

    def say(
        self, text: str, out: str | os.PathLike[str] | None = None, lang: str | None = None, player: str | None = None
    ) -> Path:
        """Render `text` (zh-CN or en, guessed when not given) and play it, or save it to `out`."""
        path = self.render_now([(lang or ("zh-CN" if _CJK.search(text) else "en"), text)])
        if out is not None:
            shutil.copyfile(path, out)
            return Path(out)
        from .announcer import play_wav

        play_wav(path, player)
        return path

    def _submit(self, texts: Texts, rate: int, volume: float, repeat: int) -> str:
        texts = [(lang, text[:LONGEST_TEXT]) for lang, text in texts]
        key = self.cache.key(texts, self.voices, rate, volume, repeat)
        with self._lock:
            job = self._pending.get(key)
            if self.cache.path(key).is_file() or (job is not None and (not job.done.is_set() or job.error is None)):
                return key
            self._pending[key] = _shared_worker().submit(lambda: self._render(key, texts, rate, volume, repeat))
        return key

    def _render(self, key: str, texts: Texts, rate: int, volume: float, repeat: int) -> None:
        """Runs on the worker: each language once, then joined `repeat` times with pauses."""
        if self.cache.path(key).is_file():
            return
        self.renders += 1
        with tempfile.TemporaryDirectory(dir=self.cache.directory, prefix=".render-") as tmp:
            parts = []
            for index, (lang, text) in enumerate(texts):
                part = Path(tmp) / f"{index}.wav"
                self.renderer.render(self.voices.get(lang, lang), text, rate, volume, part)
                parts.append(part)
            joined = Path(tmp) / "joined.wav"
            concatenate(parts * repeat, joined)
            os.replace(joined, self.cache.path(key))  # atomic: /audio never serves half a file
        self.cache.prune()
        with self._lock:
            self._pending.pop(key, None)


def say(
    text: str,
    out: str | os.PathLike[str] | None = None,
    lang: str | None = None,
    directory: str | os.PathLike[str] | None = None,
    player: str | None = None,
) -> Path:
    """CLI `queue-server say TEXT [--out FILE]`: speak through aplay/paplay, or save a WAV."""
    voice = Voice(directory or Path(tempfile.gettempdir()) / "onewindow-voice")
    return voice.say(text, out, lang, player)
