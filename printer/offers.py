"""An agent kiosk's print jobs on the server: offered to its agent with a lease, acknowledged, retried.

The kiosk's own printer is out of the server's reach, so `queue-server agent` on the kiosk asks for
its jobs. Each exchange carries what the agent printed and what failed since the last one, and takes
the next jobs with a lease (the one outbox, AGENT_JOBS): a job whose agent died before acknowledging
is offered again when the lease runs out, or at once when the agent says hello after a restart. The
agent keeps the keys of what it printed, so a repeat offer is acknowledged without printing twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from queue_server.core.states import JobState
from queue_server.hall_settings import hall_settings
from queue_server.models import Device, PrintJob

from .spool import AGENT_JOBS, MAX_BACKOFF_S, job_dict

MAX_TAKE = 5  # jobs per offer: a kiosk prints one ticket at a time
MAX_ATTEMPTS = 20
PRINTER_STATES = ("online", "offline", "paper_out", "cover_open", "stalled", "unknown")
PRINTER_DOWN = frozenset({"offline", "paper_out", "cover_open", "stalled"})
AGENT_GONE = {"state": "offline", "detail": "the kiosk's agent is not connected"}
EXPIRED = "issued on an earlier day: a ticket is valid on its day only, so it was not printed"


def job_key(job: PrintJob) -> str:
    """What the agent remembers a printed job by: its id and when it was made (ids restart with a new database)."""
    return f"{job.id}@{job.created_at.isoformat(timespec='microseconds')}"


def offer(job: PrintJob, paper_mm: int) -> dict:
    """A job as the agent gets it: what to print, on what paper, and the key to remember it by."""
    return {
        "id": job.id,
        "key": job_key(job),
        "number": job.payload.get("number"),
        "payload": job.payload,
        "paper_mm": paper_mm,
    }


@dataclass
class Exchange:
    """What came of one exchange: the offers for the agent, and the job changes for the hall's screens."""

    offers: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)


def exchange(
    session: Session,
    device: Device,
    now: datetime,
    *,
    printed: list[int],
    failed: list[dict],
    take: int,
    hello: bool = False,
) -> Exchange:
    """One round with a kiosk's agent: its printed jobs done, its failures retried, the next jobs offered."""
    mine = PrintJob.device_id == device.id
    out = Exchange()
    owned = set(session.scalars(select(PrintJob.id).where(mine, PrintJob.id.in_(printed + [f["id"] for f in failed]))))
    settled = [j for j in printed if j in owned and AGENT_JOBS.done(session, j, printed_at=now)]
    for failure in failed:
        if failure["id"] in owned:
            AGENT_JOBS.retry(
                session, failure["id"], failure["error"], now, first_s=2, cap_s=MAX_BACKOFF_S, max_attempts=MAX_ATTEMPTS
            )
            settled.append(failure["id"])
    if hello:  # the agent (re)started: what it still held is offered again now, not after the lease
        AGENT_JOBS.recover(session, now, mine, reason="the kiosk's agent restarted; offered again")
    settled += _expire(session, device, now)
    claimed = AGENT_JOBS.claim(session, now, mine, limit=max(0, min(take, MAX_TAKE))) if take else []
    paper = hall_settings(device.hall).ticket.paper_mm
    fresh = select(PrintJob).where(PrintJob.id.in_(settled + claimed)).order_by(PrintJob.id)
    for job in session.scalars(fresh.execution_options(populate_existing=True)):
        out.changed.append(job_dict(job))
        if job.id in claimed:
            out.offers.append(offer(job, paper))
    return out


def _expire(session: Session, device: Device, now: datetime) -> list[int]:
    """Fail the kiosk's jobs that would be offered now but were made on an earlier local day (its PC was off,
    its printer out of paper): yesterday's A001 coming out in the morning would be taken for today's."""
    zone = ZoneInfo(device.hall.timezone)
    midnight = datetime.combine(now.astimezone(zone).date(), time(), zone)
    old = (PrintJob.device_id == device.id, AGENT_JOBS.due(now), PrintJob.created_at < midnight)
    ids = list(session.scalars(select(PrintJob.id).where(*old).with_for_update(skip_locked=True)))
    if ids:
        session.execute(
            update(PrintJob)
            .where(PrintJob.id.in_(ids), AGENT_JOBS.due(now))
            .values(state=JobState.FAILED.value, last_error=EXPIRED)
            .execution_options(synchronize_session=False)
        )
    return ids


def marked_gone(device: Device) -> bool:
    """Whether the stored state is the one a disconnect wrote (not anything the agent said)."""
    return (device.printer_state, device.printer_detail) == (AGENT_GONE["state"], AGENT_GONE["detail"])


def report_status(session: Session, device: Device, state: str, detail: str, now: datetime) -> bool:
    """Keep what the agent says of its printer; True when it changed (the hall's screens are told)."""
    if state not in PRINTER_STATES:
        state, detail = "unknown", f"the agent reported {state[:20]!r}"
    detail = detail[:200]
    changed = (device.printer_state, device.printer_detail) != (state, detail)
    device.printer_state, device.printer_detail, device.printer_checked_at = state, detail, now
    return changed


def printer_view(device: Device, paper_mm: int) -> dict:
    """An agent kiosk's printer as the hall's printer list shows it."""
    return {
        "name": device.name,
        "paper_mm": paper_mm,
        "state": device.printer_state or "unknown",
        "detail": device.printer_detail or "its agent has not reported yet",
        "device": device.name,
        "agent": True,
    }


def agent_kiosks(session: Session, hall_id: int) -> list[Device]:
    """The hall's active kiosks that print through their agent."""
    return list(
        session.scalars(
            select(Device)
            .where(Device.hall_id == hall_id, Device.kind == "kiosk", Device.agent.is_(True), Device.active.is_(True))
            .order_by(Device.id)
        )
    )
