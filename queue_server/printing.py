"""Kiosk ticket printing: print jobs queued with the ticket, printed by the spooler in the background."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from printer import offers
from printer.connections import connected
from printer.layout import TicketPrint, print_ticket
from printer.spool import Spooler, job_dict
from printer.status import printer_status
from queue_server.exceptions import NotFound, ValidationFailed
from queue_server.hall_settings import hall_settings, read_stored
from queue_server.models import Device, Hall, PrintJob, Ticket
from queue_server.runtime import Runtime

STATUS_EVERY_S = 15


class HallPaper(Mapping[str, int]):
    """Each hall's ticket paper width, read from its row when a job prints (an /admin change applies)."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def __getitem__(self, code: str) -> int:
        with self.factory() as session:
            stored = session.scalar(select(Hall.settings).where(Hall.code == code))
        if stored is None:
            raise KeyError(code)
        return read_stored(stored, code).ticket.paper_mm

    def __iter__(self) -> Iterator[str]:
        with self.factory() as session:
            return iter(list(session.scalars(select(Hall.code))))

    def __len__(self) -> int:
        return len(list(iter(self)))


def print_payload(hall: Hall, ticket: Ticket, data: dict, base_url: str, with_materials: bool) -> dict:
    """What goes on paper: no personal data, only the ticket, its service and the way to follow it."""
    return {
        "hall_name": hall.name,
        "hall_name_en": hall.name_en,
        "number": ticket.number,
        "service_name": ticket.service.name,
        "ahead": data["ahead"],
        "estimated_wait": data["estimated_wait"] or {"low_s": 0, "high_s": 0},
        "issued_at": data["issued_at"],
        "track_url": f"{base_url.rstrip('/')}/t/{ticket.id}",
        "notices": hall_settings(hall).ticket.notices,
        "materials": ticket.service.materials,
        "time_limit_days": ticket.service.time_limit_days,
        "kind": ticket.service.kind,
        "with_materials": with_materials,
    }


class TicketPrinting:
    """The server's printing service: queue, wake the worker, report job and printer states."""

    def __init__(self, runtime: Runtime) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.printers = {p.name: p for p in settings.printers}
        self.spooler = Spooler(
            runtime.factory,
            self.printers,
            on_change=self._job_changed,
            hall_paper_mm=HallPaper(runtime.factory),
        )
        self.status: dict[str, dict] = {
            name: {"state": "unknown", "detail": "not checked yet"} for name in self.printers
        }
        self._stop = threading.Event()
        self._socketio = None

    def hall_printers(self, hall_code: str) -> list[str]:
        return [name for name, cfg in self.printers.items() if cfg.hall == hall_code]

    def enqueue_ticket(
        self,
        session: Session,
        hall: Hall,
        ticket: Ticket,
        data: dict,
        base_url: str,
        printer: str | None,
        with_materials: bool,
        device: Device | None = None,
    ) -> dict | None:
        """Queue the ticket for printing in the caller's transaction; None when the hall has no printer.

        An agent kiosk's ticket (`device`) waits for that kiosk's agent, whatever the server's printers.
        """
        payload = print_payload(hall, ticket, data, base_url, with_materials)
        if device is not None and device.agent:
            return job_dict(self.spooler.enqueue(session, device.name, payload, ticket.id, device.id))
        names = self.hall_printers(hall.code)
        if printer is not None and printer not in names:
            raise ValidationFailed(
                f"hall {hall.code} has no printer {printer!r}; use one of {', '.join(names) or 'none'}",
                zh=f"大厅 {hall.code} 没有打印机 {printer}；可用的打印机：{'、'.join(names) or '无'}",
                field="printer",
            )
        name = printer or (names[0] if names else None)
        if name is None:
            return None
        return job_dict(self.spooler.enqueue(session, name, payload, ticket.id))

    def reprint(self, session: Session, ticket: Ticket) -> dict:
        """Queue a ticket's last print again (staff only)."""
        return job_dict(self.spooler.reprint(session, ticket.id))

    def last_job(self, session: Session, ticket_id: str) -> dict:
        job = session.scalar(
            select(PrintJob).where(PrintJob.ticket_id == ticket_id).order_by(PrintJob.id.desc()).limit(1)
        )
        if job is None:
            raise NotFound("this ticket was not sent to a printer", zh="这张号票没有发送到打印机")
        return job_dict(job)

    def wake(self, job: dict | None = None) -> None:
        """A job was committed: print it now rather than at the next poll (an agent kiosk's: tell its agent)."""
        if job is not None and job["printer"] not in self.printers:
            from queue_server.extensions import socketio
            from queue_server.realtime.events import agent_room

            socketio.emit("print_wake", {}, to=agent_room(job["printer"]))
            return
        self.spooler.wake()

    def start(self, socketio) -> None:
        if not self.printers or not self.runtime.settings.server.print_spooler:
            return
        self._socketio = socketio
        socketio.start_background_task(self.spooler.run_forever, self._stop)
        socketio.start_background_task(self._status_loop)

    def stop(self) -> None:
        self._stop.set()
        self.spooler.wake()

    def _status_loop(self) -> None:
        while not self._stop.is_set():
            for name, cfg in self.printers.items():
                status = printer_status(cfg)
                if status != self.status.get(name):
                    self.status[name] = status
                    self._emit("printer_status", {"printer": name, "hall": cfg.hall, **status}, cfg.hall)
            self._stop.wait(STATUS_EVERY_S)

    def _job_changed(self, job: dict[str, Any]) -> None:
        cfg = self.printers.get(job["printer"])
        if cfg is not None:
            # The hall room is public: the ticket id (the holder's credential) stays out of it.
            public = {k: v for k, v in job.items() if k != "ticket_id"}
            self._emit("print_job", {**public, "hall": cfg.hall}, cfg.hall)

    def _emit(self, event: str, payload: dict, hall_code: str) -> None:
        if self._socketio is not None:
            from queue_server.realtime.events import hall_room

            self._socketio.emit(event, payload, to=hall_room(hall_code))

    def printers_of(self, hall_code: str, session: Session | None = None) -> list[dict]:
        """The hall's printers with their state: the server's own, then (given a session) its agent kiosks'."""
        printers = [
            {"name": n, "paper_mm": self.spooler.paper_mm(self.printers[n]), **self.status[n]}
            for n in self.hall_printers(hall_code)
        ]
        if session is not None:
            hall = session.scalar(select(Hall).where(Hall.code == hall_code))
            if hall is not None:
                paper = hall_settings(hall).ticket.paper_mm
                printers += [offers.printer_view(d, paper) for d in offers.agent_kiosks(session, hall.id)]
        return printers


