"""Small named errors of the printer package."""

from __future__ import annotations


class PrinterError(Exception):
    """A printer could not be opened, written to or asked for its status; the message says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PayloadError(ValueError):
    """A print payload is missing a field or has one of the wrong type."""
