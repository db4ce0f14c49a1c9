"""The one source of time: everything asks `clock.now()`; tests replace it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _source()


def set_source(source: Callable[[], datetime]) -> None:
    """Replace the time source (tests, simulations)."""
    global _source
    _source = source


def reset() -> None:
    """Go back to the real clock."""
    set_source(lambda: datetime.now(UTC))


class FakeClock:
    """A clock that stands still until moved; install with `set_source(clock)`."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current

    def advance(self, seconds: float = 0, **kw: float) -> datetime:
        self.current += timedelta(seconds=seconds, **kw)
        return self.current


class RunningClock:
    """A clock that starts at a given time and runs forward with the real one (a test server's clock)."""

    def __init__(self, start: datetime) -> None:
        self.start, self.started = start.astimezone(UTC), time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.started)
