"""Satisfaction ratings (好差评): five levels, one per finished ticket, within the hall's period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server import clock
from queue_server.core.states import TicketStatus
from queue_server.exceptions import Conflict, IllegalTransition, ValidationFailed
from queue_server.hall_settings import hall_settings
from queue_server.models import Evaluation, Hall, Ticket
from queue_server.ratings.followups import POOR, open_for
from queue_server.tickets.snapshots import iso

LABELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


def evaluate(session: Session, ticket: Ticket, score: int, comment: str = "", reasons: Sequence[str] = ()) -> dict:
    """Record the citizen's rating of a finished ticket, with the reasons of a poor one."""
    if ticket.status != TicketStatus.DONE.value:
        raise IllegalTransition(
            f"ticket {ticket.number} can be rated once its service is finished",
            zh="办结后才能评价",
            status=ticket.status,
        )
    if session.scalar(select(Evaluation).where(Evaluation.ticket_pk == ticket.pk)) is not None:
        raise Conflict(f"ticket {ticket.number} has already been rated", zh="该号已评价过，谢谢", status=ticket.status)
    now = clock.now()
    days = hall_settings(ticket.hall).rating_days
    if ticket.finished_at and now - ticket.finished_at > timedelta(days=days):
        raise Conflict(
            f"the rating period of {days} days for ticket {ticket.number} is over",
            zh=f"已超过 {days} 天评价期",
            status=ticket.status,
        )
    chosen = check_reasons(ticket.hall, score, reasons)
    rating = Evaluation(
        ticket_pk=ticket.pk,
        hall_id=ticket.hall_id,
        score=score,
        comment=comment.strip(),
        reasons=chosen or None,
        at=now,
        window_id=ticket.window_id,
        clerk_id=ticket.clerk_id,
    )
    session.add(rating)
    session.flush()
    open_for(session, rating, ticket)  # a poor rating opens a follow-up record
    return {
        "ticket": ticket.number,
        "score": score,
        "label": LABELS[score],
        "comment": rating.comment,
        "reasons": chosen,
        "at": iso(now, ticket.hall.timezone),
    }


def check_reasons(hall: Hall, score: int, reasons: Sequence[str]) -> list[str]:
    """The reasons of a poor rating, each from the hall's list, once each, in the order given."""
    if reasons and score > POOR:
        raise ValidationFailed(
            "reasons are given only with a score of 2 (dissatisfied) or 1 (very dissatisfied)",
            zh="只有评价为“不满意”或“非常不满意”时才需选择原因",
            field="reasons",
        )
    offered = hall_settings(hall).poor_rating_reasons
    for reason in reasons:
        if reason not in offered:
            raise ValidationFailed(
                f"{reason!r} is not one of this hall's reasons: {', '.join(offered)}",
                zh=f"“{reason}”不是本厅的差评原因选项，可选：{'、'.join(offered)}",
                field="reasons",
            )
    return list(dict.fromkeys(reasons))


def reason_list(hall: Hall) -> dict:
    """The reasons a citizen may tick after a poor rating, for the rating pages."""
    return {"hall": hall.code, "reasons": hall_settings(hall).poor_rating_reasons}
