"""The device agent's memory of what it printed: one job key a line, on disk before the server hears of it."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

KEEP = 1000  # keys kept after a compaction: far more than can be offered again within a lease


def default_path(server: str, token: str) -> Path:
    """Where the agent keeps its ledger: per server and device, in the user's state folder."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "OneWindow"
    else:
        base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "onewindow"
    tag = hashlib.sha256(f"{server.rstrip('/')}\n{token}".encode()).hexdigest()[:12]
    return base / f"printed-{tag}.txt"


class Ledger:
    """Keys of printed jobs. `add` returns once the key is on disk (fsync), so a crash cannot forget it."""

    def __init__(self, path: str | os.PathLike[str], keep: int = KEEP) -> None:
        self.path, self.keep = Path(path), keep
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.keys: list[str] = []
        if self.path.exists():
            text = self.path.read_text(encoding="utf-8", errors="replace")
            # A line cut short by a crash has no newline: it was never acknowledged, so it is dropped.
            self.keys = [line for line in text.split("\n")[:-1] if line]
            if text and not text.endswith("\n"):
                self._rewrite()  # cut the torn line off, so the next key starts a line of its own
        self._known = set(self.keys)

    def __contains__(self, key: str) -> bool:
        return key in self._known

    def add(self, key: str) -> None:
        """Remember a printed job's key, durably."""
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(key + "\n")
            out.flush()
            os.fsync(out.fileno())
        self.keys.append(key)
        self._known.add(key)
        if len(self.keys) > 2 * self.keep:
            self._compact()

    def _compact(self) -> None:
        self.keys = self.keys[-self.keep :]
        self._known = set(self.keys)
        self._rewrite()

    def _rewrite(self) -> None:
        part = self.path.with_suffix(".tmp")
        with open(part, "w", encoding="utf-8") as out:
            out.write("".join(k + "\n" for k in self.keys))
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, self.path)
