"""Registered devices: CLI registration (token shown once, hash stored), own hall, own printer, last seen."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import requests
import socketio
from sqlalchemy import create_engine, text

from queue_server.db import transaction
from queue_server.staff import devices
from tests.support import ROOT, Listener, demo_config, write_config


def cli(config, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUE_SERVER_")}
    return subprocess.run(
        [sys.executable, "-m", "queue_server", "--config", str(config), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_device_add_kiosk_prints_on_its_printer(make_server, tmp_path):
    url = f"sqlite:///{tmp_path}/onewindow.sqlite3"
    raw = demo_config(url, tmp_path / "data")
    raw["printers"].append({"name": "kiosk-erdao-2", "hall": "erdao", "type": "dummy"})
    config = write_config(tmp_path / "cli.yaml", raw)
    added = cli(
        config, "device", "add", "east-kiosk", "--hall", "erdao", "--kind", "kiosk", "--printer", "kiosk-erdao-2"
    )
    assert added.returncode == 0, added.stderr
    token = re.search(r"token \(shown once.*\): (\S+)", added.stdout).group(1)
    assert cli(config, "device", "add", "x", "--hall", "erdao", "--kind", "kiosk", "--printer", "nope").returncode == 2
    assert cli(config, "device", "add", "w", "--hall", "erdao", "--kind", "window").returncode == 2, "needs --window"
    board_cli = cli(config, "device", "add", "hall-board", "--hall", "jinxiu", "--kind", "board")
    board_token = re.search(r"token \(shown once.*\): (\S+)", board_cli.stdout).group(1)
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT token_hash, last_seen_at FROM devices WHERE name = 'east-kiosk'")).one()
    assert stored[0] == devices.token_hash(token) and token not in stored[0] and stored[1] is None

    server = make_server(raw, prepare_db=False)
    api = server.url + "/api/v1"
    kiosk = {"Authorization": f"Device {token}"}
    r = requests.post(
        f"{api}/halls/erdao/tickets", json={"service": "QY001", "printer": "kiosk-erdao-1"}, headers=kiosk, timeout=10
    )
    assert r.status_code == 201 and r.json()["print_job"]["printer"] == "kiosk-erdao-2"
    assert requests.get(f"{api}/device", headers=kiosk, timeout=10).json()["hall"] == "erdao"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT last_seen_at FROM devices WHERE name = 'east-kiosk'")).scalar() is not None
    # Another hall, a board, a forged token: refused.
    assert (
        requests.post(f"{api}/halls/jinxiu/tickets", json={"service": "JX001"}, headers=kiosk, timeout=10).status_code
        == 403
    )
    assert (
        requests.post(
            f"{api}/halls/jinxiu/tickets",
            json={"service": "JX001"},
            timeout=10,
            headers={"Authorization": f"Device {board_token}"},
        ).status_code
        == 403
    )
    assert (
        requests.post(
            f"{api}/halls/erdao/tickets",
            json={"service": "QY001"},
            timeout=10,
            headers={"Authorization": "Device owd_forged"},
        ).status_code
        == 401
    )
    assert requests.get(f"{server.url}/kiosk/erdao?device=owd_forged", timeout=10).status_code == 401
    assert requests.get(f"{server.url}/kiosk/jinxiu?device={token}", timeout=10).status_code == 403
    assert requests.get(f"{server.url}/kiosk/erdao?device={token}", timeout=10).status_code == 200
    start = requests.get(f"{server.url}/device?device={board_token}", timeout=10, allow_redirects=False)
    assert start.status_code == 302 and "/board/jinxiu" in start.headers["Location"]
    # A board connects with its token and, subscribing with nothing, gets its own hall.
    board = Listener(server.url, {})
    board.auth = {"device": board_token}
    board.connect()
    assert board.wait_for("board")["hall"]["code"] == "jinxiu"
    board.close()
    assert cli(config, "device", "revoke", "east-kiosk").returncode == 0
    assert requests.get(f"{api}/device", headers=kiosk, timeout=10).status_code == 401
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(server.url, auth={"device": token}, transports=["websocket"], wait_timeout=10)
    engine.dispose()


def test_require_devices_keeps_the_printer_for_registered_kiosks(make_app, tmp_path):
    raw = demo_config(
        f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", async_mode="threading", require_devices=True
    )
    app = make_app(raw)
    with transaction(app.extensions["onewindow"].factory) as s:
        _, token = devices.add_device(s, "k1", "erdao", "kiosk")
    client = app.test_client()
    assert client.post("/api/v1/halls/erdao/tickets", json={"service": "QY001"}).status_code == 403
    assert client.post("/api/v1/halls/erdao/tickets", json={"service": "QY001", "channel": "mobile"}).status_code == 201
    assert (
        client.post(
            "/api/v1/halls/erdao/tickets", json={"service": "QY001"}, headers={"Authorization": f"Device {token}"}
        ).status_code
        == 201
    )
