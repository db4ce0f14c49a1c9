"""Issuing tickets and moving them through the hall: the core applied to the database."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, bindparam, case, func, or_, select, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from queue_server import clock
from queue_server.core import routing
from queue_server.core.numbering import format_number, local_day, parse_number
from queue_server.core.states import Action, Channel, Priority, TicketStatus, next_status
from queue_server.db import adopt, execute, get_by_id
from queue_server.exceptions import Conflict, IllegalTransition, NotFound, ValidationFailed
from queue_server.hall_settings import hall_settings
from queue_server.halls import get_service
from queue_server.models import DayCounter, Hall, Queue, ServiceItem, StaffUser, Ticket, TicketEvent, Window

# Every column of a fresh ticket that the caller does not choose, so the stored row and the object agree.
NEW_TICKET = {
    "status": TicketStatus.WAITING.value,
    "order_key": 0,
    "called_at": None,
    "started_at": None,
    "finished_at": None,
    "window_id": None,
    "target_window_id": None,
    "clerk_id": None,
    "recall_count": 0,
    "returns": 0,
    "phone_masked": None,
    "id_number_masked": None,
    "phone_hash": None,
    "id_number_hash": None,
    "case_id": None,
    "quoted_low_s": None,
    "quoted_high_s": None,
    "unchecked_on_call": None,
    "checked_in_at": None,
}
CANDIDATES = 25  # per class; routing only ever needs the head of each
# A remote ticket under the hall rule "skip" keeps its place but is passed over until checked in at the hall.
READY = or_(Ticket.unchecked_on_call.is_(None), Ticket.unchecked_on_call != "skip", Ticket.checked_in_at.is_not(None))


@dataclass
class Change:
    """What an operation did, so the caller can tell the hall after the commit."""

    ticket: Ticket | None = None
    called: bool = False
    queues_changed: bool = False
    window: Window | None = None
    extra: dict = field(default_factory=dict)


def new_ticket_id() -> str:
    """An opaque, unguessable ticket id (128 random bits, URL-safe): the holder's credential."""
    return secrets.token_urlsafe(16)


def _seq_statement(dialect: str):
    insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert_(DayCounter.__table__)
        .values(hall_id=bindparam("hall_id"), queue_id=bindparam("queue_id"), day=bindparam("day"), last_seq=1)
        .on_conflict_do_update(
            index_elements=["hall_id", "queue_id", "day"], set_={"last_seq": DayCounter.__table__.c.last_seq + 1}
        )
        .returning(DayCounter.__table__.c.last_seq)
    )


SEQ_STATEMENTS = {dialect: _seq_statement(dialect) for dialect in ("postgresql", "sqlite")}
TICKETS, EVENTS = Ticket.__table__, TicketEvent.__table__
# Plain table statements, built once: issuing runs them for every ticket.
INSERT_TICKET = TICKETS.insert().returning(TICKETS.c.pk)
SET_ORDER_KEY = TICKETS.update().where(TICKETS.c.pk == bindparam("ticket_pk")).values(order_key=bindparam("ticket_pk"))
INSERT_EVENT = EVENTS.insert()


def allocate_seq(session: Session, hall_id: int, queue_id: int, day) -> int:
    """Next number of the day for a queue; one atomic upsert, safe across processes."""
    stmt = SEQ_STATEMENTS[session.get_bind().dialect.name]
    return session.execute(stmt, {"hall_id": hall_id, "queue_id": queue_id, "day": day}).scalar_one()


HISTORY = "onewindow.history"  # session.info key of the history rows waiting for their one insert


def record(
    session: Session,
    ticket: Ticket,
    action: str,
    before: str | None,
    *,
    now: datetime,
    window: Window | None = None,
    user: StaffUser | None = None,
    reason: str | None = None,
    data: dict | None = None,
) -> None:
    """Append one row to the ticket's history: a plain insert now, or with the others of a `history_batch`."""
    row = {
        "ticket_pk": ticket.pk,
        "hall_id": ticket.hall_id,
        "action": action,
        "from_status": before,
        "to_status": ticket.status,
        "at": now,
        "window_id": window.id if window else ticket.window_id,
        "user_id": user.id if user else None,
        "reason": reason,
        "data": data,
    }
    batch = session.info.get(HISTORY)
    if batch is None:
        session.execute(INSERT_EVENT, row)
    else:
        batch.append(row)


