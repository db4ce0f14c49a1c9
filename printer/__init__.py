"""ESC/POS ticket printing: layout, printer connections, status and the print spooler."""

from .connections import PrinterError, connected, dummy_output, open_printer
from .layout import PrinterCaps, TicketPrint, preview_png, print_ticket, ticket_ops
from .spool import JobState, Spooler, job_dict
from .status import printer_status

__all__ = [
    "JobState",
    "PrinterCaps",
    "PrinterError",
    "Spooler",
    "TicketPrint",
    "connected",
    "dummy_output",
    "job_dict",
    "open_printer",
    "preview_png",
    "print_ticket",
    "printer_status",
    "ticket_ops",
]
