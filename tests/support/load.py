"""Clients in threads: a load that runs until stopped, and targets run side by side with their errors kept."""

from __future__ import annotations

import threading
from collections import Counter

import requests

WAIT_S = 60  # upper bound on a wait that normally ends at once; never a timing threshold


class Load:
    """Kiosk and window clients in threads that run until stopped, recording every answer."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.changed = threading.Condition()
        self.statuses: Counter = Counter()
        self.bad: list[str] = []  # answers that are not a clean JSON success or a JSON error
        self.threads: list[threading.Thread] = []
        self.errors: list[BaseException] = []

    def run(self, target, *args) -> None:
        def guarded():
            try:
                target(*args)
            except BaseException as exc:  # noqa: BLE001 - reported by join()
                self.errors.append(exc)

        thread = threading.Thread(target=guarded, daemon=True)
        thread.start()
        self.threads.append(thread)

    def note(self, r: requests.Response, tag: str) -> None:
        json_body = r.status_code == 204 or r.headers.get("Content-Type", "").startswith("application/json")
        if not json_body or (r.status_code >= 400 and "error" not in r.json()):
            self.bad.append(f"{tag} {r.status_code} {r.text[:200]}")
        with self.changed:
            self.statuses[(tag, r.status_code)] += 1
            self.changed.notify_all()

    def wait(self, predicate, what: str) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: predicate(self.statuses), WAIT_S), f"timed out waiting for {what}"

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(WAIT_S)
        assert not any(t.is_alive() for t in self.threads), "a load client hung"
        assert not self.errors, self.errors


def run_threads(targets, timeout: float = 120) -> list[BaseException]:
    """Run each target in its own thread, wait for all, and return the exceptions they raised."""
    errors: list[BaseException] = []

    def guard(fn):
        def run():
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - returned to the test
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guard(t)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return errors
