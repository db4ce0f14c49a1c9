"""Calls joined from segments with real espeak-ng: length and format, a hall's recorded segments (语音包) used,
a missing or unusable one synthesised, a warm call joined at once."""

from __future__ import annotations

import array
import logging
import threading
import wave
from pathlib import Path

import pytest
from voice_helpers import HallVoice, wav_info, write_tone

from display.voice import PAUSE_S, Voice
from display.voice_engine import ChildRenderer
from display.voice_segments import FORMAT, GAP_S, Segment, pack_names, segments_of, spoken, trim, write_wav
from queue_server.core.announcements import split_template

ZH = "请 {number} 号，到 {window} 号窗口办理"


class Listening(ChildRenderer):
    """The real engine, noting what it is asked to say."""

    def __init__(self) -> None:
        super().__init__()
        self.said: list[tuple[str, str]] = []

    def render(self, voice, text, rate, volume, out) -> None:
        self.said.append((voice, text))
        super().render(voice, text, rate, volume, out)


def frames(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes())


def pack(root: Path, hall: str, lang: str, name: str, **tone) -> bytes:
    """Drop one recorded segment into a hall's voice pack; its samples."""
    path = root / hall / lang / f"{name}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_tone(path, **tone)
    return frames(path)


def test_templates_split_into_words_and_placeholders() -> None:
    assert split_template(ZH) == [
        ("words", "请"),
        ("number", ""),
        ("words", "号，到"),
        ("window", ""),
        ("words", "号窗口办理"),
    ]
    assert [s.name for s in segments_of(ZH, "b012", 12)] == [
        "请",
        "letter-B",
        "digit-0",
        "digit-1",
        "digit-2",
        "号，到",
        "window-12",
        "号窗口办理",
    ]
    assert [spoken(Segment("window", "12"), "zh-CN"), spoken(Segment("digit", "0"), "en")] == ["十二", "zero"]
    names = pack_names({"zh-CN": ZH}, windows=[1, 2], prefixes=["A"])["zh-CN"]
    assert names[:3] == ["请", "号，到", "号窗口办理"] and {"letter-A", "digit-9", "window-2"} <= set(names)


