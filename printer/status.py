"""Ask a printer how it is (DLE EOT real-time status) and say it in one word and one sentence."""

from __future__ import annotations

import socket
from typing import TypedDict

from queue_server.config import PrinterConfig

from .connections import DRIVER_ERRORS, describe, open_printer
from .exceptions import PrinterError

DLE_EOT = b"\x10\x04"
PRINTER, OFFLINE_CAUSE, PAPER = 1, 2, 4

# Every DLE EOT reply has bits 1 and 4 set and bits 0 and 7 clear; a byte that
# does not is not a status reply (a printer that echoes, or not ESC/POS at all).
FIXED_MASK, FIXED_BITS = 0x93, 0x12
OFFLINE_BIT = 0x08  # n=1
COVER_OPEN_BIT, PAPER_STOP_BIT, ERROR_BIT = 0x04, 0x20, 0x40  # n=2
NEAR_END_BITS, PAPER_END_BITS = 0x0C, 0x60  # n=4


class PrinterStatus(TypedDict):
    state: str
    detail: str


def decode_status(printer: int, offline_cause: int, paper: int) -> PrinterStatus:
    """Turn the replies to DLE EOT 1, 2 and 4 into a state and a human detail."""
    if any(b & FIXED_MASK != FIXED_BITS for b in (printer, offline_cause, paper)):
        raw = " ".join(f"{b:02x}" for b in (printer, offline_cause, paper))
        return {
            "state": "unknown",
            "detail": f"the printer answered with unexpected status bytes {raw}",
        }
    if paper & PAPER_END_BITS or offline_cause & PAPER_STOP_BIT:
        return {"state": "paper_out", "detail": "out of paper: load a new roll"}
    if offline_cause & COVER_OPEN_BIT:
        return {"state": "cover_open", "detail": "the cover is open: close it"}
    if offline_cause & ERROR_BIT:
        return {
            "state": "offline",
            "detail": "printer error (cutter jam or head overheated): check the printer",
        }
    if printer & OFFLINE_BIT:
        return {"state": "offline", "detail": "the printer is offline"}
    if paper & NEAR_END_BITS:
        return {"state": "online", "detail": "ready; paper is running low"}
    return {"state": "online", "detail": "ready"}


def _stalled(cfg: PrinterConfig) -> PrinterStatus:
    return {"state": "stalled", "detail": f"{describe(cfg)} stopped answering: it may be jammed or stalled"}


def _query_network(cfg: PrinterConfig, answered_before: bool = False) -> PrinterStatus:
    try:
        sock = socket.create_connection((cfg.host, cfg.port), timeout=cfg.timeout)
    except TimeoutError:
        if answered_before:
            return _stalled(cfg)
        return {"state": "offline", "detail": f"cannot reach {describe(cfg)}: timed out"}
    except OSError as exc:
        return {"state": "offline", "detail": f"cannot reach {describe(cfg)}: {exc}"}
    replies: list[int] = []
    with sock:
        try:
            for n in (PRINTER, OFFLINE_CAUSE, PAPER):
                sock.sendall(DLE_EOT + bytes([n]))
                reply = sock.recv(1)
                if not reply:
                    return {"state": "unknown", "detail": f"{describe(cfg)} closed the connection"}
                replies.append(reply[0])
        except TimeoutError:
            if answered_before:  # it answered before: silence now is a printer that stopped reading
                return _stalled(cfg)
            return {"state": "unknown", "detail": f"{describe(cfg)} does not answer status queries"}
        except OSError as exc:
            return {"state": "offline", "detail": f"lost {describe(cfg)}: {exc}"}
    return decode_status(*replies)


def _query_device(cfg: PrinterConfig) -> PrinterStatus:
    """USB and serial: the driver's own read, one status byte per query."""
    try:
        printer = open_printer(cfg)
    except PrinterError as exc:
        return {"state": "offline", "detail": exc.reason}
    replies: list[int] = []
    try:
        for n in (PRINTER, OFFLINE_CAUSE, PAPER):
            printer._raw(DLE_EOT + bytes([n]))
            reply = bytes(printer._read())
            if not reply:
                return {
                    "state": "unknown",
                    "detail": f"{describe(cfg)} does not answer status queries",
                }
            replies.append(reply[0])
    except (*DRIVER_ERRORS, NotImplementedError) as exc:
        return {"state": "unknown", "detail": f"cannot read status of {describe(cfg)}: {exc}"}
    finally:
        printer.close()
    return decode_status(*replies)


def printer_status(cfg: PrinterConfig, answered_before: bool = False) -> PrinterStatus:
    """The printer's state: online, offline, paper_out, cover_open, stalled or unknown, with a detail.

    `answered_before`: the printer has answered status queries, so a network printer that now keeps
    silent has stalled (one that never answered may simply not implement DLE EOT).
    """
    if cfg.type == "dummy":
        return {"state": "online", "detail": "dummy printer (keeps output in memory)"}
    if cfg.type in ("file", "win32"):
        return {"state": "unknown", "detail": f"{describe(cfg)} cannot report status"}
    if cfg.type == "network":
        return _query_network(cfg, answered_before)
    return _query_device(cfg)
