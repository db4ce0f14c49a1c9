"""ESC/POS ticket printing: layout, printer connections, status and the print spooler."""

from .connections import PrinterError, dummy_output, open_printer
from .layout import PrinterCaps, TicketPrint, preview_png, print_ticket, ticket_ops
from .spool import Spooler
from .status import printer_status

__all__ = [
    "PrinterCaps",
    "PrinterError",
    "Spooler",
    "TicketPrint",
    "dummy_output",
    "open_printer",
    "preview_png",
    "print_ticket",
    "printer_status",
    "ticket_ops",
]
