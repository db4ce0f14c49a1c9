"""The ticket state machine: every legal move, and illegal ones named by the current status."""

from __future__ import annotations

import pytest

from queue_server.core.states import ACTIVE, FINAL, TRANSITIONS, Action, TicketStatus, allowed_actions, next_status
from queue_server.exceptions import IllegalTransition

S, A = TicketStatus, Action

EXPECTED = {
    (S.WAITING, A.CALL): S.CALLED,
    (S.WAITING, A.CANCEL): S.CANCELLED,
    (S.WAITING, A.TRANSFER): S.WAITING,
    (S.CALLED, A.RECALL): S.CALLED,
    (S.CALLED, A.START): S.SERVING,
    (S.CALLED, A.NO_SHOW): S.NO_SHOW,
    (S.CALLED, A.TRANSFER): S.WAITING,
    (S.NO_SHOW, A.RETURN): S.WAITING,
    (S.SERVING, A.FINISH): S.DONE,
    (S.SERVING, A.HOLD): S.HELD,
    (S.SERVING, A.TRANSFER): S.WAITING,
    (S.HELD, A.RESUME): S.SERVING,
    (S.HELD, A.REQUEUE): S.WAITING,
    (S.HELD, A.TRANSFER): S.WAITING,
}
ILLEGAL = [(s, a) for s in S for a in A if (s, a) not in EXPECTED]


def test_the_table_is_the_documented_machine():
    assert TRANSITIONS == EXPECTED


@pytest.mark.parametrize(("current", "action"), list(EXPECTED), ids=lambda v: v.value)
def test_every_legal_transition(current, action):
    assert next_status(current, action) is EXPECTED[(current, action)]
    # Plain strings (as stored in the database) work the same.
    assert next_status(current.value, action.value) is EXPECTED[(current, action)]


@pytest.mark.parametrize(("current", "action"), ILLEGAL, ids=lambda v: v.value)
def test_illegal_transitions_raise_naming_the_current_status(current, action):
    with pytest.raises(IllegalTransition) as caught:
        next_status(current, action)
    err = caught.value
    assert err.details["status"] == current.value
    assert err.details["action"] == action.value
    assert current.value in err.message
    assert action.value in err.message
    assert err.status == 409 and err.code == "illegal_transition"


def test_illegal_transition_lists_what_is_allowed_now():
    with pytest.raises(IllegalTransition, match=r"allowed now: cancel, transfer|allowed now: call, cancel"):
        next_status(S.WAITING, A.FINISH)
    with pytest.raises(IllegalTransition, match="closed"):
        next_status(S.DONE, A.CALL)


def test_final_statuses_have_no_way_out_except_a_no_show_return():
    for status in FINAL:
        moves = {a for (s, a) in TRANSITIONS if s == status}
        assert moves == ({A.RETURN} if status == S.NO_SHOW else set())


def test_every_active_status_can_be_transferred():
    for status in ACTIVE:
        assert next_status(status, A.TRANSFER) is S.WAITING


def test_allowed_actions_match_the_table():
    for status in S:
        assert allowed_actions(status) == sorted(a.value.replace("_", "-") for (s, a) in EXPECTED if s == status)
    assert allowed_actions("called") == ["no-show", "recall", "start", "transfer"]  # as in the URL


@pytest.mark.parametrize(("current", "action"), [("lost", "call"), ("waiting", "teleport")])
def test_unknown_status_or_action_is_rejected(current, action):
    with pytest.raises(ValueError):
        next_status(current, action)
