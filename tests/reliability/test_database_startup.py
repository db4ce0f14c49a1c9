"""A database the server cannot write, cannot reach or does not support stops it at start-up with one line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support import ROOT, demo_config, free_port, write_config


def start(tmp_path, database_url: str) -> subprocess.CompletedProcess:
    config = write_config(tmp_path / "c.yaml", demo_config(database_url, tmp_path / "data"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUE_SERVER_")}
    argv = [sys.executable, "-m", "queue_server", "--config", str(config), "run", "--port", str(free_port())]
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_read_only_database_stops_the_server_naming_the_file(tmp_path):
    path = tmp_path / "hall.sqlite3"
    init = subprocess.run(
        [
            sys.executable,
            "-m",
            "queue_server",
            "--config",
            str(write_config(tmp_path / "init.yaml", demo_config(f"sqlite:///{path}", tmp_path / "data"))),
            "init-db",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert init.returncode == 0, init.stderr
    # the server process runs as root here, so the file is opened read-only rather than chmod-ed
    line = one_line(start(tmp_path, f"sqlite:///file:{path}?mode=ro&uri=true"))
    assert str(path) in line and "read-only" in line and "writable" in line


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://user:pw@127.0.0.1/hall", ["'mysql' is not supported", "postgresql"]),
        ("postgresql+psycopg2://postgres:topsecret@127.0.0.1:1/hall", ["cannot open the database", "127.0.0.1:1"]),
    ],
)
def test_an_unsupported_or_unreachable_database_is_one_clear_line(tmp_path, url, words):
    line = one_line(start(tmp_path, url))
    for word in words:
        assert word in line, line
    assert "topsecret" not in line, "the password is never printed"