@contextmanager
def history_batch(session: Session) -> Iterator[None]:
    """The history rows recorded inside go in with one insert at the end (nothing is written if it fails).

    A window action records one row per step (the compound 办结并叫下一位 two, a call-next that passes over a
    remote ticket more); nothing reads them before the commit. Nested batches join the outer one.
    """
    if HISTORY in session.info:
        yield
        return
    rows: list[dict] = []
    session.info[HISTORY] = rows
    try:
        yield
    finally:
        del session.info[HISTORY]
    if rows:
        execute(session, INSERT_EVENT, rows)


def store(session: Session, row: Ticket | Window, *, expect: dict | None = None, **values) -> bool:
    """Write these columns of a loaded ticket or window with one plain UPDATE and make the object agree.

    No unit-of-work flush follows. `expect` makes it conditional (e.g. the status it had when read):
    returns False, and changes nothing, when the stored row no longer matches.
    """
    table = type(row).__table__
    key = table.primary_key.columns[0]
    expect = expect or {}
    if None in expect.values():  # "= NULL" matches nothing: say IS NULL
        raise ValueError("store(): expect a value, not None")
    statement = _update_statement(table, tuple(values), tuple(expect))
    params = {"row_key": getattr(row, key.key)}
    params.update({f"new_{name}": value for name, value in values.items()})
    params.update({f"was_{name}": value for name, value in expect.items()})
    if execute(session, statement, params).rowcount != 1:
        return False
    for name, value in values.items():
        set_committed_value(row, name, value)
    return True


_UPDATES: dict = {}  # (table, columns written, columns expected) -> its UPDATE, built once


def _update_statement(table, names: tuple[str, ...], expected: tuple[str, ...]):
    statement = _UPDATES.get((table, names, expected))
    if statement is None:
        key = table.primary_key.columns[0]
        where = [key == bindparam("row_key"), *(table.c[name] == bindparam(f"was_{name}") for name in expected)]
        statement = table.update().where(*where).values({name: bindparam(f"new_{name}") for name in names})
        _UPDATES[(table, names, expected)] = statement
    return statement


def attach(session: Session, values: dict, hall: Hall, window: Window | None = None) -> Ticket:
    """A ticket row just written (its columns as stored) as the session's Ticket, with no reload and no flush.

    Its service, queue and windows come from the session when it has them (the window's queues, the hall).
    """
    ticket = session.identity_map.get(session.identity_key(Ticket, (values["pk"],)))
    if ticket is None:
        ticket = Ticket(**values)
        make_transient_to_detached(ticket)  # stored already: later changes are updates, and nothing is reloaded
        session.add(ticket)
    else:
        for name, value in values.items():
            set_committed_value(ticket, name, value)
    related = {
        "hall": hall,
        "service": get_by_id(session, ServiceItem, values["service_id"]),
        "queue": get_by_id(session, Queue, values["queue_id"]),
        "window": window
        if window is not None and window.id == values["window_id"]
        else _window(session, values["window_id"]),
        "target_window": _window(session, values["target_window_id"]),
    }
    for name, value in related.items():
        set_committed_value(ticket, name, value)
    return ticket


def _window(session: Session, window_id: int | None) -> Window | None:
    return get_by_id(session, Window, window_id)


def issue(
    session: Session,
    hall: Hall,
    service: str | ServiceItem,
    *,
    channel: str = "kiosk",
    priority: str = "normal",
    user: StaffUser | None = None,
    **fields,
) -> Change:
    """Hand out the next number of the service's queue (`service`: a code, or the item already loaded).

    `fields` sets more columns at once (the person's hashes and masked numbers as
    `personal.columns` decides them, the quoted wait). The rows go in as
    three plain statements and the ticket joins the session as already stored: issuing is the
    busiest write of a hall, and the ORM's unit of work cost more than the rest of it together.
    """
    _check_enum(Channel, channel, "channel")
    _check_enum(Priority, priority, "priority")
    if isinstance(service, str):
        service = get_service(session, hall, service)
    now = clock.now()
    day = local_day(now, hall.timezone)
    seq = allocate_seq(session, hall.id, service.queue_id, day)
    values = {
        **NEW_TICKET,
        "id": new_ticket_id(),
        "hall_id": hall.id,
        "queue_id": service.queue_id,
        "service_id": service.id,
        "day": day,
        "seq": seq,
        "number": format_number(service.queue.prefix, seq),
        "channel": channel,
        "priority": priority,
        "issued_at": now,
        "queued_at": now,
        **fields,
    }
    pk = session.execute(INSERT_TICKET, values).scalar_one()
    # Arrival order comes from the database's own sequence, never from the clock.
    session.execute(SET_ORDER_KEY, {"ticket_pk": pk})
    ticket = attach(session, {**values, "pk": pk, "order_key": pk}, hall)
    record(session, ticket, "issue", None, now=now, user=user, data={"channel": channel, "priority": priority})
    return Change(ticket=ticket, queues_changed=True, extra={"issued": True})