def test_joined_call_has_the_engine_format_and_the_length_of_its_pieces(tmp_path, engine_ok) -> None:
    voice = Voice(tmp_path / "cache")
    cfg = HallVoice(templates={"zh-CN": ZH}, repeat=2)
    call = voice.request(cfg, "A012", 7)
    info = wav_info(voice.wait(call["key"], 60))
    assert (info.comptype, info.channels, info.sampwidth, info.rate) == ("NONE", *FORMAT)
    assert info.rms > 300  # speech, not silence

    # The call is its pieces as the engine said them, trimmed, with gaps between pieces and pauses between sentences.
    plan = voice.plan(cfg, "A012", 7)
    assert [len(pieces) for pieces in plan] == [8, 7]  # 请 A 0 1 2 号，到 七 号窗口办理 / Number A 0 1 2 please… 7
    pcm = [[voice.segments.memory[piece.key] for piece in pieces] for pieces in plan]
    assert all(len(p) > 0 for pieces in pcm for p in pieces)
    sentences = [sum(len(p) // 2 for p in pieces) + (len(pieces) - 1) * int(FORMAT[2] * GAP_S) for pieces in pcm]
    assert info.frames == 2 * sum(sentences) + (2 * 2 - 1) * int(FORMAT[2] * PAUSE_S)
    audio = frames(voice.cache.path(call["key"]))
    assert all(p in audio for pieces in pcm for p in pieces)
    # Each piece is espeak-ng's rendering of it with its silent ends cut (espeak-ng is not bit-exact from
    # one render to the next, so another render of 请 is compared by length).
    engine = ChildRenderer()
    engine.render("cmn-latn-pinyin", "请", 160, 1.0, tmp_path / "qing.wav")
    whole = frames(tmp_path / "qing.wav")
    assert len(pcm[0][0]) < len(whole) and abs(len(trim(whole)) - len(pcm[0][0])) < 0.2 * len(pcm[0][0])


def test_a_recorded_segment_is_used_and_a_missing_one_synthesised(tmp_path, engine_ok) -> None:
    packs = tmp_path / "packs"
    recorded_one = pack(packs, "erdao", "zh-CN", "digit-1", value=12345, frames=4410)
    recorded_words = pack(packs, "erdao", "zh-CN", "号窗口办理", value=7777, frames=8820)
    engine = Listening()
    voice = Voice(tmp_path / "cache", renderer=engine, packs=packs)
    cfg = HallVoice(languages=["zh-CN"], templates={"zh-CN": ZH})

    call = voice.request(cfg, "A012", 3, hall="erdao")
    audio = frames(voice.wait(call["key"], 60))
    assert recorded_one in audio and recorded_words in audio  # the hall's own recordings, sample for sample
    said = {text for _voice, text in engine.said}
    assert "一" not in said and "号窗口办理" not in said  # never asked of espeak-ng
    assert {"请", "A", "零", "二", "号，到", "三"} <= said  # the rest were synthesised
    assert wav_info(voice.cache.path(call["key"])).rms > 300

    other_hall = voice.request(cfg, "A012", 3, hall="jinxiu")  # no pack there: all synthesised
    assert recorded_one not in frames(voice.wait(other_hall["key"], 60))
    assert ("cmn-latn-pinyin", "一") in engine.said


def test_a_pack_segment_in_another_format_is_synthesised_instead(tmp_path, engine_ok, caplog) -> None:
    packs = tmp_path / "packs"
    wrong = pack(packs, "erdao", "zh-CN", "digit-1", value=12345, rate=16000)
    engine = Listening()
    voice = Voice(tmp_path / "cache", renderer=engine, packs=packs)
    with caplog.at_level(logging.WARNING, logger="display.voice_segments"):
        call = voice.request(HallVoice(languages=["zh-CN"]), "A001", 3, hall="erdao")
        audio = frames(voice.wait(call["key"], 60))
    assert wrong not in audio and ("cmn-latn-pinyin", "一") in engine.said
    assert any("digit-1.wav" in r.getMessage() and "22,050" in r.getMessage() for r in caplog.records)


def test_a_replaced_recording_is_read_again(tmp_path) -> None:
    packs = tmp_path / "packs"
    first = pack(packs, "erdao", "en", "Number", value=1111)
    from voice_helpers import CountingRenderer

    voice = Voice(tmp_path / "cache", renderer=CountingRenderer(), packs=packs)
    cfg = HallVoice(languages=["en"])
    before = voice.request(cfg, "A001", 3, hall="erdao")
    assert first in frames(voice.wait(before["key"], 30))
    second = pack(packs, "erdao", "en", "Number", value=2222, frames=3000)
    after = voice.request(cfg, "A001", 3, hall="erdao")
    assert after["key"] != before["key"] and second in frames(voice.wait(after["key"], 30))


def test_a_call_whose_pieces_are_known_is_joined_at_once(tmp_path, engine_ok) -> None:
    engine = Listening()
    voice = Voice(tmp_path / "cache", renderer=engine)
    cfg = HallVoice(templates={"zh-CN": ZH})
    assert voice.wait(voice.request(cfg, "A012", 3)["key"], 60) is not None
    asked = len(engine.said)
    warm = voice.request(cfg, "A021", 3)  # the same letters, digits and window in another order
    assert not voice._pending  # no render queued: the call's request does no audio work at all
    assert not voice.cache.path(warm["key"]).is_file()  # joined when first asked for, not on the call
    assert voice.wait(warm["key"], 0) == voice.cache.path(warm["key"])  # at once, without the engine
    assert len(engine.said) == asked
    other_process = Voice(tmp_path / "cache", renderer=engine)  # another server process on the same folder
    noted = voice.request(cfg, "A102", 3)
    assert frames(other_process.wait(noted["key"], 0)) == frames(voice.wait(noted["key"], 0))
    single = Voice(tmp_path / "cache", renderer=engine, shared=False)  # one process (no Redis): no note on disk
    assert single.wait(single.request(cfg, "A201", 3)["key"], 60) is not None  # its pieces in its memory
    alone = single.request(cfg, "A120", 3)
    assert not single.cache.path(alone["key"]).with_suffix(".call").exists()
    assert other_process.wait(alone["key"], 0) is None and single.wait(alone["key"], 0) is not None
    restarted = Voice(tmp_path / "cache", renderer=engine)  # segments kept on disk outlive the process
    later = restarted.request(cfg, "A210", 3)
    assert restarted.wait(later["key"], 60) is not None and len(engine.said) == asked


@pytest.mark.parametrize("ends", [0, 5000])
def test_trim_drops_only_the_silence_at_the_ends(ends: int) -> None:
    sound = array.array("h", [0] * ends + [3000, -3000] * 1000 + [0] * ends).tobytes()
    kept = trim(sound)
    assert array.array("h", [3000, -3000] * 1000).tobytes() in kept
    assert len(kept) <= 2 * (2000 + 2 * int(FORMAT[2] * 0.01))


def test_a_server_speaks_a_call_with_the_halls_recorded_segments(make_server, tmp_path, engine_ok) -> None:
    """The pack is found in the server's data folder and the call's /audio WAV carries its samples."""
    import io

    import requests

    from tests.support import Listener, login

    recorded = pack(tmp_path / "data" / "voice-packs", "erdao", "zh-CN", "digit-1", value=12345, frames=4410)
    server = make_server()
    clerk = login(server.url, "clerk1")
    assert requests.post(f"{server.url}/api/v1/halls/erdao/windows/1/open", headers=clerk, timeout=30).ok
    ticket = requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=30)
    assert ticket.json()["number"] == "A001"
    board = Listener(server.url, {"hall": "erdao"}).connect()
    board.wait_for("board")
    assert requests.post(f"{server.url}/api/v1/halls/erdao/windows/1/call-next", headers=clerk, timeout=30).ok
    audio = requests.get(server.url + board.wait_for("ticket_called")["announcement"]["audio_url"], timeout=60)
    assert audio.status_code == 200
    with wave.open(io.BytesIO(audio.content), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == FORMAT
        assert recorded in w.readframes(w.getnframes())


def test_the_same_call_joined_by_two_threads_at_once_is_written_whole(tmp_path) -> None:
    """A recall pressed twice joins the same call twice (threading mode: two request threads at once)."""
    pcm, errors = b"\1\0" * FORMAT[2], []
    target = tmp_path / "call.wav"

    def join() -> None:
        for _ in range(20):
            try:
                write_wav(target, [[pcm, pcm]], PAUSE_S)
            except OSError as exc:  # two writers shared one temporary file: one found it moved away
                errors.append(exc)

    threads = [threading.Thread(target=join) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    info = wav_info(target)
    assert (info.channels, info.sampwidth, info.rate) == FORMAT and not list(tmp_path.glob(".*.tmp"))
