"""Playing calls one after another: the playback queue and the announcer against a real server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from voice_helpers import HallVoice

from display.announcer import PlaybackQueue, run_announcer
from display.voice import Voice

HERE = Path(__file__).resolve().parent


def test_burst_of_five_calls_plays_in_order_without_overlap() -> None:
    log: list[tuple[str, int]] = []
    started = [threading.Event() for _ in range(5)]
    release = [threading.Event() for _ in range(5)]

    def player(item: int) -> None:
        log.append(("start", item))
        started[item].set()
        assert release[item].wait(30)
        log.append(("end", item))

    queue = PlaybackQueue(player)
    for item in range(5):
        queue.put(item)
    for item in range(5):
        assert started[item].wait(30)
        assert log[-1] == ("start", item)  # nothing after it has begun while it plays
        release[item].set()
    assert queue.wait_idle(30)
    assert log == [event for item in range(5) for event in (("start", item), ("end", item))]
    assert [played.item for played in queue.history] == list(range(5))
    for before, after in zip(queue.history, queue.history[1:], strict=False):
        assert before.ended <= after.started
    queue.close()


def test_a_failing_item_does_not_silence_the_rest() -> None:
    played: list[int] = []

    def player(item: int) -> None:
        if item == 1:
            raise OSError("speaker unplugged")
        played.append(item)

    queue = PlaybackQueue(player)
    for item in range(3):
        queue.put(item)
    assert queue.wait_idle(30)
    assert played == [0, 2]
    assert "speaker unplugged" in (queue.history[1].error or "")
    queue.close()


class HallServer:
    """The eventlet hall server in a subprocess; `port` once it listens."""

    def __init__(self, cache: Path, calls: list[tuple[str, int]], port: int = 0) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "hall_server.py"), str(cache), str(port), json.dumps(calls)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line.strip():
            self.stop()
            pytest.fail("hall server did not start")
        self.port = int(line)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(30)


def expected_wavs(cache: Path, calls: list[tuple[str, int]]) -> list[bytes]:
    voice = Voice(cache, available=False)  # the same keys, no engine
    return [voice.cache.path(voice.cache.call_key(voice.plan(HallVoice(), n, w), 1)).read_bytes() for n, w in calls]


def test_announcer_plays_each_call_in_order_and_resubscribes_after_a_restart(tmp_path, engine_ok) -> None:
    first = [("A001", 3), ("A002", 12), ("B1000", 101)]
    second = [("A003", 5), ("C010", 20), ("A004", 1)]
    received: list[bytes] = []
    got = {3: threading.Event(), 6: threading.Event()}

    def player(path: Path) -> None:
        received.append(path.read_bytes())
        if len(received) in got:
            got[len(received)].set()

    server = HallServer(tmp_path, first)
    stop = threading.Event()
    url = f"http://127.0.0.1:{server.port}"
    announcer = threading.Thread(target=run_announcer, args=(url, "demo", player, stop), daemon=True)
    announcer.start()
    try:
        assert got[3].wait(120), "three calls were not played"
        server.stop()
        server = HallServer(tmp_path, second, port=server.port)  # the server restarts
        assert got[6].wait(120), "the announcer did not come back after the restart"
    finally:
        stop.set()
        server.stop()
        announcer.join(30)
    assert not announcer.is_alive()
    assert received == expected_wavs(tmp_path, first) + expected_wavs(tmp_path, second)
