"""The print spooler: tickets wait in print_jobs until their printer has taken them, exactly once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from queue_server import clock
from queue_server.config import PrinterConfig
from queue_server.core.states import JobState
from queue_server.db import transaction
from queue_server.exceptions import NotFound
from queue_server.models import PrintJob
from queue_server.outbox import Outbox, backoff

from .connections import connected
from .exceptions import PayloadError, PrinterError
from .layout import TicketPrint, print_ticket

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 60
DEFAULT_PAPER_MM = 80
RECOVER_RETRY_S = 2
GAVE_UP = "gave up after {attempts} attempts: {error}"

# Print jobs as an outbox. The server's spooler holds a claim until it has printed (or until its
# own restart recovers it); a kiosk's agent, on another machine, holds a job for AGENT_LEASE only.
PRINT_JOBS = Outbox(PrintJob, JobState.QUEUED, JobState.PRINTING, JobState.PRINTED, JobState.FAILED)
AGENT_LEASE = timedelta(seconds=30)
AGENT_JOBS = Outbox(PrintJob, JobState.QUEUED, JobState.PRINTING, JobState.PRINTED, JobState.FAILED, AGENT_LEASE)


class Stop(Protocol):
    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


def job_dict(job: PrintJob) -> dict[str, Any]:
    """The job as the kiosk sees it: id, printer, ticket, state, attempts, last error."""
    return {
        "id": job.id,
        "printer": job.printer,
        "ticket_id": job.ticket_id,
        "state": job.state,
        "attempts": job.attempts,
        "last_error": job.last_error,
    }


def backoff_s(attempts: int) -> int:
    """Seconds to wait before the next try after `attempts` failed ones: 1, 2, 4 … capped at 60."""
    return int(backoff(attempts, 1, MAX_BACKOFF_S))


class Spooler:
    """Prints queued jobs for a set of printers; any number of spoolers may share one database."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        printers: Mapping[str, PrinterConfig],
        on_change: Callable[[dict[str, Any]], None] | None = None,
        *,
        max_attempts: int = 20,
        hall_paper_mm: Mapping[str, int] | None = None,
        poll_s: float = 0.5,
        batch: int = 50,
    ) -> None:
        self.factory = factory
        self.printers = dict(printers)
        self.on_change = on_change
        self.max_attempts = max_attempts
        self.hall_paper_mm = hall_paper_mm if hall_paper_mm is not None else {}  # may read live settings
        self.poll_s = poll_s
        self.batch = batch
        self._wake = threading.Event()

    def paper_mm(self, cfg: PrinterConfig) -> int:
        """Paper width of a printer: its own setting, else its hall's ticket setting, else 80 mm."""
        return cfg.paper_mm or self.hall_paper_mm.get(cfg.hall) or DEFAULT_PAPER_MM

    def enqueue(
        self,
        session: Session,
        printer_name: str,
        payload: dict[str, Any],
        ticket_id: str | None = None,
        device_id: int | None = None,
    ) -> PrintJob:
        """Add a print job to the caller's session; it prints once the caller commits.

        With `device_id` the job is an agent kiosk's (printer: the kiosk's name): its agent prints it.
        """
        if device_id is None and printer_name not in self.printers:
            known = ", ".join(sorted(self.printers)) or "none configured"
            raise PrinterError(f"unknown printer {printer_name!r} (printers: {known})")
        TicketPrint.from_payload(payload)  # a payload that cannot print fails here, not in the worker
        now = clock.now()
        job = PrintJob(
            printer=printer_name,
            ticket_id=ticket_id,
            device_id=device_id,
            payload=payload,
            state=JobState.QUEUED.value,
            attempts=0,
            created_at=now,
            next_attempt_at=now,
        )
        session.add(job)
        session.flush()
        return job

    def reprint(self, session: Session, ticket_id: str) -> PrintJob:
        """Queue the ticket's last print job again, on the same printer."""
        last = session.scalars(
            select(PrintJob).where(PrintJob.ticket_id == ticket_id).order_by(PrintJob.id.desc()).limit(1)
        ).first()
        if last is None:
            raise NotFound(f"ticket {ticket_id} has never been sent to a printer")
        return self.enqueue(session, last.printer, dict(last.payload), ticket_id, last.device_id)

    def recover(self) -> int:
        """At start-up: jobs left 'printing' by a crash go back to the queue; returns how many."""
        with transaction(self.factory) as session:
            ids = PRINT_JOBS.recover(
                session, clock.now(), self._mine(), reason="interrupted while printing; printing again"
            )
            stuck = [session.get(PrintJob, job_id) for job_id in ids]
        for job in stuck:
            self._notify(job)
        return len(stuck)

    def run_once(self) -> int:
        """Try every due job once; returns how many were tried."""
        with transaction(self.factory) as session:
            due = session.execute(
                select(PrintJob.id, PrintJob.printer)
                .where(PRINT_JOBS.due(clock.now()), self._mine())
                .order_by(PrintJob.next_attempt_at, PrintJob.id)
                .limit(self.batch)
            ).all()
        tried, down = 0, set()
        for job_id, printer in due:
            if printer in down:
                continue  # pushed back with the job that just failed on it
            job = self._claim(job_id)
            if job is None:
                continue  # another spooler took it
            tried += 1
            if not self._print(job):
                down.add(job.printer)
        return tried

    def wake(self) -> None:
        """A job was committed: print it now rather than at the next poll."""
        self._wake.set()

    def run_forever(self, stop: Stop) -> None:
        """Recover, then print due jobs until `stop` is set; an empty round waits `poll_s` or until woken."""
        while not stop.is_set():
            try:
                self.recover()
                break
            except Exception:  # the database is not there yet; keep trying
                log.exception("print spooler cannot recover jobs; retrying")
                stop.wait(RECOVER_RETRY_S)
        failing = False
        while not stop.is_set():
            self._wake.clear()
            try:
                tried = self.run_once()
                if failing:
                    log.warning("print spooler is printing again")
                    failing = False
            except Exception as exc:  # a failed round must not end printing
                if not failing:  # once per outage, not every poll
                    log.error("print spooler round failed (%s); retrying", exc)
                failing = True
                tried = 0
            if not tried:
                self._wake.wait(self.poll_s)

    def _mine(self):
        return PrintJob.printer.in_(self.printers) & PrintJob.device_id.is_(None)  # an agent kiosk's jobs are not ours

    def _claim(self, job_id: int) -> PrintJob | None:
        with transaction(self.factory) as session:
            won = PRINT_JOBS.claim(session, clock.now(), PrintJob.id == job_id)
            job = session.get(PrintJob, job_id) if won else None
        if job is not None:
            self._notify(job)
        return job

    def _print(self, job: PrintJob) -> bool:
        cfg = self.printers[job.printer]
        try:
            ticket = TicketPrint.from_payload(job.payload)
        except PayloadError as exc:
            self._finish(job, JobState.FAILED, str(exc))
            return True
        try:
            with connected(cfg) as printer:
                print_ticket(printer, ticket, self.paper_mm(cfg))
        except PrinterError as exc:
            self._retry(job, exc.reason)
            return False
        except Exception as exc:  # a bug must not kill the worker nor lose the job
            log.exception("printing job %s failed", job.id)
            self._retry(job, f"{type(exc).__name__}: {exc}")
            return False
        self._finish(job, JobState.PRINTED)
        return True

    def _retry(self, job: PrintJob, reason: str) -> None:
        now = clock.now()
        with transaction(self.factory) as session:
            state = PRINT_JOBS.retry(
                session,
                job.id,
                reason,
                now,
                first_s=1,
                cap_s=MAX_BACKOFF_S,
                max_attempts=self.max_attempts,
                gave_up=GAVE_UP,
            )
            if state == JobState.QUEUED:
                # The printer is down: its other queued tickets wait as long, and keep their order.
                retry_at = session.scalar(select(PrintJob.next_attempt_at).where(PrintJob.id == job.id))
                session.execute(
                    update(PrintJob)
                    .where(
                        PrintJob.printer == job.printer,
                        PrintJob.state == JobState.QUEUED.value,
                        PrintJob.next_attempt_at < retry_at,
                    )
                    .values(next_attempt_at=retry_at)
                    .execution_options(synchronize_session=False)
                )
            fresh = session.get(PrintJob, job.id)
        self._settled(state, fresh)

    def _finish(self, job: PrintJob, state: JobState, error: str | None = None) -> None:
        with transaction(self.factory) as session:
            if state is JobState.PRINTED:
                settled = PRINT_JOBS.done(session, job.id, printed_at=clock.now())
            else:
                settled = PRINT_JOBS.give_up(session, job.id, error or "")
            fresh = session.get(PrintJob, job.id)
        self._settled(state if settled else None, fresh)

    def _settled(self, state: str | None, job: PrintJob | None) -> None:
        if state is None:
            log.warning("print job %s changed state while printing (recovered elsewhere?)", job.id if job else "?")
            return
        self._notify(job)

    def _notify(self, job: PrintJob | None) -> None:
        if self.on_change is None or job is None:
            return
        try:
            self.on_change(job_dict(job))
        except Exception:
            log.exception("on_change callback failed for print job %s", job.id)
