"""Printer status from DLE EOT replies, and connection errors that say what went wrong."""

from __future__ import annotations

import pytest

from printer.connections import connected, dummy_output, open_printer
from printer.exceptions import PrinterError
from printer.layout import TicketPrint, print_ticket
from printer.status import decode_status, printer_status
from queue_server.config import PrinterConfig
from tests.support import decode

READY = 0x12


def test_online(fake_printer):
    status = printer_status(fake_printer.config())
    assert status == {"state": "online", "detail": "ready"}
    [queries] = fake_printer.wait_for_jobs(1)
    assert decode(queries).status_queries == [1, 2, 4]


def test_paper_out(fake_printer):
    fake_printer.status = {1: 0x1A, 2: 0x32, 4: 0x7E}  # offline, stopped by paper end, roll empty
    assert printer_status(fake_printer.config())["state"] == "paper_out"


def test_cover_open(fake_printer):
    fake_printer.status = {1: 0x1A, 2: 0x16, 4: READY}
    status = printer_status(fake_printer.config())
    assert status["state"] == "cover_open" and "cover" in status["detail"]


def test_offline_when_nothing_listens(stopped_printer):
    status = printer_status(stopped_printer.config())
    assert status["state"] == "offline"
    assert str(stopped_printer.port) in status["detail"]


def test_offline_bit(fake_printer):
    fake_printer.status = {1: 0x1A, 2: READY, 4: READY}
    assert printer_status(fake_printer.config())["state"] == "offline"


@pytest.mark.parametrize(
    ("replies", "state"),
    [
        ((READY, READY, READY), "online"),
        ((READY, READY, 0x1E), "online"),  # paper near end still prints
        ((0x1A, 0x32, 0x72), "paper_out"),
        ((0x1A, 0x16, READY), "cover_open"),
        ((0x1A, 0x52, READY), "offline"),  # error bit: cutter jam, overheating
        ((0x00, READY, READY), "unknown"),  # not a status byte
    ],
)
def test_decode_status(replies, state):
    assert decode_status(*replies)["state"] == state


def test_near_end_is_mentioned():
    assert "low" in decode_status(READY, READY, 0x1E)["detail"]


def test_dummy_and_file_status(tmp_path):
    dummy = PrinterConfig(name="d", hall="demo", type="dummy")
    assert printer_status(dummy)["state"] == "online"
    file = PrinterConfig(name="f", hall="demo", type="file", device=str(tmp_path / "lp0"))
    assert printer_status(file)["state"] == "unknown"


def test_unreachable_network_printer_raises_printer_error(stopped_printer):
    with pytest.raises(PrinterError, match=f"127.0.0.1:{stopped_printer.port}"):
        open_printer(stopped_printer.config())


def test_network_printer_gets_the_configured_timeout(fake_printer):
    printer = open_printer(fake_printer.config(timeout=1.5))
    try:
        assert printer.timeout == 1.5 and printer.device.gettimeout() == 1.5
    finally:
        printer.close()


def test_missing_device_file_raises_printer_error(tmp_path):
    cfg = PrinterConfig(name="f", hall="demo", type="file", device=str(tmp_path / "no" / "lp0"))
    with pytest.raises(PrinterError, match="cannot open printer f"):
        open_printer(cfg)


def test_unknown_profile_raises_printer_error():
    cfg = PrinterConfig(name="d2", hall="demo", type="dummy", profile="no-such-model")
    with pytest.raises(PrinterError, match="no-such-model"):
        open_printer(cfg)


def test_file_printer_gets_the_ticket(tmp_path, payload):
    cfg = PrinterConfig(name="f", hall="demo", type="file", device=str(tmp_path / "lp0"))
    with connected(cfg) as p:
        print_ticket(p, TicketPrint.from_payload(payload), 58)
    assert decode((tmp_path / "lp0").read_bytes()).qr == [payload["track_url"]]


def test_dummy_keeps_the_last_job(payload):
    cfg = PrinterConfig(name="kiosk-dummy", hall="demo", type="dummy")
    for number in ("A001", "A002"):
        with connected(cfg) as p:
            print_ticket(p, TicketPrint.from_payload({**payload, "number": number}), 80)
    texts = decode(dummy_output("kiosk-dummy")).texts
    assert "A002" in texts and "A001" not in texts
    assert dummy_output("never-used") == b""
