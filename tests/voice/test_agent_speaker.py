"""The device agent's speaker role: a hall PC signed in with a board's token plays the hall's calls."""

from __future__ import annotations

import subprocess
import sys
import wave

import requests

from tests.support import ROOT, demo_config, login
from tests.support.agents import AgentProcess, wait_for


def test_agent_with_a_board_token_plays_each_call_of_its_hall(make_server, tmp_path, engine_ok):
    server = make_server(demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data"))
    added = subprocess.run(
        [sys.executable, "-m", "queue_server", "--config", str(server.config_path), "device", "add", "hall-pc"]
        + ["--hall", "erdao", "--kind", "board"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr
    token = next(line.split(": ", 1)[1] for line in added.stdout.splitlines() if line.startswith("token"))
    played = tmp_path / "played"
    played.mkdir()
    player = tmp_path / "copy-player"
    player.write_text(f'#!/bin/sh\ncp "$1" "{played}/part.$$" && mv "{played}/part.$$" "{played}/$(date +%s%N).wav"\n')
    player.chmod(0o755)
    agent = AgentProcess(server.url, token, tmp_path)
    agent.args += ["--player", str(player)]
    agent.start()
    try:
        agent.wait_for_log("announcer subscribed to hall erdao")
        ticket = requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=30)
        clerk = login(server.url, "clerk1")
        assert requests.post(f"{server.url}/api/v1/halls/erdao/windows/1/open", headers=clerk, timeout=30).ok
        called = requests.post(f"{server.url}/api/v1/halls/erdao/windows/1/call-next", headers=clerk, timeout=60)
        assert called.json()["number"] == ticket.json()["number"]
        wavs = wait_for(lambda: sorted(played.glob("[0-9]*.wav")), "the call played")
        with wave.open(str(wavs[0])) as wav:  # the server's espeak-ng rendering of the call, whole
            assert wav.getnframes() / wav.getframerate() > 1.0
        assert len(wavs) == 1
    finally:
        agent.stop()
