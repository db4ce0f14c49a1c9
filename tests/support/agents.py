"""The device agent as a real process: a kiosk registered with --agent, `python -m queue_server agent`, its log."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import requests

from .servers import ROOT, ChildProcess, wait_until

WAIT_S = 120  # upper bound for something that normally happens within a second or two; never a threshold


def add_agent_kiosk(config_path: Path, name: str = "kiosk-agent-1", hall: str = "erdao") -> str:
    """Register a kiosk that prints through its agent, with the CLI, and return its token."""
    done = subprocess.run(
        [sys.executable, "-m", "queue_server", "--config", str(config_path), "device", "add", name]
        + ["--hall", hall, "--kind", "kiosk", "--agent"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return next(line.split(": ", 1)[1] for line in done.stdout.splitlines() if line.startswith("token"))


def issue_at_kiosk(url: str, token: str, service: str = "QY001") -> dict:
    """A citizen takes a ticket at the agent kiosk (its page sends the device token)."""
    r = requests.post(
        f"{url}/api/v1/halls/erdao/tickets",
        json={"service": service},
        headers={"Authorization": f"Device {token}"},
        timeout=60,
    )
    assert r.status_code == 201, r.text
    return r.json()


def job_state(url: str, ticket_id: str) -> str:
    r = requests.get(f"{url}/api/v1/tickets/{ticket_id}/print", timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["state"]


def wait_for(check, what: str, timeout: float = WAIT_S):
    """Poll state held by another process (the agent's log, a job's state) with the suite's one poller."""
    return wait_until(check, timeout, what)


class AgentProcess(ChildProcess):
    """`python -m queue_server agent` as a kiosk runs it, with its log in a file."""

    def __init__(self, server_url: str, token: str, tmp: Path, printer: str | None = None, ledger: Path | None = None):
        self.args = ["--server", server_url, "--token", token]
        if printer:
            self.args += ["--printer", printer, "--ledger", str(ledger or tmp / "printed.txt")]
        self.log_path = tmp / f"agent-{len(list(tmp.glob('agent-*.log')))}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> AgentProcess:
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "queue_server", "agent", *self.args],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        return self

    def wait_for_log(self, text: str, count: int = 1) -> str:
        """Until `text` is in the log `count` times; the log."""

        def seen() -> bool:
            assert self.proc.poll() is None, f"the agent ended:\n{self.read_log()}"
            return self.read_log().count(text) >= count

        wait_for(seen, f"{text!r} in the agent's log:\n{self.read_log()}")
        return self.read_log()
