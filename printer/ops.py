"""The small vocabulary a ticket is described in, and CJK-aware line wrapping by printed width."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Align = Literal["left", "center", "right"]

# Font A on 203 dpi heads: 12 dots per half-width column, 24 dots per line.
DOTS_PER_COLUMN = 12
PAPER_COLUMNS = {58: 32, 80: 48}
PAPER_DOTS = {58: 384, 80: 576}

# A line must not start with these (Chinese line-breaking rule, 避头点).
NO_LINE_START = set("，。、；：？！）》」』】〕…—·,.;:?!)]}%")


@dataclass(frozen=True)
class Text:
    """One printed line; size 2 is double width and double height."""

    text: str
    align: Align = "left"
    size: Literal[1, 2] = 1
    bold: bool = False


@dataclass(frozen=True)
class QR:
    """A QR code of `data`, centred."""

    data: str


@dataclass(frozen=True)
class Feed:
    """Blank lines."""

    lines: int = 1


@dataclass(frozen=True)
class Cut:
    """End of a slip: feed past the cutter and cut (or leave room to tear)."""


Op = Text | QR | Feed | Cut


def columns(paper_mm: int) -> int:
    """Half-width columns on a line of this paper width (58 mm: 32, 80 mm: 48)."""
    try:
        return PAPER_COLUMNS[paper_mm]
    except KeyError:
        raise ValueError(f"paper width {paper_mm} mm is not supported; use 58 or 80") from None


def char_width(ch: str) -> int:
    """Printed width of one character: ASCII is one column, anything else is a full-width glyph."""
    # In Chinese mode every multi-byte character, even "—" or "–", comes from the
    # 24-dot Hanzi font, so "not ASCII" is the printer's own rule for width.
    return 1 if ord(ch) < 0x80 else 2


def text_width(text: str) -> int:
    """Printed width of a string in half-width columns."""
    return sum(char_width(ch) for ch in text)


def _tokens(text: str) -> list[str]:
    """Split into unbreakable pieces: ASCII words, single spaces, single wide characters."""
    tokens: list[str] = []
    word = ""
    for ch in text:
        if ch.isascii() and not ch.isspace():
            word += ch
            continue
        if word:
            tokens.append(word)
            word = ""
        tokens.append(" " if ch.isspace() else ch)
    if word:
        tokens.append(word)
    return tokens


def _split_long(token: str, width: int) -> list[str]:
    pieces, piece = [], ""
    for ch in token:
        if piece and text_width(piece + ch) > width:
            pieces.append(piece)
            piece = ""
        piece += ch
    return pieces + [piece] if piece else pieces


def wrap(text: str, width: int) -> list[str]:
    """Break text into lines no wider than `width` columns, never starting a line with closing punctuation."""
    if width < 2:
        raise ValueError("a line must hold at least one full-width character")
    lines: list[list[str]] = [[]]
    for token in _tokens(text):
        for piece in _split_long(token, width) if text_width(token) > width else [token]:
            line = lines[-1]
            if text_width("".join(line) + piece) <= width:
                line.append(piece)
                continue
            if piece == " ":
                lines.append([])
                continue
            carried: list[str] = []
            if piece in NO_LINE_START and len(line) > 1 and text_width(line[-1] + piece) <= width:
                carried = [line.pop()]
            lines.append(carried + [piece])
    out = ["".join(line).strip() for line in lines]
    return [line for line in out if line] or [""]


def text_lines(
    text: str, paper_mm: int, align: Align = "left", size: Literal[1, 2] = 1, bold: bool = False
) -> list[Text]:
    """Wrap text to the paper and turn each line into a Text op."""
    width = columns(paper_mm) // size
    return [Text(line, align, size, bold) for line in wrap(text, width)]
