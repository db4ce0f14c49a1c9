"""Run `python -m queue_server` as an operator would, on a temporary config and SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.support import ROOT, demo_config, write_config


@dataclass
class Cli:
    config: Path
    database_url: str

    def __call__(self, *args: str, stdin: str | None = None, config: Path | None = None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("QUEUE_SERVER_")}
        return subprocess.run(
            [sys.executable, "-m", "queue_server", "--config", str(config or self.config), *args],
            cwd=ROOT,
            env=env,
            input=stdin if stdin is not None else "",
            capture_output=True,
            text=True,
            timeout=120,
        )

    def engine(self):
        return create_engine(self.database_url)


@pytest.fixture
def cli(tmp_path):
    url = f"sqlite:///{tmp_path}/cli.sqlite3"
    config = write_config(tmp_path / "config.yaml", demo_config(url, tmp_path / "data"))
    return Cli(config, url)
