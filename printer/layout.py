"""What a queue ticket says, laid out once as ops and replayed onto an ESC/POS printer or a PNG."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from escpos.capabilities import get_profile
from escpos.constants import QR_ECLEVEL_M
from escpos.escpos import Escpos
from escpos.image import EscposImage

from queue_server.core.text import printable

from .exceptions import PayloadError
from .ops import PAPER_DOTS, QR, Cut, Feed, Op, Text, columns, text_lines, text_width, wrap
from .preview import QR_MODULE_DOTS, qr_image, render_png

# Chinese character mode on/off (FS & / FS .): python-escpos never sends them,
# and without them a Chinese printer prints GB18030 bytes as Latin garbage.
FS_CHINESE_ON = b"\x1c\x26"
FS_CHINESE_OFF = b"\x1c\x2e"


@dataclass(frozen=True)
class TicketPrint:
    """Everything printed on a ticket; no personal data by construction."""

    hall_name: str
    hall_name_en: str
    number: str
    service_name: str
    ahead: int
    wait_low_s: int
    wait_high_s: int
    issued_at: datetime
    track_url: str
    notices: tuple[str, ...] = ()
    materials: tuple[str, ...] = ()
    time_limit_days: int = 0
    kind: Literal["instant", "promised"] = "instant"
    with_materials: bool = False

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> TicketPrint:
        """Build from the server's print payload, saying which field is wrong if one is."""
        try:
            wait = payload["estimated_wait"]
            ticket = cls(
                hall_name=_str(payload, "hall_name"),
                hall_name_en=printable(str(payload.get("hall_name_en") or "")),
                number=_str(payload, "number"),
                service_name=_str(payload, "service_name"),
                ahead=int(payload["ahead"]),
                wait_low_s=int(wait["low_s"]),
                wait_high_s=int(wait["high_s"]),
                issued_at=datetime.fromisoformat(payload["issued_at"]),
                track_url=_str(payload, "track_url"),
                notices=tuple(printable(str(n)) for n in payload.get("notices") or ()),
                materials=tuple(printable(str(m)) for m in payload.get("materials") or ()),
                time_limit_days=int(payload.get("time_limit_days") or 0),
                kind=payload.get("kind") or "instant",
                with_materials=bool(payload.get("with_materials", False)),
            )
        except KeyError as exc:
            raise PayloadError(f"print payload lacks {exc.args[0]!r}") from None
        except (TypeError, ValueError) as exc:
            raise PayloadError(f"print payload has a bad value: {exc}") from None
        if ticket.kind not in ("instant", "promised"):
            raise PayloadError(f"print payload kind {ticket.kind!r} is not 'instant' or 'promised'")
        return ticket


def _str(payload: dict[str, Any], key: str) -> str:
    value = payload[key]
    if not isinstance(value, str) or not printable(value):
        raise ValueError(f"{key} must be a non-empty string")
    return printable(value)


def wait_minutes(low_s: int, high_s: int) -> tuple[int, int]:
    """The quoted wait as whole minutes, rounded outwards so the range stays honest."""
    low = max(0, low_s) // 60
    return low, max(low, math.ceil(max(0, high_s) / 60))


def _wait_lines(ticket: TicketPrint, paper_mm: int) -> list[Op]:
    low, high = wait_minutes(ticket.wait_low_s, ticket.wait_high_s)
    if ticket.wait_high_s < 60:
        zh, en = "预计等候 少于 1 分钟", "Estimated wait < 1 min"
    elif low == high:
        zh, en = f"预计等候 约 {high} 分钟", f"Estimated wait about {high} min"
    else:
        zh, en = f"预计等候 {low}–{high} 分钟", f"Estimated wait {low}-{high} min"
    return text_lines(zh, paper_mm) + text_lines(en, paper_mm)


def _rule(paper_mm: int) -> Text:
    return Text("-" * columns(paper_mm))


def _numbered(items: tuple[str, ...], paper_mm: int) -> list[Op]:
    ops: list[Op] = []
    for i, item in enumerate(items, 1):
        prefix = f"{i}. "
        body = wrap(item, columns(paper_mm) - len(prefix))
        ops.append(Text(prefix + body[0]))
        ops.extend(Text(" " * len(prefix) + line) for line in body[1:])
    return ops


def ticket_ops(ticket: TicketPrint, paper_mm: int) -> list[Op]:
    """The ticket (and its materials slip, if asked for) as a list of print ops."""
    issued = ticket.issued_at.strftime("%Y-%m-%d %H:%M")
    ops: list[Op] = text_lines(ticket.hall_name, paper_mm, "center", bold=True)
    if ticket.hall_name_en:
        ops += text_lines(ticket.hall_name_en, paper_mm, "center")
    ops += [_rule(paper_mm), *text_lines("您的号码 / Your number", paper_mm, "center")]
    ops += text_lines(ticket.number, paper_mm, "center", size=2, bold=True)
    ops += text_lines(ticket.service_name, paper_mm, "center", bold=True)
    ops.append(_rule(paper_mm))
    ops += text_lines(f"前面还有 {ticket.ahead} 人 / {ticket.ahead} ahead", paper_mm)
    ops += _wait_lines(ticket, paper_mm)
    ops += text_lines(f"取号时间 Issued {issued}", paper_mm)
    ops += [Feed(), QR(ticket.track_url)]
    ops += text_lines("扫码查看排队进度 / Scan to follow your turn", paper_mm, "center")
    if ticket.notices:
        ops.append(_rule(paper_mm))
        for notice in ticket.notices:
            ops += text_lines(notice, paper_mm)
    ops.append(Cut())
    if ticket.with_materials:
        ops += materials_ops(ticket, paper_mm)
    return ops


