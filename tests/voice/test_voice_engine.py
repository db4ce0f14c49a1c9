"""The speech engine runs in a child process: a crash there costs one announcement, never the caller."""

from __future__ import annotations

import logging
import os
import signal

import pytest
from voice_helpers import crash_on_next_request, engine_processes, wav_info

from display.voice import Voice
from display.voice_engine import ChildRenderer, EngineDied

# espeak-ng 1.51 segfaults on this: what {window:>300000} in a template used to produce.
CRASHING_TEXT = "请 A 零零一 号 到 " + " " * 300000 + "三 号窗口"


def spoken(path) -> bool:
    info = wav_info(path)
    return info.frames > 0 and info.rms > 300


def test_the_engine_runs_in_a_child_of_this_process(tmp_path, engine_ok) -> None:
    voice = Voice(tmp_path)
    assert voice.status()[0]
    assert voice.renderer.pid in engine_processes(os.getpid())
    assert voice.renderer.pid != os.getpid()


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGKILL])
def test_engine_killed_while_rendering_costs_that_call_only(tmp_path, hall_voice, engine_ok, caplog, sig) -> None:
    voice = Voice(tmp_path)
    assert voice.status()[0]
    engine = voice.renderer.pid
    with caplog.at_level(logging.WARNING, logger="display.voice_engine"):
        with crash_on_next_request(engine, sig):
            lost = voice.request(hall_voice, "A001", 3)
        assert voice.wait(lost["key"], 60) is None  # no audio for this one; the text still went out
    assert lost["text"] and lost["audio_url"] == f"/audio/{lost['key']}.wav"
    assert any(f"killed by {sig.name}" in r.getMessage() and "no audio" in r.getMessage() for r in caplog.records)

    after = voice.request(hall_voice, "A002", 4)
    assert spoken(voice.wait(after["key"], 60))
    assert voice.renderer.pid not in (None, engine)
    again = voice.request(hall_voice, "A001", 3)  # a recall of the lost call gets its audio now
    assert again["key"] == lost["key"] and spoken(voice.wait(again["key"], 60))


def test_text_that_crashes_espeak_kills_only_the_child(tmp_path, engine_ok) -> None:
    renderer = ChildRenderer()
    renderer.probe()
    first = renderer.pid
    try:
        renderer.render("cmn-latn-pinyin", CRASHING_TEXT, 160, 1.0, tmp_path / "crash.wav")
    except EngineDied as died:
        assert "killed by SIGSEGV" in str(died)
    else:
        pytest.skip("this espeak-ng renders the long text without crashing")
    renderer.render("cmn-latn-pinyin", "请 A 零零二 号 到 三 号窗口 办理", 160, 1.0, tmp_path / "next.wav")
    assert spoken(tmp_path / "next.wav") and renderer.pid != first


def test_voice_caps_the_text_it_gives_the_engine(tmp_path, engine_ok) -> None:
    voice = Voice(tmp_path)
    assert voice.status()[0]
    engine = voice.renderer.pid
    assert spoken(voice.render_now([("zh-CN", CRASHING_TEXT)]))
    assert voice.renderer.pid == engine  # cut to LONGEST_TEXT characters, it did not crash


def test_an_engine_that_stops_answering_is_replaced(tmp_path, engine_ok) -> None:
    renderer = ChildRenderer(render_timeout=1)
    renderer.probe()
    hung = renderer.pid
    os.kill(hung, signal.SIGSTOP)  # alive but never answers: the render times out and it is killed
    with pytest.raises(EngineDied, match="did not answer within 1 s"):
        renderer.render("en", "Number A, zero zero one", 160, 1.0, tmp_path / "hung.wav")
    assert hung not in engine_processes(os.getpid())
    renderer.render("en", "Number A, zero zero two", 160, 1.0, tmp_path / "next.wav")
    assert spoken(tmp_path / "next.wav")


def test_an_engine_that_died_between_calls_is_restarted_quietly(tmp_path, engine_ok) -> None:
    renderer = ChildRenderer()
    renderer.probe()
    idle = renderer.pid
    os.kill(idle, signal.SIGKILL)
    os.waitid(os.P_PID, idle, os.WEXITED | os.WNOWAIT)  # dead (not yet reaped) before the next call
    renderer.render("en", "Number A, zero zero three", 160, 1.0, tmp_path / "after.wav")
    assert spoken(tmp_path / "after.wav") and renderer.pid != idle