def _check_enum(enum, value: str, name: str) -> None:
    allowed = [e.value for e in enum]
    if value not in allowed:
        raise ValidationFailed(
            f"{name} must be one of {', '.join(allowed)}", zh=f"{name} 只能是 {', '.join(allowed)} 之一", field=name
        )


def _candidate_query():
    """Sent to the window, priority, and normal: each line's head in arrival order, in one statement (built once)."""
    columns = (Ticket.id, Ticket.queue_id, Ticket.priority, Ticket.queued_at, Ticket.order_key, Ticket.target_window_id)
    base = select(*columns).where(
        Ticket.hall_id == bindparam("hall_id"), Ticket.status == TicketStatus.WAITING.value, READY
    )
    mine = Ticket.target_window_id.is_(None) & Ticket.queue_id.in_(bindparam("queue_ids", expanding=True))
    groups = [
        base.where(Ticket.target_window_id == bindparam("window_id")),
        base.where(mine, Ticket.priority != Priority.NORMAL.value),
        base.where(mine, Ticket.priority == Priority.NORMAL.value),
    ]
    return union_all(*(group.order_by(Ticket.order_key).limit(CANDIDATES).subquery().select() for group in groups))


CANDIDATE_QUERY = _candidate_query()


def waiting_candidates(session: Session, window: Window) -> list[routing.Candidate]:
    """Heads of the waiting lines this window may call: sent to it, priority, and normal."""
    params = {"hall_id": window.hall_id, "window_id": window.id, "queue_ids": [q.id for q in window.queues]}
    # Routing only needs the head of each line; the rest are spares for when other windows win the race.
    rows = execute(session, CANDIDATE_QUERY, params).all()
    prefix = {q.id: q.prefix for q in window.queues}
    return [
        routing.Candidate(
            ticket_id=ticket_id,
            queue=prefix.get(queue_id, ""),
            priority=priority,
            queued_at=queued_at,
            order_key=order_key,
            target_window=window.number if target == window.id else None,
        )
        for ticket_id, queue_id, priority, queued_at, order_key, target in rows
    ]


def rules_for(hall: Hall) -> routing.Rules:
    return routing.Rules(aging_s=hall_settings(hall).aging_minutes * 60)


# The service and queue come along: every answer and event about a ticket names them.
WITH_ITEM = (joinedload(Ticket.service, innerjoin=True), joinedload(Ticket.queue, innerjoin=True))
_ITEMS, _QUEUES = ServiceItem.__table__, Queue.__table__
# The ticket with its service item and queue in one plain statement (their columns prefixed s_ and q_).
TICKET_BY_ID = (
    select(TICKETS, *(c.label(f"s_{c.key}") for c in _ITEMS.c), *(c.label(f"q_{c.key}") for c in _QUEUES.c))
    .join(_ITEMS, _ITEMS.c.id == TICKETS.c.service_id)
    .join(_QUEUES, _QUEUES.c.id == TICKETS.c.queue_id)
    .where(TICKETS.c.id == bindparam("ticket_id"))
)
# A remote ticket (hall rule "no_show") not checked in at the hall when its turn comes is a no-show.
MISSED_CHECK_IN = and_(TICKETS.c.unchecked_on_call == "no_show", TICKETS.c.checked_in_at.is_(None))


def _unless_missed(column, called_value):
    return case((MISSED_CHECK_IN, column), else_=called_value)


CLAIM_CHUNK = 8  # candidates offered to one claim statement; the first is nearly always free