def print_test(settings, printer_name: str | None, preview: str | None) -> int:
    """`queue-server print-test`: a sample ticket to a printer, or its PNG preview to a file."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from printer.layout import preview_png

    if not settings.printers and not preview:
        print(f"{settings.source}: printers: no printer is configured; add one or use --preview FILE.png")
        return 2
    cfg = (
        next((p for p in settings.printers if p.name == printer_name), None)
        if printer_name
        else (settings.printers[0] if settings.printers else None)
    )
    if printer_name and cfg is None:
        names = ", ".join(p.name for p in settings.printers)
        print(f"{settings.source}: printers: no printer named {printer_name!r}; use one of {names}")
        return 2
    hall = settings.hall(cfg.hall) if cfg else settings.halls[0]
    service = hall.services[0] if hall.services else None
    sample = TicketPrint.from_payload(
        {
            "hall_name": hall.name,
            "hall_name_en": hall.name_en,
            "number": f"{hall.queues[0].prefix}001",
            "service_name": service.name if service else "测试事项",
            "ahead": 3,
            "estimated_wait": {"low_s": 300, "high_s": 900},
            "issued_at": datetime.now(ZoneInfo(hall.timezone)).isoformat(timespec="seconds"),
            "track_url": f"{settings.server.public_url or 'http://127.0.0.1:8000'}/t/sample",
            "notices": hall.ticket.notices,
            "materials": service.materials if service else [],
            "time_limit_days": service.time_limit_days if service else 0,
            "kind": service.kind if service else "instant",
            "with_materials": True,
        }
    )
    paper = cfg.paper_mm if cfg and cfg.paper_mm else hall.ticket.paper_mm
    if preview:
        with open(preview, "wb") as fh:
            fh.write(preview_png(sample, paper))
        print(f"wrote preview {preview} ({paper} mm)")
        return 0
    with connected(cfg) as p:
        print_ticket(p, sample, paper)
    print(f"sample ticket sent to {cfg.name} ({cfg.type}, {paper} mm)")
    return 0
