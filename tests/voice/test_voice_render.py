"""Rendering WAVs: real espeak-ng audio, Mandarin phonemes, the cache, voice off, eventlet."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from voice_helpers import CountingRenderer, wav_info, write_tone

from display.voice import PAUSE_S, Voice, VoiceUnavailable, announcement_texts, concatenate, say
from display.voice_segments import GAP_S

ROOT = Path(__file__).resolve().parents[2]
LINES = {
    "zh-CN": "请 A 零零一 号 到 三 号窗口 办理",
    "en": "Number A, zero zero one, please go to window 3",
}


def phonemes(voice: str, text: str) -> str:
    """espeak-ng's phoneme transcription (-x), without playing audio (-q)."""
    done = subprocess.run(["espeak-ng", "-q", "-v", voice, "-x", text], capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_rendered_line_is_sane_speech(tmp_path, engine_ok, lang: str) -> None:
    voice = Voice(tmp_path)
    info = wav_info(voice.render_now([(lang, LINES[lang])]))
    assert (info.comptype, info.channels, info.sampwidth, info.rate) == ("NONE", 1, 2, 22050)
    assert 0.5 < info.seconds < 15
    assert info.rms > 300  # not silence


def test_espeak_sample_rate_matches_the_cli(tmp_path, engine_ok) -> None:
    """pyttsx3 writes a fixed 22050 Hz header; the espeak-ng CLI writes the real rate."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng CLI not installed")
    cli = tmp_path / "cli.wav"
    subprocess.run(["espeak-ng", "-v", "cmn-latn-pinyin", "-s", "160", "-w", str(cli), LINES["zh-CN"]], check=True)
    ours = wav_info(Voice(tmp_path / "cache").render_now([("zh-CN", LINES["zh-CN"])], rate=160))
    theirs = wav_info(cli)
    assert ours.rate == theirs.rate
    # Same speech at the same rate: a wrong header rate would be off by a quarter or more.
    assert abs(ours.frames - theirs.frames) < 0.02 * theirs.frames


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng CLI not installed")
@pytest.mark.parametrize("number", ["A001", "B1000", "AB012", "Z099"])
def test_chinese_line_is_read_as_mandarin_not_english_pinyin(hall_voice, number: str) -> None:
    text = dict(announcement_texts(hall_voice, number, 12))["zh-CN"]
    mandarin, plain = phonemes("cmn-latn-pinyin", text), phonemes("cmn", text)
    # Plain cmn spells the pinyin with the English voice and says so with "(en)";
    # this proves the check can tell the two apart.
    assert "(en)" in plain
    assert "(en)" not in mandarin
    # Every Han character comes out as a syllable carrying a Mandarin tone contour (e.g. 请 -> tS;h'i21N).
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    assert len(re.findall(r"[a-zA-Z@]+[1-5]{2,3}", mandarin)) >= han
    assert mandarin.startswith("tS;h'i21N")


def test_announcement_joins_languages_and_repeats_with_pauses(tmp_path, hall_voice) -> None:
    renderer = CountingRenderer()
    voice = Voice(tmp_path, renderer=renderer)
    hall_voice.repeat = 3
    call = voice.request(hall_voice, "A001", 3)
    info = wav_info(voice.wait(call["key"], 30))
    # Each piece once per voice: 请, A, 零, 一, 号 到, 三, 号窗口 办理 and Number, A, zero, one, please go to window, 3.
    assert sorted(renderer.calls) == sorted(
        [("cmn-latn-pinyin", t) for t in ("请", "A", "零", "一", "号 到", "三", "号窗口 办理")]
        + [("en", t) for t in ("Number", "A", "zero", "one", "please go to window", "3")]
    )
    pieces, gap, pause = {"zh-CN": 8, "en": 7}, int(22050 * GAP_S), int(22050 * PAUSE_S)
    # A tone is loud from end to end: nothing is trimmed.
    sentence = {lang: n * 2204 + (n - 1) * gap for lang, n in pieces.items()}
    assert info.frames == 3 * sum(sentence.values()) + (2 * 3 - 1) * pause


def test_request_returns_at_once_with_a_stable_url(tmp_path, hall_voice) -> None:
    voice = Voice(tmp_path, renderer=CountingRenderer())
    call = voice.request(hall_voice, "A001", 3)
    assert call["text"] == LINES["zh-CN"]
    assert call["texts"] == LINES
    assert call["audio_url"] == f"/audio/{call['key']}.wav"
    assert voice.wait(call["key"], 30) == voice.cache.path(call["key"])


def test_second_request_for_the_same_call_renders_nothing(tmp_path, hall_voice) -> None:
    renderer = CountingRenderer()
    voice = Voice(tmp_path, renderer=renderer)
    first = voice.request(hall_voice, "A001", 3)
    assert voice.wait(first["key"], 30) is not None
    again = voice.request(hall_voice, "A001", 3)  # a recall
    assert voice.wait(again["key"], 30) is not None
    assert again["key"] == first["key"]
    assert (voice.renders, len(renderer.calls)) == (1, 13)
    restarted = Voice(tmp_path, renderer=renderer)  # the cache outlives the process
    restarted.request(hall_voice, "A001", 3)
    assert restarted.renders == 0
    other = voice.request(hall_voice, "A002", 3)
    assert voice.wait(other["key"], 30) is not None and voice.renders == 2


def test_wait_on_unknown_or_bad_key_is_none(tmp_path) -> None:
    voice = Voice(tmp_path, renderer=CountingRenderer())
    assert voice.wait("0" * 32, 1) is None
    assert voice.wait("../../etc/passwd", 1) is None


@pytest.mark.parametrize("how", ["available=False", "broken driver"])
def test_voice_off_still_gives_the_text(tmp_path, hall_voice, how: str) -> None:
    if how == "available=False":
        voice = Voice(tmp_path, available=False)
    else:
        voice = Voice(tmp_path, renderer=CountingRenderer(broken=True))
    ok, message = voice.status()
    assert not ok
    assert how == "available=False" or "apt-get install espeak-ng libespeak-ng1" in message
    call = voice.request(hall_voice, "A001", 3)
    assert call["audio_url"] is None and call["key"] is None
    assert call["text"] == LINES["zh-CN"]
    with pytest.raises(VoiceUnavailable):
        voice.render_now([("zh-CN", "请")])


def test_disabled_hall_gets_no_audio(tmp_path, hall_voice) -> None:
    hall_voice.enabled = False
    voice = Voice(tmp_path, renderer=CountingRenderer())
    assert voice.request(hall_voice, "A001", 3)["audio_url"] is None
    assert voice.renders == 0


def test_concatenate_refuses_mixed_sample_rates(tmp_path) -> None:
    write_tone(tmp_path / "a.wav", rate=22050)
    write_tone(tmp_path / "b.wav", rate=16000)
    with pytest.raises(ValueError, match="resampling"):
        concatenate([tmp_path / "a.wav", tmp_path / "b.wav"], tmp_path / "out.wav")


def test_say_saves_to_a_file(tmp_path, engine_ok) -> None:
    """What `queue-server say TEXT --out FILE` calls."""
    out = say("请 A 零零一 号 到 三 号窗口 办理", out=tmp_path / "said.wav", directory=tmp_path / "cache")
    assert out == tmp_path / "said.wav" and wav_info(out).rms > 300
    english = say("Number A, zero zero one", out=tmp_path / "en.wav", lang="en", directory=tmp_path / "cache")
    assert wav_info(english).rms > 300


GREEN_SCRIPT = textwrap.dedent(
    """
    import eventlet
    eventlet.monkey_patch()
    import json, sys
    from pathlib import Path
    from eventlet import patcher
    from display.voice import Voice
    sys.path.insert(0, sys.argv[2])
    from voice_helpers import HallVoice, write_tone

    go = patcher.original("threading").Event()

    class BlockingRenderer:
        # Blocks on a real OS-level event: if rendering ran on the hub's thread the greenlet
        # that sets it could never run and wait() would time out.
        def probe(self):
            pass

        def render(self, voice, text, rate, volume, out):
            assert go.wait(60)
            write_tone(out)

    fake = Voice(Path(sys.argv[1]) / "fake", renderer=BlockingRenderer())
    call = fake.request(HallVoice(), "A001", 3)
    eventlet.spawn(go.set)
    unblocked = fake.wait(call["key"], 60) is not None

    real = Voice(Path(sys.argv[1]) / "real")
    ok, message = real.status()
    ticks = []
    def tick():
        while True:
            ticks.append(1)
            eventlet.sleep(0)
    ticker = eventlet.spawn(tick)
    call = real.request(HallVoice(), "B1000", 101)
    path = real.wait(call["key"], 60) if ok else None
    ticker.kill()
    print(json.dumps({"unblocked": unblocked, "ok": ok, "message": message, "path": str(path), "ticks": len(ticks)}))
    """
)


def test_rendering_under_eventlet_monkey_patching(tmp_path) -> None:
    pytest.importorskip("eventlet")
    done = subprocess.run(
        [sys.executable, "-c", GREEN_SCRIPT, str(tmp_path), str(Path(__file__).parent)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["unblocked"]
    if not result["ok"]:
        pytest.skip(result["message"])
    assert result["ticks"] > 0  # the hub kept running while the caller waited
    info = wav_info(Path(result["path"]))
    assert info.rate == 22050 and info.rms > 300