def _claim_statement():
    """Call the first free ticket of up to CLAIM_CHUNK ranked ids (:rank0 … ), built once."""
    ranked = [bindparam(f"rank{n}", type_=TICKETS.c.id.type) for n in range(CLAIM_CHUNK)]
    rank = case(*((TICKETS.c.id == r, n) for n, r in enumerate(ranked)), else_=CLAIM_CHUNK)
    first = (
        select(TICKETS.c.pk)
        .where(TICKETS.c.id.in_(ranked), TICKETS.c.status == TicketStatus.WAITING.value)
        .order_by(rank)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return (
        TICKETS.update()
        .where(TICKETS.c.pk == first, TICKETS.c.status == TicketStatus.WAITING.value)
        .values(
            status=_unless_missed(TicketStatus.NO_SHOW.value, TicketStatus.CALLED.value),
            called_at=_unless_missed(TICKETS.c.called_at, bindparam("at", type_=TICKETS.c.called_at.type)),
            window_id=_unless_missed(TICKETS.c.window_id, bindparam("to_window", type_=TICKETS.c.window_id.type)),
            clerk_id=_unless_missed(TICKETS.c.clerk_id, bindparam("by_clerk", type_=TICKETS.c.clerk_id.type)),
            recall_count=_unless_missed(TICKETS.c.recall_count, 0),
        )
        .returning(*TICKETS.c)
    )


CLAIM = _claim_statement()


def claim(
    session: Session, hall: Hall, window: Window, user: StaffUser | None, now: datetime, ranked_ids: list[str]
) -> Ticket | None:
    """Call the first of these tickets (in this order) that is still waiting and that no other window is
    calling right now, or None if all are taken; a remote ticket missing its check-in becomes a no-show instead.

    One statement per CLAIM_CHUNK candidates however many windows race for the head of the line: PostgreSQL
    skips the rows other windows hold (SKIP LOCKED) and the update re-checks the status of the row it took
    (SQLite has no row locks, only its write lock).
    """
    params = {"at": now, "to_window": window.id, "by_clerk": user.id if user else None}
    for start in range(0, len(ranked_ids), CLAIM_CHUNK):
        chunk = ranked_ids[start : start + CLAIM_CHUNK]
        params.update({f"rank{n}": chunk[n] if n < len(chunk) else None for n in range(CLAIM_CHUNK)})
        claimed = execute(session, CLAIM, params).first()
        if claimed is not None:
            return attach(session, dict(claimed._mapping), hall, window)
    return None


def call_next(session: Session, hall: Hall, window: Window, user: StaffUser | None) -> Change:
    """Call the best waiting ticket for this window; Change.ticket is None when nobody waits."""
    now = clock.now()
    for _attempt in range(3):
        ranked = routing.rank(
            waiting_candidates(session, window),
            window.number,
            [q.prefix for q in window.queues],
            now,
            rules_for(hall),
        )
        if not ranked:
            return Change(window=window)
        ids = [candidate.ticket_id for candidate in ranked]
        while ids and (ticket := claim(session, hall, window, user, now, ids)) is not None:
            ids = ids[ids.index(ticket.id) + 1 :]
            if ticket.status == TicketStatus.NO_SHOW.value:
                record(
                    session,
                    ticket,
                    "no_show",
                    TicketStatus.WAITING.value,
                    now=now,
                    window=window,
                    user=user,
                    reason="remote ticket not checked in",
                )
                continue
            store(session, window, ticket_id=ticket.id)
            record(session, ticket, "call", TicketStatus.WAITING.value, now=now, window=window, user=user)
            return Change(ticket=ticket, called=True, queues_changed=True, window=window)
        # Every candidate was taken by other windows meanwhile: look again.
    return Change(window=window)


def call_number(
    session: Session,
    hall: Hall,
    window: Window,
    user: StaffUser | None,
    number: str,
    reason: str,
    data: dict | None = None,
) -> Change:
    """Call a given number out of order (a returning no-show, an urgent case); the reason is recorded."""
    ticket = find_by_number(session, hall, number)
    # Lock and re-read the row: another window may be calling this very ticket right now.
    session.refresh(ticket, with_for_update=True)
    now = clock.now()
    before = ticket.status
    returns = ticket.returns
    if ticket.status == TicketStatus.NO_SHOW.value:
        allowed = hall_settings(hall).no_show_returns
        if ticket.returns >= allowed:
            raise IllegalTransition(
                f"ticket {ticket.number} already came back {ticket.returns} time(s) after a no-show; "
                f"the hall allows {allowed}. Please take a new ticket.",
                status=ticket.status,
                zh=f"{ticket.number} 号过号后已返回 {ticket.returns} 次（本厅允许 {allowed} 次），请重新取号",
            )
        next_status(ticket.status, Action.RETURN)
        returns += 1
    else:
        next_status(ticket.status, Action.CALL)
    target = ticket.target_window_id if ticket.target_window_id in (None, window.id) else None
    store(
        session,
        ticket,
        status=TicketStatus.CALLED.value,
        returns=returns,
        target_window_id=target,
        called_at=now,
        window_id=window.id,
        clerk_id=user.id if user else None,
        recall_count=0,
    )
    set_committed_value(ticket, "window", window)
    set_committed_value(ticket, "target_window", None if target is None else window)
    store(session, window, ticket_id=ticket.id)
    data = {"out_of_order": True, **(data or {})}
    record(session, ticket, "call", before, now=now, window=window, user=user, reason=reason, data=data)
    return Change(ticket=ticket, called=True, queues_changed=True, window=window)


def find_by_number(session: Session, hall: Hall, number: str) -> Ticket:
    """Today's ticket with this number in the hall, or NotFound."""
    try:
        parse_number(number.strip().upper())
    except ValueError:
        raise ValidationFailed(
            f"{number!r} is not a ticket number such as A001",
            zh=f"{number} 不是有效的号码（例如 A001）",
            field="number",
        ) from None
    day = local_day(clock.now(), hall.timezone)
    ticket = session.scalar(
        select(Ticket).where(Ticket.hall_id == hall.id, Ticket.day == day, Ticket.number == number.strip().upper())
    )
    if ticket is None:
        raise NotFound(f"no ticket {number} today in hall {hall.code}", zh=f"今天没有 {number} 号", number=number)
    return ticket


def get_ticket(session: Session, ticket_id: str) -> Ticket:
    """The ticket with this id, or NotFound."""
    row = execute(session, TICKET_BY_ID, {"ticket_id": ticket_id}).first()
    if row is None:
        raise NotFound("no such ticket", zh="没有这张号票", ticket=ticket_id)
    values = row._mapping
    ticket = adopt(session, Ticket, {c.key: values[c.key] for c in TICKETS.c})
    for name, model, prefix in (("service", ServiceItem, "s_"), ("queue", Queue, "q_")):
        if name not in ticket.__dict__:
            columns = model.__table__.c
            set_committed_value(ticket, name, adopt(session, model, {c.key: values[prefix + c.key] for c in columns}))
    return ticket


def transition(
    session: Session,
    ticket: Ticket,
    action: Action,
    *,
    window: Window | None = None,
    user: StaffUser | None = None,
    reason: str | None = None,
    data: dict | None = None,
) -> str:
    """Apply one state-machine action to a ticket and record it; returns the previous status.

    One conditional UPDATE: if another request moved the ticket since it was read, nothing changes and
    the caller gets a Conflict naming the ticket.
    """
    before = ticket.status
    now = clock.now()
    values: dict = {"status": next_status(before, action).value}
    if action == Action.START:
        values["started_at"] = now
    elif action == Action.FINISH:
        values["finished_at"] = now
    elif action == Action.RECALL:
        values["recall_count"] = ticket.recall_count + 1
    if not store(session, ticket, expect={"status": before}, **values):
        raise Conflict(
            f"ticket {ticket.number} was changed by someone else just now; look again",
            zh=f"{ticket.number} 号刚被其他人处理，请刷新后再试",
            status=before,
        )
    record(session, ticket, action.value, before, now=now, window=window, user=user, reason=reason, data=data)
    return before


def cancel(session: Session, ticket: Ticket) -> Change:
    """The holder gives up a waiting ticket."""
    # Lock and re-read the row: a window may be calling it right now.
    session.refresh(ticket, with_for_update=True)
    transition(session, ticket, Action.CANCEL)
    return Change(ticket=ticket, queues_changed=True)


def waiting_counts(session: Session, hall: Hall) -> dict[int, int]:
    """Waiting tickets per queue id."""
    rows = session.execute(
        select(Ticket.queue_id, func.count())
        .where(Ticket.hall_id == hall.id, Ticket.status == TicketStatus.WAITING.value)
        .group_by(Ticket.queue_id)
    )
    return {queue_id: count for queue_id, count in rows}


def close_day(session: Session, hall: Hall) -> list[str]:
    """Cancel tickets still waiting from earlier local days, so the morning never calls yesterday's numbers."""
    today = local_day(clock.now(), hall.timezone)
    stale = session.scalars(
        select(Ticket)
        .where(Ticket.hall_id == hall.id, Ticket.day < today, Ticket.status == TicketStatus.WAITING.value)
        .order_by(Ticket.pk)
        .with_for_update()
    ).all()
    for ticket in stale:
        transition(session, ticket, Action.CANCEL, reason="closed at the end of the day")
    return [f"{t.day.isoformat()} {t.number}" for t in stale]


__all__ = ["Change", "issue", "call_next", "call_number", "transition", "cancel", "get_ticket", "find_by_number"]
