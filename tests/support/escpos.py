"""Read back an ESC/POS byte stream as the printer would: lines with their style, QR codes, images, cuts."""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10


@dataclass
class Line:
    text: str
    align: str = "left"
    width: int = 1  # character width multiplier
    height: int = 1
    bold: bool = False
    chinese: bool = False  # some of it was sent in Chinese character mode

    @property
    def double(self) -> bool:
        return self.width == 2 and self.height == 2


@dataclass
class Decoded:
    lines: list[Line] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)
    images: list[tuple[int, int]] = field(default_factory=list)  # (width dots, height dots)
    cuts: list[int] = field(default_factory=list)  # index into lines where each cut happened
    status_queries: list[int] = field(default_factory=list)
    inits: int = 0

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]

    def slips(self) -> list[list[Line]]:
        """Lines grouped by cut: one list per piece of paper."""
        out, start = [], 0
        for end in self.cuts:
            out.append(self.lines[start:end])
            start = end
        return out + ([self.lines[start:]] if self.lines[start:] else [])


class DecodeError(ValueError):
    pass


def decode(data: bytes) -> Decoded:
    """Parse a stream; raises DecodeError on any command it does not know."""
    out = Decoded()
    style = {"align": "left", "width": 1, "height": 1, "bold": False}
    text, chinese, i = "", False, 0
    aligns = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}

    def end_line() -> None:
        nonlocal text, chinese
        out.lines.append(Line(text, chinese=chinese, **style))
        text, chinese = "", False

    while i < len(data):
        b = data[i]
        if b == 0x0A:
            end_line()
            i += 1
        elif b == FS and data[i + 1 : i + 2] == b"&":
            stop = data.index(b"\x1c.", i + 2)
            text += data[i + 2 : stop].decode("gb18030")
            chinese = True
            i = stop + 2
        elif b == FS and data[i + 1 : i + 2] == b".":
            i += 2
        elif b == ESC:
            cmd = data[i + 1]
            if cmd == ord("@"):
                out.inits += 1
                style.update(align="left", width=1, height=1, bold=False)
                i += 2
            elif cmd == ord("a"):
                style["align"] = aligns[data[i + 2]]
                i += 3
            elif cmd == ord("E"):
                style["bold"] = bool(data[i + 2] & 1)
                i += 3
            elif cmd == ord("!"):
                n = data[i + 2]
                style.update(width=2 if n & 0x20 else 1, height=2 if n & 0x10 else 1, bold=bool(n & 0x08))
                i += 3
            elif cmd == ord("d"):
                for _ in range(data[i + 2]):
                    end_line()
                i += 3
            elif cmd in (ord("t"), ord("3"), ord("M")):
                i += 3
            elif cmd == ord("2"):
                i += 2
            else:
                raise DecodeError(f"unknown ESC {cmd:#04x} at {i}")
        elif b == GS:
            cmd = data[i + 1]
            if cmd == ord("!"):
                n = data[i + 2]
                style.update(width=(n >> 4) + 1, height=(n & 0x0F) + 1)
                i += 3
            elif cmd == ord("(") and data[i + 2] == ord("k"):
                length = data[i + 3] | data[i + 4] << 8
                cn, fn = data[i + 5], data[i + 6]
                if cn == 49 and fn == 80:
                    out.qr.append(data[i + 8 : i + 5 + length].decode("utf-8"))
                i += 5 + length
            elif cmd == ord("v") and data[i + 2] == ord("0"):
                xb = data[i + 4] | data[i + 5] << 8
                h = data[i + 6] | data[i + 7] << 8
                out.images.append((xb * 8, h))
                i += 8 + xb * h
            elif cmd == ord("V"):
                m = data[i + 2]
                out.cuts.append(len(out.lines))
                i += 4 if m in (65, 66) else 3
            else:
                raise DecodeError(f"unknown GS {cmd:#04x} at {i}")
        elif b == DLE and data[i + 1 : i + 2] == b"\x04":
            out.status_queries.append(data[i + 2])
            i += 3
        elif 0x20 <= b < 0x7F:
            text += chr(b)
            i += 1
        else:
            raise DecodeError(f"unexpected byte {b:#04x} at {i}")
    if text:
        end_line()
    return out
