"""A hall's call template cannot crash the server: it is checked where it enters, and the speech
engine runs in a child process, so even a segfault there costs one announcement's audio only."""

from __future__ import annotations

import signal

import pytest
import requests
from sqlalchemy import select

from display.voice import DEFAULT_TEMPLATES
from queue_server.config import settings_from_mapping
from queue_server.db import make_engine, session_factory, transaction
from queue_server.models import AdminChange, Hall
from tests.support import STAFF, Listener, bearer, demo_config, login, prepare, wait_until
from tests.voice.voice_helpers import crash_on_next_request, engine_processes, wav_info

CRASHER = "{number}{window:>300000}"  # accepted before the fix; rendering it segfaulted espeak-ng
HALL = "/api/v1/halls/erdao"


REFUSED = [
    ({"voice_zh": CRASHER}, "voice_zh", "has a format spec"),
    ({"voice_en": "Number {number!r}"}, "voice_en", "has a format spec or conversion"),
    ({"voice_zh": "请 {number[0]} 号"}, "voice_zh", "{number[0]} is not allowed"),
    ({"voice_zh": "请 {number} 号", "voice_en": "{window.real} {number}"}, "voice_en", "{window.real}"),
    ({"voice_zh": "请 {number} 号 }"}, "voice_zh", "stray"),
]


@pytest.mark.parametrize("who", ["boss", "root"])
def test_a_template_with_more_than_bare_placeholders_is_refused_and_nothing_is_saved(make_app, who: str) -> None:
    app = make_app()
    client = app.test_client()
    staff = bearer(client, who)
    before = client.get("/api/v1/admin/halls/erdao", headers=staff).get_json()

    for body, field, problem in REFUSED:
        r = client.patch("/api/v1/admin/halls/erdao", json=body, headers=staff)
        assert r.status_code == 422, (body, r.get_json())
        error = r.get_json()["error"]
        assert (error["code"], error["field"]) == ("validation_error", field)
        assert problem in error["message"]
        label = "中文叫号模板" if field == "voice_zh" else "英文叫号模板"
        assert error["message_zh"].startswith(f"{label}：") and "{number}" in error["message_zh"]

    assert client.get("/api/v1/admin/halls/erdao", headers=staff).get_json() == before
    with app.extensions["onewindow"].factory() as session:
        assert session.scalars(select(AdminChange)).all() == []


def test_a_plain_template_is_still_saved(make_app) -> None:
    app = make_app()
    client = app.test_client()
    boss = bearer(client, "boss")
    r = client.patch("/api/v1/admin/halls/erdao", json={"voice_zh": "请 {number} 号 到 {window} 号窗口"}, headers=boss)
    assert r.status_code == 200 and r.get_json()["voice_zh"] == "请 {number} 号 到 {window} 号窗口"


def voice_ready(url: str) -> None:
    voice = requests.get(url + "/readyz", timeout=30).json()["checks"]["voice"]
    if not voice["ok"]:
        pytest.skip(voice["message"])


def call(url: str, clerk: dict, window: int, board: Listener) -> dict:
    """Take a ticket, call it at `window`, and return the ticket_called event the board received."""
    number = requests.post(url + f"{HALL}/tickets", json={"service": "QY001"}, timeout=10).json()["number"]
    r = requests.post(url + f"{HALL}/windows/{window}/call-next", headers=clerk, timeout=10)
    assert r.status_code == 200 and r.json()["number"] == number  # the call itself is answered at once
    return board.wait_for("ticket_called", lambda c: c["ticket"]["number"] == number, timeout=60)


def speech(url: str, audio_url: str, tmp_path) -> float:
    """Loudness of the announcement's WAV (fails if there is none)."""
    r = requests.get(url + audio_url, timeout=60)
    assert r.status_code == 200 and r.headers["Content-Type"] == "audio/wav"
    (tmp_path / "call.wav").write_bytes(r.content)
    return wav_info(tmp_path / "call.wav").rms


def test_a_crashing_speech_engine_costs_one_announcement_not_the_server(make_server, tmp_path) -> None:
    server = make_server()
    url = server.url
    voice_ready(url)
    [engine] = wait_until(lambda: engine_processes(server.proc.pid), what="the speech engine process")
    board = Listener(url, {"hall": "erdao"}).connect()
    board.wait_for("board", timeout=60)
    clerks = {3: login(url, "clerk3"), 4: login(url, "clerk4")}
    for window, clerk in clerks.items():
        assert requests.post(url + f"{HALL}/windows/{window}/open", headers=clerk, timeout=10).status_code == 200

    with crash_on_next_request(engine, signal.SIGSEGV):  # segfaults in espeak-ng while rendering this call
        lost = call(url, clerks[3], 3, board)
    assert lost["announcement"]["text"] == "请 A 零零一 号，到 三 号窗口办理"  # the board still shows it
    assert requests.get(url + lost["announcement"]["audio_url"], timeout=60).status_code == 404  # no audio

    assert server.proc.poll() is None, server.read_log()[-3000:]
    assert requests.get(url + "/healthz", timeout=10).status_code == 200
    assert "the speech engine was killed by SIGSEGV" in server.read_log()

    after = call(url, clerks[4], 4, board)
    assert after["announcement"]["text"] == "请 A 零零二 号，到 四 号窗口办理"
    assert speech(url, after["announcement"]["audio_url"], tmp_path) > 300
    assert engine not in engine_processes(server.proc.pid)


def test_a_bad_template_saved_before_the_fix_is_spoken_as_the_default(make_server, tmp_path) -> None:
    raw = demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data")
    prepare(raw, STAFF)
    engine = make_engine(settings_from_mapping(raw).server.database_url)
    with transaction(session_factory(engine)) as session:  # as an admin edit before the fix left it
        hall = session.scalars(select(Hall).where(Hall.code == "erdao")).one()
        voice = hall.settings["voice"]
        hall.settings = {**hall.settings, "voice": {**voice, "templates": {**voice["templates"], "zh-CN": CRASHER}}}
    engine.dispose()

    server = make_server(raw, prepare_db=False)
    url = server.url
    voice_ready(url)
    [speech_engine] = wait_until(lambda: engine_processes(server.proc.pid), what="the speech engine process")
    board = Listener(url, {"hall": "erdao"}).connect()
    board.wait_for("board", timeout=60)
    clerk = login(url, "clerk3")
    assert requests.post(url + f"{HALL}/windows/3/open", headers=clerk, timeout=10).status_code == 200

    called = call(url, clerk, 3, board)
    assert called["announcement"]["text"] == DEFAULT_TEMPLATES["zh-CN"].format(number="A 零零一", window="三")
    assert called["announcement"]["texts"]["en"] == "Number A, zero zero one, please go to window 3"
    assert speech(url, called["announcement"]["audio_url"], tmp_path) > 300
    assert engine_processes(server.proc.pid) == [speech_engine]  # nothing crashed
    assert "the zh-CN template '{number}{window:>300000}' {window:>300000} has a format spec" in server.read_log()
    assert "using the default" in server.read_log()
