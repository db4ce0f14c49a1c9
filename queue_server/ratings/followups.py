"""Follow-ups of poor ratings (差评整改): opened by a rating of 不满意 or worse, closed by a supervisor."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server import clock
from queue_server.core.states import FollowUpState
from queue_server.exceptions import Conflict, NotFound, ValidationFailed
from queue_server.hall_settings import hall_settings
from queue_server.models import Evaluation, FollowUp, Hall, StaffUser, Ticket
from queue_server.tickets.snapshots import iso

POOR = 2  # 不满意 and 非常不满意


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days (Monday to Friday) after `start`."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def deadline(opened_at: datetime, timezone: str, working_days: int) -> datetime:
    """End of the last working day allowed (local midnight after it), as an aware UTC time."""
    tz = ZoneInfo(timezone)
    last = add_working_days(opened_at.astimezone(tz).date(), working_days)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz).astimezone(opened_at.tzinfo)


def open_for(session: Session, rating: Evaluation, ticket: Ticket) -> FollowUp | None:
    """Open a follow-up when the rating is poor; nothing for a good one."""
    if rating.score > POOR:
        return None
    now = clock.now()
    days = hall_settings(ticket.hall).followup_days
    item = FollowUp(
        hall_id=ticket.hall_id,
        evaluation_id=rating.id,
        ticket_pk=ticket.pk,
        state=FollowUpState.OPEN.value,
        opened_at=now,
        due_at=deadline(now, ticket.hall.timezone, days),
        assignee="",
        action="",
    )
    session.add(item)
    session.flush()
    return item


def listing(session: Session, hall: Hall, state: str = "open") -> list[FollowUp]:
    """Follow-ups of the hall: open, overdue (open past the deadline), closed or all; oldest deadline first."""
    query = select(FollowUp).where(FollowUp.hall_id == hall.id)
    if state == "overdue":
        query = query.where(FollowUp.state == FollowUpState.OPEN.value, FollowUp.due_at < clock.now())
    elif state in ("open", "closed"):
        query = query.where(FollowUp.state == state)
    elif state != "all":
        raise ValidationFailed(
            "state is one of open, overdue, closed, all", zh="状态只能是 open、overdue、closed 或 all", field="state"
        )
    return list(session.scalars(query.order_by(FollowUp.due_at, FollowUp.id)))


def get(session: Session, hall: Hall, followup_id: int) -> FollowUp:
    item = session.scalar(select(FollowUp).where(FollowUp.id == followup_id, FollowUp.hall_id == hall.id))
    if item is None:
        raise NotFound(
            f"hall {hall.code} has no follow-up {followup_id}",
            zh=f"大厅 {hall.code} 没有编号为 {followup_id} 的回访",
            followup=followup_id,
        )
    return item


def update(item: FollowUp, assignee: str | None, action: str | None) -> FollowUp:
    """Record who handles it and what has been done so far."""
    if item.state != FollowUpState.OPEN.value:
        raise Conflict(f"follow-up {item.id} is closed", zh=f"回访 {item.id} 已结案", status=item.state)
    if assignee is not None:
        item.assignee = assignee.strip()
    if action is not None:
        item.action = action.strip()
    return item


def close(item: FollowUp, user: StaffUser, action: str, assignee: str | None = None) -> FollowUp:
    """Close it with what was done (required); the closing supervisor and time are kept."""
    if item.state != FollowUpState.OPEN.value:
        raise Conflict(f"follow-up {item.id} is already closed", zh=f"回访 {item.id} 已经结案", status=item.state)
    if not action.strip():
        raise ValidationFailed(
            "say what was done to close the follow-up", zh="请填写结案时采取的处理措施", field="action"
        )
    update(item, assignee, action)
    item.state, item.closed_at, item.closed_by = FollowUpState.CLOSED.value, clock.now(), user.id
    return item


def as_dict(item: FollowUp, closed_by: str | None = None) -> dict:
    tz, ticket, rating = item.ticket.hall.timezone, item.ticket, item.evaluation
    overdue = item.state == FollowUpState.OPEN.value and item.due_at < clock.now()
    return {
        "id": item.id,
        "state": item.state,
        "overdue": overdue,
        "ticket": ticket.number,
        "case_id": ticket.case_id,
        "service": ticket.service.name,
        "window": ticket.window.number if ticket.window else None,
        "score": rating.score,
        "comment": rating.comment,
        "reasons": rating.reasons or [],
        "rated_at": iso(rating.at, tz),
        "opened_at": iso(item.opened_at, tz),
        "due_at": iso(item.due_at, tz),
        "assignee": item.assignee,
        "action": item.action,
        "closed_at": iso(item.closed_at, tz),
        "closed_by": closed_by,
    }
