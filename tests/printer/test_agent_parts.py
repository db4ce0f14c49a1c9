"""The agent's small parts without a server: printer addresses and the ledger of printed jobs."""

from __future__ import annotations

import pytest

from printer.agent import AddressError, parse_address
from printer.ledger import Ledger


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("usb:04b8:0202", {"type": "usb", "usb_vendor": 0x04B8, "usb_product": 0x0202}),
        ("serial:/dev/ttyS0", {"type": "serial", "device": "/dev/ttyS0"}),
        ("serial:COM3", {"type": "serial", "device": "COM3"}),
        ("file:/dev/usb/lp0", {"type": "file", "device": "/dev/usb/lp0"}),
        ("win32:POS-80C Printer", {"type": "win32", "device": "POS-80C Printer"}),
        ("network:10.0.0.5:9100", {"type": "network", "host": "10.0.0.5", "port": 9100}),
        ("network:printer.local", {"type": "network", "host": "printer.local", "port": 9100}),
    ],
)
def test_printer_addresses(address, expected):
    cfg = parse_address(address)
    assert {k: getattr(cfg, k) for k in expected} == expected


@pytest.mark.parametrize("address", ["lp0", "usb:04b8", "usb:zz:01", "file:", "network:h:port", "bluetooth:x"])
def test_an_unknown_address_says_which_forms_exist(address):
    with pytest.raises(AddressError, match="use usb:VID:PID, serial:PORT, file:PATH"):
        parse_address(address)


def test_the_ledger_survives_a_restart_drops_a_torn_line_and_stays_small(tmp_path):
    path = tmp_path / "printed.txt"
    ledger = Ledger(path, keep=3)
    ledger.add("1@a")
    ledger.add("2@b")
    with open(path, "a", encoding="utf-8") as out:
        out.write("3@c")  # power lost while writing: never acknowledged, so not remembered
    again = Ledger(path, keep=3)
    assert "1@a" in again and "2@b" in again and "3@c" not in again
    again.add("4@d")
    assert "4@d" in Ledger(path, keep=3)
    for n in range(5, 12):
        again.add(f"{n}@x")
    assert len(path.read_text().splitlines()) <= 6 and "11@x" in Ledger(path)
