"""Window actions on both databases: each state change is one history row with who, when and where."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from queue_server.db import transaction
from queue_server.exceptions import Conflict, Forbidden, IllegalTransition, NotFound, ValidationFailed
from queue_server.halls import get_hall
from queue_server.models import Ticket, TicketEvent, Window
from queue_server.tickets import windows as window_actions
from tests.support import PASSWORD


def window_row(hall, number, code="erdao"):
    with hall.factory() as session:
        return session.scalar(
            select(Window).join(Window.hall).where(Window.number == number, Window.hall.has(code=code))
        )


def snapshot(hall):
    """Everything an operation could change: tickets, history and windows."""
    with hall.factory() as session:
        return (
            sorted(
                (t.number, t.status, t.window_id, t.target_window_id, t.queue_id, t.recall_count, t.returns)
                for t in session.scalars(select(Ticket))
            ),
            session.query(TicketEvent).count(),
            sorted((w.id, w.state, w.clerk_id, w.ticket_id) for w in session.scalars(select(Window))),
        )


def test_full_service_writes_history_with_who_when_where(hall, fake_clock):
    clerk = hall.open_window(3)
    t = hall.issue("QY001")
    fake_clock.advance(60)
    called = hall.act(clerk, 3, "call-next").ticket
    assert called.id == t.id and called.status == "called"
    fake_clock.advance(30)
    hall.act(clerk, 3, "recall")
    fake_clock.advance(30)
    hall.act(clerk, 3, "start")
    fake_clock.advance(300)
    hall.act(clerk, 3, "finish")
    window = window_row(hall, 3)
    events = hall.events(t)
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("issue", None, "waiting"),
        ("call", "waiting", "called"),
        ("recall", "called", "called"),
        ("start", "called", "serving"),
        ("finish", "serving", "done"),
    ]
    for e in events[1:]:
        assert e.user_id == clerk.id
        assert e.window_id == window.id
        assert e.hall_id == t.hall_id
    ats = [e.at for e in events]
    assert ats == sorted(ats) and ats[-1] == fake_clock.current
    stored = hall.ticket(t.id)
    assert stored.status == "done" and stored.recall_count == 1
    assert (stored.finished_at - stored.started_at).total_seconds() == 300
    assert stored.clerk_id == clerk.id and stored.window_id == window.id
    assert window.ticket_id is None


def test_call_next_when_nobody_waits(hall):
    clerk = hall.open_window(1)
    change = hall.act(clerk, 1, "call-next")
    assert change.ticket is None and not change.called


def test_call_next_follows_routing(hall, fake_clock):
    clerk = hall.open_window(1)
    normal = hall.issue("QY001")
    fake_clock.advance(5)
    green = hall.issue("SB001", priority="green")
    assert hall.act(clerk, 1, "call-next").ticket.id == green.id
    hall.act(clerk, 1, "no-show")
    assert hall.act(clerk, 1, "call-next").ticket.id == normal.id


def test_special_window_calls_only_its_queue(hall):
    clerk = hall.open_window(11)  # serves C only
    hall.issue("QY001")
    c = hall.issue("BD001")
    assert hall.act(clerk, 11, "call-next").ticket.id == c.id
    hall.act(clerk, 11, "start")
    hall.act(clerk, 11, "finish")
    assert hall.act(clerk, 11, "call-next").ticket is None


def test_transfer_to_a_window_goes_only_there(hall):
    one, two = hall.open_window(1), hall.open_window(2)
    t = hall.issue("QY001")
    later = hall.issue("QY002")
    hall.act(one, 1, "call-next")
    hall.act(one, 1, "start")
    hall.act(one, 1, "transfer", {"window": 11})
    stored = hall.ticket(t.id)
    assert stored.status == "waiting" and stored.number == "A001"
    assert stored.target_window_id == window_row(hall, 11).id
    # Windows 1 and 2 pass over it; window 11 (real estate only) gets it although it is an A ticket.
    assert hall.act(two, 2, "call-next").ticket.id == later.id
    assert hall.act(one, 1, "call-next").ticket is None
    eleven = hall.open_window(11)
    assert hall.act(eleven, 11, "call-next").ticket.id == t.id
    transfer = [e for e in hall.events(t) if e.action == "transfer"][0]
    assert (transfer.from_status, transfer.to_status) == ("serving", "waiting")
    assert transfer.data == {"from_window": 1, "to_window": 11}
    assert transfer.user_id == one.id


def test_transfer_to_a_service_keeps_number_and_place(hall, fake_clock):
    clerk = hall.open_window(1)
    hall.issue("QY001")
    moved = hall.issue("QY002")
    fake_clock.advance(60)
    waiting_c = hall.issue("BD001")
    hall.act(clerk, 1, "call-next")
    hall.act(clerk, 1, "no-show")
    assert hall.act(clerk, 1, "call-next").ticket.id == moved.id
    hall.act(clerk, 1, "transfer", {"service": "BD002"})
    stored = hall.ticket(moved.id)
    assert stored.number == "A002" and stored.status == "waiting"
    assert stored.issued_at == moved.issued_at
    with hall.factory() as session:
        assert session.get(Ticket, stored.pk).service.code == "BD002"
    eleven = hall.open_window(11)
    # It arrived before the C ticket, so it keeps its place in the C line.
    assert hall.act(eleven, 11, "call-next").ticket.id == moved.id
    assert hall.ticket(waiting_c.id).status == "waiting"
    transfer = [e for e in hall.events(stored) if e.action == "transfer"][0]
    assert transfer.data == {"from_window": 1, "to_service": "BD002"}


def test_transfer_to_a_queue_that_already_used_the_same_sequence(hall):
    clerk = hall.open_window(1)
    t = hall.issue("QY001")  # A001
    hall.issue("BD001")  # C001
    hall.act(clerk, 1, "call-next")
    hall.act(clerk, 1, "transfer", {"service": "BD002"})
    assert hall.ticket(t.id).status == "waiting"


def test_queue_keeps_numbering_after_a_ticket_was_transferred_into_it(hall):
    clerk = hall.open_window(1)
    hall.issue("QY001")  # A001
    hall.act(clerk, 1, "call-next")
    hall.act(clerk, 1, "transfer", {"service": "BD002"})
    assert hall.issue("BD001").number == "C001"


def test_hold_and_resume(hall):
    clerk = hall.open_window(4)
    t = hall.issue("GJ001")
    other = hall.issue("GJ002")
    hall.act(clerk, 4, "call-next")
    hall.act(clerk, 4, "start")
    hall.act(clerk, 4, "hold")
    assert hall.ticket(t.id).status == "held"
    assert window_row(hall, 4).ticket_id is None
    hall.act(clerk, 4, "call-next")  # serves someone else meanwhile
    with pytest.raises(IllegalTransition, match="still has ticket A|still has ticket D"):
        hall.act(clerk, 4, "resume")
    hall.act(clerk, 4, "start")
    hall.act(clerk, 4, "finish")
    hall.act(clerk, 4, "resume")
    assert hall.ticket(t.id).status == "serving"
    assert hall.ticket(other.id).status == "done"


def test_requeue_comes_back_to_the_same_window(hall):
    clerk, two = hall.open_window(5), hall.open_window(6)
    t = hall.issue("HJ001")
    hall.act(clerk, 5, "call-next")
    hall.act(clerk, 5, "start")
    hall.act(clerk, 5, "hold")
    hall.act(clerk, 5, "resume", {"requeue": True})
    assert hall.ticket(t.id).status == "waiting"
    assert hall.act(two, 6, "call-next").ticket is None
    assert hall.act(clerk, 5, "call-next").ticket.id == t.id


def test_no_show_returns_once(hall):
    clerk = hall.open_window(1)
    t = hall.issue("QY001")
    hall.act(clerk, 1, "call-next")
    hall.act(clerk, 1, "no-show")
    assert hall.ticket(t.id).status == "no_show"
    back = hall.act(clerk, 1, "call", {"number": "A001", "reason": "came back"}).ticket
    assert back.status == "called" and back.returns == 1
    call = hall.events(t)[-1]
    assert (call.action, call.from_status, call.reason) == ("call", "no_show", "came back")
    assert call.data == {"out_of_order": True}
    hall.act(clerk, 1, "no-show")
    before = snapshot(hall)
    with pytest.raises(IllegalTransition, match="new ticket"):
        hall.act(clerk, 1, "call", {"number": "A001", "reason": "again"})
    assert snapshot(hall) == before


def test_cancel_a_waiting_ticket(hall):
    from queue_server.db import transaction
    from queue_server.tickets import service as tickets

    t = hall.issue("QY001")
    with transaction(hall.factory) as session:
        tickets.cancel(session, tickets.get_ticket(session, t.id))
    assert hall.ticket(t.id).status == "cancelled"
    clerk = hall.open_window(1)
    assert hall.act(clerk, 1, "call-next").ticket is None
    assert hall.events(t)[-1].to_status == "cancelled"


@pytest.mark.parametrize(
    ("action", "body", "error"),
    [
        ("finish", {}, IllegalTransition),  # called, not serving
        ("hold", {}, IllegalTransition),
        ("resume", {}, IllegalTransition),
        ("call-next", {}, IllegalTransition),  # the window still has a ticket
        ("close", {}, IllegalTransition),
        ("transfer", {"service": "NOPE"}, NotFound),
        ("transfer", {"window": 99}, NotFound),
        ("transfer", {"window": 2}, ValidationFailed),  # the same window
        ("transfer", {"window": 3, "service": "QY001"}, ValidationFailed),
        ("call", {"number": "A002"}, IllegalTransition),
        ("teleport", {}, NotFound),
    ],
)
def test_rejected_window_action_changes_nothing(hall, action, body, error):
    clerk = hall.open_window(2)
    hall.issue("QY001")
    hall.issue("QY001")
    hall.act(clerk, 2, "call-next")
    before = snapshot(hall)
    with pytest.raises(error) as caught:
        hall.act(clerk, 2, action, body)
    if error is IllegalTransition and action not in ("call-next", "close", "resume", "call"):
        assert caught.value.details["status"] == "called"
        assert "called" in caught.value.message
    assert snapshot(hall) == before


def test_illegal_transition_names_the_current_status(hall):
    clerk = hall.open_window(1)
    t = hall.issue("QY001")
    hall.act(clerk, 1, "call-next")
    hall.act(clerk, 1, "start")
    with pytest.raises(IllegalTransition, match="cannot recall a ticket that is serving") as caught:
        hall.act(clerk, 1, "recall")
    assert caught.value.details == {"status": "serving", "action": "recall"}
    assert hall.ticket(t.id).status == "serving"


def test_closed_window_cannot_call(hall):
    clerk = hall.user("late")
    hall.issue("QY001")
    before = snapshot(hall)
    with pytest.raises(Forbidden):
        hall.act(clerk, 1, "call-next")
    supervisor = hall.user("boss", role="supervisor")
    with pytest.raises(IllegalTransition, match="closed"):
        hall.act(supervisor, 1, "call-next")
    assert snapshot(hall) == before


def test_window_belongs_to_the_clerk_who_opened_it(hall):
    hall.open_window(1, "alice")
    bob = hall.user("bob")
    hall.issue("QY001")
    before = snapshot(hall)
    with pytest.raises(Forbidden, match="another clerk"):
        hall.act(bob, 1, "call-next")
    with pytest.raises(Forbidden):
        hall.act(bob, 1, "close")
    assert snapshot(hall) == before


def test_clerk_at_one_window_at_a_time(hall):
    alice = hall.open_window(1, "alice")
    with pytest.raises(Conflict, match="window 1"):
        hall.act(alice, 2, "open")
    assert window_row(hall, 2).state == "closed"


def test_pause_open_close(hall):
    clerk = hall.open_window(7)
    hall.issue("QY001")
    hall.act(clerk, 7, "pause")
    assert window_row(hall, 7).state == "paused"
    with pytest.raises(IllegalTransition, match="paused"):
        hall.act(clerk, 7, "call-next")
    hall.act(clerk, 7, "open")
    assert hall.act(clerk, 7, "call-next").ticket is not None
    hall.act(clerk, 7, "no-show")
    hall.act(clerk, 7, "close")
    window = window_row(hall, 7)
    assert (window.state, window.clerk_id) == ("closed", None)


def test_clerk_of_another_hall_is_refused(hall):
    from queue_server.db import transaction
    from queue_server.staff.auth import add_user

    with transaction(hall.factory) as session:
        outsider = add_user(session, "jx-clerk", PASSWORD, "clerk", "jinxiu")
    with pytest.raises(Forbidden, match="another hall"):
        hall.act(outsider, 1, "open")
    assert window_row(hall, 1).state == "closed"


def act_all(hall, user, window, action):
    with transaction(hall.factory) as session:
        h = get_hall(session, hall.code)
        return window_actions.act_all(session, h, window, action, session.merge(user, load=False), {})


def test_finish_and_call_next_is_one_transaction(hall, fake_clock):
    clerk = hall.open_window(3)
    first, second = hall.issue("QY001"), hall.issue("QY001")
    hall.act(clerk, 3, "call-next")
    before = snapshot(hall)
    with pytest.raises(IllegalTransition):  # the first is only called, not served: nothing may change
        act_all(hall, clerk, 3, "finish-and-call-next")
    assert snapshot(hall) == before
    hall.act(clerk, 3, "start")
    hall.act(clerk, 3, "pause")
    before = snapshot(hall)
    with pytest.raises(IllegalTransition):  # the finish would pass, the call cannot: the finish is undone too
        act_all(hall, clerk, 3, "finish-and-call-next")
    assert snapshot(hall) == before and hall.ticket(first.id).status == "serving"
    hall.act(clerk, 3, "open")
    finished, called = act_all(hall, clerk, 3, "finish-and-call-next")
    assert finished.ticket.id == first.id and not finished.called
    assert called.ticket.id == second.id and called.called
    assert hall.ticket(first.id).status == "done" and hall.ticket(second.id).status == "called"
    assert window_row(hall, 3).ticket_id == second.id
    hall.act(clerk, 3, "start")
    finished, nobody = act_all(hall, clerk, 3, "finish-and-call-next")
    assert hall.ticket(second.id).status == "done" and nobody.ticket is None
    assert window_row(hall, 3).ticket_id is None


def test_the_call_cycle_writes_plain_statements_and_one_history_insert(hall, fake_clock):
    """办结并叫下一位 and call-next: no unit-of-work flush, each row written once, the history rows in one insert."""
    from sqlalchemy import event

    clerk = hall.open_window(3)
    first, second = hall.issue("QY001"), hall.issue("QY001")
    hall.act(clerk, 3, "call-next")
    hall.act(clerk, 3, "start")
    statements: list[str] = []

    def seen(conn, cursor, statement, params, context, executemany):
        statements.append(" ".join(statement.split()))

    event.listen(hall.engine, "before_cursor_execute", seen)
    try:
        with transaction(hall.factory) as session:
            h = get_hall(session, hall.code)
            changes = window_actions.act_all(
                session, h, 3, "finish-and-call-next", session.merge(clerk, load=False), {}
            )
            assert not session.dirty and not session.new  # nothing left for a flush to write
            assert [c.ticket.status for c in changes] == ["done", "called"]
            writes = [s for s in statements if s.startswith(("INSERT", "UPDATE"))]
    finally:
        event.remove(hall.engine, "before_cursor_execute", seen)
    assert len([s for s in writes if s.startswith("INSERT INTO ticket_events")]) == 1
    assert len([s for s in writes if s.startswith("UPDATE tickets")]) == 2  # the finished one, the claimed one
    assert len([s for s in writes if s.startswith("UPDATE windows")]) == 2  # released, then the next one's
    assert len(statements) <= 13  # user merge aside: hall, window, ticket, candidates, service, the writes
    assert [e.action for e in hall.events(first)][-1] == "finish"
    assert [e.action for e in hall.events(second)][-1] == "call"
    assert hall.ticket(second.id).window_id == window_row(hall, 3).id and window_row(hall, 3).ticket_id == second.id
