"""Text from outside, made safe to keep and to print: no control characters, nothing the database refuses."""

from __future__ import annotations

import re

# A line break or tab inside a name becomes a space, so words do not run together.
_BREAKS = re.compile("[\t\n\r\v\f]")
# C0, DEL and C1: on a receipt printer these are commands (GS V cuts the paper, ESC @ resets it).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
# NUL cannot be stored in PostgreSQL text; a lone surrogate cannot be encoded as UTF-8 at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def printable(text: str) -> str:
    """`text` without control characters (line breaks and tabs become spaces)."""
    return _CONTROLS.sub("", _BREAKS.sub(" ", text))


def storable(text: str) -> bool:
    """Whether both databases can store `text` as it is."""
    return _UNSTORABLE.search(text) is None