def materials_ops(ticket: TicketPrint, paper_mm: int) -> list[Op]:
    """The materials slip (材料告知单): what to bring and the promised time limit."""
    ops: list[Op] = text_lines("材料告知单", paper_mm, "center", bold=True)
    ops += text_lines("Checklist of materials", paper_mm, "center")
    ops += [_rule(paper_mm), *text_lines(f"{ticket.number}  {ticket.service_name}", paper_mm)]
    if ticket.materials:
        ops += text_lines("请携带以下材料 / Please bring:", paper_mm)
        ops += _numbered(ticket.materials, paper_mm)
    else:
        ops += text_lines("无需提交材料 / No materials needed", paper_mm)
    ops.append(_rule(paper_mm))
    if ticket.kind == "promised":
        days = ticket.time_limit_days
        ops += text_lines(f"承诺时限 {days} 个工作日", paper_mm)
        ops += text_lines(f"Time limit: {days} working days", paper_mm)
    else:
        ops += text_lines("即办件（当场办结）", paper_mm)
        ops += text_lines("Completed on the spot", paper_mm)
    return ops + [Cut()]


@dataclass(frozen=True)
class PrinterCaps:
    """What a printer model can do, read from its python-escpos profile."""

    native_qr: bool = True
    cut: Literal["FULL", "PART"] | None = "FULL"
    width_dots: int | None = None

    @classmethod
    def from_profile(cls, profile: Any = "default") -> PrinterCaps:
        """Capabilities of a profile given by name or as a python-escpos profile object."""
        profile = get_profile(profile) if isinstance(profile, str) else profile
        cut = "FULL" if profile.supports("paperFullCut") else None
        if cut is None and profile.supports("paperPartCut"):
            cut = "PART"
        try:
            width = int(profile.profile_data["media"]["width"]["pixels"])
        except (KeyError, TypeError, ValueError):
            width = None
        return cls(native_qr=bool(profile.supports("qrCode")), cut=cut, width_dots=width)


def print_ticket(p: Escpos, ticket: TicketPrint, paper_mm: int, profile_caps: PrinterCaps | None = None) -> None:
    """Send a ticket to an ESC/POS printer; capabilities default to the printer's own profile."""
    caps = profile_caps or PrinterCaps.from_profile(p.profile)
    p.hw("INIT")
    for op in ticket_ops(ticket, paper_mm):
        if isinstance(op, Text):
            p.set(align=op.align, bold=op.bold, custom_size=True, width=op.size, height=op.size)
            write_line(p, op.text)
        elif isinstance(op, QR):
            _print_qr(p, op.data, caps, paper_mm)
        elif isinstance(op, Feed):
            p.print_and_feed(op.lines)
        elif caps.cut:
            p.cut(mode=caps.cut)
        else:
            p.print_and_feed(6)  # no cutter: leave room to tear the slip off


def write_line(p: Escpos, text: str) -> None:
    """Print one line, in Chinese character mode (GB18030) whenever it holds anything beyond ASCII."""
    # Written raw rather than through p.text(): its encoder maps full-width
    # punctuation it cannot place in a code page to "?". Control characters in
    # the text would be commands to the printer (GS V cuts, ESC @ resets):
    # from_payload removes them already, this keeps any other caller safe.
    text = printable(text)
    if text.isascii():
        p._raw(text.encode("ascii") + b"\n")
    else:
        p._raw(FS_CHINESE_ON + text.encode("gb18030") + FS_CHINESE_OFF + b"\n")


def _print_qr(p: Escpos, data: str, caps: PrinterCaps, paper_mm: int) -> None:
    # Alignment first: python-escpos refuses center=True for native codes,
    # and ESC a centres the symbol the printer draws.
    p.set(align="center")
    if caps.native_qr:
        p.qr(data, native=True, size=QR_MODULE_DOTS, ec=QR_ECLEVEL_M)
        p._raw(b"\n")
        return
    width = min(PAPER_DOTS[paper_mm], caps.width_dots or PAPER_DOTS[paper_mm])
    image = EscposImage(qr_image(data, width))
    # GS v 0 raster, as p.image() sends it, without its stdout warning on unknown widths.
    header = b"\x1dv0\x00" + p._int_low_high(image.width_bytes, 2) + p._int_low_high(image.height, 2)
    p._raw(header + image.to_raster_format())
    p._raw(b"\n")


def preview_png(ticket: TicketPrint, paper_mm: int) -> bytes:
    """The ticket as a PNG the width of the paper, drawn from the same ops the printer gets."""
    return render_png(ticket_ops(ticket, paper_mm), paper_mm)


__all__ = [
    "PrinterCaps",
    "TicketPrint",
    "preview_png",
    "print_ticket",
    "qr_image",
    "text_width",
    "ticket_ops",
]
