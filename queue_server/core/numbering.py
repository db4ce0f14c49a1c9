"""Ticket numbers: prefix + zero-padded sequence of the hall's local day."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

_NUMBER = re.compile(r"([A-Za-z]{1,2})([0-9]{3,})")


def local_day(moment: datetime, timezone: str) -> date:
    """The hall's calendar day at `moment` (numbering restarts at local midnight)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def format_number(prefix: str, seq: int) -> str:
    """A001 … A999, then A1000: three digits, growing past 999."""
    if seq < 1:
        raise ValueError("sequence starts at 1")
    return f"{prefix}{seq:03d}"


def parse_number(number: str) -> tuple[str, int]:
    """Split 'A001' into ('A', 1); ValueError if it is not a ticket number."""
    # ASCII letters only, as config allows for a prefix: str.isalpha() would also take 号 or ａ.
    match = _NUMBER.fullmatch(number)
    if match is None:
        raise ValueError(f"not a ticket number: {number!r}")
    return match[1].upper(), int(match[2])
