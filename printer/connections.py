"""Open the printer a PrinterConfig describes, turning every failure into a PrinterError."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import Dummy, File, Network, Serial, Usb, Win32Raw

from queue_server.config import PrinterConfig

from .exceptions import PrinterError

# One Dummy per printer name, so a test or preview can read back what was "printed".
_dummies: dict[str, Dummy] = {}
_dummies_lock = threading.Lock()

# Failures a driver can raise while opening or writing; anything else is a bug.
DRIVER_ERRORS = (EscposError, OSError, RuntimeError, AssertionError)


def describe(cfg: PrinterConfig) -> str:
    """Where a printer is, for messages: 'kiosk-1 (network 10.0.0.5:9100)'."""
    where = {
        "network": f"{cfg.host}:{cfg.port}",
        "usb": f"{cfg.usb_vendor:#06x}:{cfg.usb_product:#06x}" if cfg.usb_vendor is not None else "?",
        "serial": f"{cfg.device} @ {cfg.baudrate} baud",
        "file": str(cfg.device),
        "win32": str(cfg.device),
        "dummy": "in memory",
    }[cfg.type]
    return f"{cfg.name} ({cfg.type} {where})"


def _dummy(cfg: PrinterConfig) -> Dummy:
    with _dummies_lock:
        printer = _dummies.get(cfg.name)
        if printer is None:
            printer = _dummies[cfg.name] = Dummy(profile=cfg.profile)
        printer.clear()
        return printer


def _build(cfg: PrinterConfig) -> Escpos:
    if cfg.type == "network":
        return Network(cfg.host, port=cfg.port, timeout=cfg.timeout, profile=cfg.profile)
    if cfg.type == "usb":
        if not Usb.is_usable():
            raise PrinterError(f"printer {describe(cfg)}: USB printing needs pyusb; install it")
        return Usb(cfg.usb_vendor, cfg.usb_product, timeout=int(cfg.timeout * 1000), profile=cfg.profile)
    if cfg.type == "serial":
        if not Serial.is_usable():
            raise PrinterError(f"printer {describe(cfg)}: serial printing needs pyserial; install it")
        return Serial(cfg.device, baudrate=cfg.baudrate, timeout=cfg.timeout, profile=cfg.profile)
    if cfg.type == "file":
        return File(cfg.device, profile=cfg.profile)
    if cfg.type == "win32":
        if not Win32Raw.is_usable():
            raise PrinterError(f"printer {describe(cfg)}: Windows printing needs pywin32; pip install pywin32")
        return Win32Raw(cfg.device, profile=cfg.profile)
    return _dummy(cfg)


def open_printer(cfg: PrinterConfig) -> Escpos:
    """Connect to the printer now, so an unreachable one fails here and not halfway through a ticket."""
    try:
        printer = _build(cfg)
        if cfg.type != "dummy":
            printer.open()
    except PrinterError:
        raise
    except KeyError as exc:
        raise PrinterError(f"printer {cfg.name}: unknown python-escpos profile {exc.args[0]!r}") from None
    except DRIVER_ERRORS as exc:
        raise PrinterError(f"cannot open printer {describe(cfg)}: {_reason(exc)}") from exc
    if printer._device is None:  # some drivers log instead of raising when raise_not_found is off
        raise PrinterError(f"cannot open printer {describe(cfg)}: device not found")
    return printer


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def connected(cfg: PrinterConfig) -> Iterator[Escpos]:
    """Open, yield and always close the printer; write failures become PrinterError too."""
    printer = open_printer(cfg)
    try:
        yield printer
    except DRIVER_ERRORS as exc:
        raise PrinterError(f"printing on {describe(cfg)} failed: {_reason(exc)}") from exc
    finally:
        try:
            printer.close()
        except DRIVER_ERRORS:
            pass


def dummy_output(name: str) -> bytes:
    """Bytes of the last job sent to the dummy printer of this name (empty if none)."""
    with _dummies_lock:
        printer = _dummies.get(name)
        return printer.output if printer is not None else b""


__all__ = ["PrinterError", "connected", "describe", "dummy_output", "open_printer"]
