"""The product exactly as a hall installs it: a fresh clone, the shipped config.yaml, the README's commands.

Nothing here builds its own app or settings: a clone of this working tree gets its own virtualenv
(system site-packages, so the locked dependencies already installed are reused, but the package
itself is installed from the clone with the README's command), and `queue-server run` is started
from the clone's root. The clerk is created with the CLI, the board is real Chromium, the audio is
a real espeak-ng WAV, and the announcer plays it with a player that copies the file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest
import requests

from tests.support import BOARD, PASSWORD, ROOT, free_port

pytestmark = pytest.mark.browser


def _run(argv: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, f"{' '.join(argv)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done


def clone_working_tree(dest: Path) -> Path:
    """`git clone` of this repository, with the working tree's uncommitted changes laid over it."""
    _run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(dest)], cwd=ROOT.parent)
    changed = _run(["git", "ls-files", "-z", "--modified", "--others", "--exclude-standard"], cwd=ROOT).stdout
    deleted = set(_run(["git", "ls-files", "-z", "--deleted"], cwd=ROOT).stdout.split("\0"))
    for name in filter(None, changed.split("\0")):
        if name in deleted:
            (dest / name).unlink(missing_ok=True)
        elif (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """A clone with its own install of the package: (clone root, the venv's bin folder)."""
    base = tmp_path_factory.mktemp("shipped")
    clone = clone_working_tree(base / "onewindow")
    assert not (clone / "data").exists(), "a fresh clone has no data folder"
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], cwd=base)
    bin_ = venv / "bin"
    # The README's install; the locked dependencies are already there (system site-packages).
    _run([str(bin_ / "pip"), "install", "-q", "-c", "constraints.txt", "-e", "."], cwd=clone)
    where = _run(
        [str(bin_ / "python"), "-c", "import queue_server, display; print(queue_server.__file__)"], cwd=base
    ).stdout.strip()
    assert where.startswith(str(clone)), f"the venv must run the clone's code, not {where}"
    return clone, bin_


@pytest.fixture(scope="module")
def running(shipped):
    """`queue-server run` from the clone's root, as the README says (its own port)."""
    clone, bin_ = shipped
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUE_SERVER_")}
    env["PATH"] = f"{bin_}{os.pathsep}{env['PATH']}"
    port = free_port()
    log = open(clone / "server.log", "wb")
    proc = subprocess.Popen(
        ["queue-server", "run", "--port", str(port)], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        assert proc.poll() is None, (clone / "server.log").read_text(errors="replace")
        try:
            if requests.get(url + "/readyz", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, (clone / "server.log").read_text(errors="replace")
        time.sleep(0.1)  # the port is not open yet: nothing to wait on but the port itself
    yield clone, bin_, env, url
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_shipped_hall_calls_a_ticket_that_the_board_shows_and_speaks(running, open_page, tmp_path):
    clone, bin_, env, url = running
    # the data lives under the clone's data/ folder, where the README says
    assert (clone / "data" / "onewindow.sqlite3").exists()
    added = subprocess.run(
        ["queue-server", "user", "add", "clerk1", "--role", "clerk", "--hall", "erdao"],
        cwd=clone,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert added.returncode == 0, added.stderr
    assert "clerk1" in added.stdout

    played = tmp_path / "played"
    played.mkdir()
    player = tmp_path / "copy-player"
    # copy, then rename: a file that appears is whole
    player.write_text(f'#!/bin/sh\ncp "$1" "{played}/part.$$" && mv "{played}/part.$$" "{played}/$(date +%s%N).wav"\n')
    player.chmod(0o755)
    announcer = subprocess.Popen(
        ["queue-server", "announcer", "--hall", "erdao", "--server", url, "--player", str(player)],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        for line in announcer.stdout:  # its own log line says when it is subscribed
            if "announcer subscribed to hall erdao" in line:
                break
        else:
            pytest.fail(f"announcer ended without subscribing ({announcer.wait(10)})")

        board = open_page(f"{url}/board/erdao", BOARD)
        board.wait_for_function("() => document.body.dataset.online === '1'")
        ticket = requests.post(f"{url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=10)
        assert ticket.status_code == 201, ticket.text
        number = ticket.json()["number"]
        login = requests.post(f"{url}/api/v1/auth/login", json={"username": "clerk1", "password": PASSWORD}, timeout=10)
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        assert requests.post(f"{url}/api/v1/halls/erdao/windows/1/open", headers=headers, timeout=10).status_code == 200
        called = requests.post(f"{url}/api/v1/halls/erdao/windows/1/call-next", headers=headers, timeout=30)
        assert called.status_code == 200, called.text
        assert called.json()["number"] == number

        board.wait_for_function(f"() => document.querySelector('#latest-number').textContent === '{number}'")
        # the board plays the call to its end: a real WAV, not an error
        board.wait_for_function(
            "(n) => OWBoard.announcer.log.some(e => e.number === n && e.kind !== 'start')", arg=number, timeout=120_000
        )
        log = board.evaluate("OWBoard.announcer.log")
        finished = [e for e in log if e["number"] == number and e["kind"] != "start"]
        assert finished[0]["kind"] == "end", log
        audio = requests.get(url + finished[0]["url"], timeout=60)
        assert audio.status_code == 200, audio.text
        assert audio.headers["Content-Type"] == "audio/wav"
        wav_path = tmp_path / "board.wav"
        wav_path.write_bytes(audio.content)
        with wave.open(str(wav_path)) as w:
            seconds = w.getnframes() / w.getframerate()
        assert seconds > 1.0, "a spoken call, not an empty file"

        # the announcer on "this PC" played the same recording
        deadline = time.monotonic() + 120
        while not list(played.glob("*.wav")):
            assert announcer.poll() is None, announcer.stdout.read()
            assert time.monotonic() < deadline, "the announcer never played the call"
            time.sleep(0.2)  # the player is a separate process that writes a file: poll for it
        copy = next(played.glob("*.wav"))
        assert copy.read_bytes() == audio.content
        assert board.problems == [], board.problems
    finally:
        announcer.terminate()
        try:
            announcer.wait(15)
        except subprocess.TimeoutExpired:
            announcer.kill()


def test_shipped_cli_takes_config_after_the_subcommand_and_refuses_a_hall_less_clerk(running):
    clone, _bin, env, _url = running
    init = subprocess.run(
        ["queue-server", "init-db", "--config", "config.yaml"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert init.returncode == 0, init.stderr
    assert str(clone / "data" / "onewindow.sqlite3") in init.stdout, "paths resolved against the config's folder"
    refused = subprocess.run(
        ["queue-server", "user", "add", "nohall", "--role", "clerk"],
        cwd=clone,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "--hall" in refused.stderr and "erdao" in refused.stderr and "jinxiu" in refused.stderr
    # from another folder, --config finds the same database (paths are relative to the config file)
    elsewhere = subprocess.run(
        ["queue-server", "init-db", "--config", str(clone / "config.yaml")],
        cwd="/",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert str(clone / "data" / "onewindow.sqlite3") in elsewhere.stdout
