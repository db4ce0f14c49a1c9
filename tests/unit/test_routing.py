"""Call-next routing: targeted tickets first, then priority (or aged), then arrival order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from queue_server.core.routing import Candidate, Rules, choose, eligible, rank, waiting_since

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
RULES = Rules(aging_s=20 * 60)
ALL = ["A", "B", "C", "D", "E", "F"]


def cand(tid, *, queue="A", priority="normal", minutes_ago=0.0, order=None, target=None, now=T0):
    return Candidate(
        ticket_id=tid,
        queue=queue,
        priority=priority,
        queued_at=now - timedelta(minutes=minutes_ago),
        order_key=order if order is not None else int(tid.strip("t")),
        target_window=target,
    )


def ids(ranked):
    return [c.ticket_id for c in ranked]


def test_normal_tickets_go_in_arrival_order():
    pool = [cand("t3"), cand("t1"), cand("t2")]
    assert ids(rank(pool, 1, ALL, T0, RULES)) == ["t1", "t2", "t3"]


def test_targeted_to_this_window_comes_first_then_priority_then_normal():
    pool = [
        cand("t1"),
        cand("t2", priority="green"),
        cand("t3", priority="appointment"),
        cand("t4", target=5),
        cand("t5"),
    ]
    assert ids(rank(pool, 5, ALL, T0, RULES)) == ["t4", "t2", "t3", "t1", "t5"]


def test_green_and_appointment_share_one_class_in_arrival_order():
    pool = [cand("t2", priority="green"), cand("t1", priority="appointment"), cand("t3", priority="green")]
    assert ids(rank(pool, 1, ALL, T0, RULES)) == ["t1", "t2", "t3"]


def test_targeted_ticket_wins_even_from_a_queue_the_window_does_not_serve():
    pool = [cand("t1", queue="C", priority="green"), cand("t2", queue="A", target=11)]
    assert choose(pool, 11, ["C"], T0, RULES).ticket_id == "t2"


def test_ticket_targeted_at_another_window_is_never_chosen():
    pool = [cand("t1", target=3, priority="green", minutes_ago=600)]
    assert rank(pool, 1, ALL, T0, RULES) == []
    assert choose(pool, 1, ALL, T0, RULES) is None
    assert choose(pool, 3, [], T0, RULES).ticket_id == "t1"
    assert not eligible(pool[0], 1, ALL)


def test_window_only_sees_its_queues():
    pool = [cand("t1", queue="A"), cand("t2", queue="C"), cand("t3", queue="E")]
    assert ids(rank(pool, 11, ["C"], T0, RULES)) == ["t2"]
    assert ids(rank(pool, 12, ["E"], T0, RULES)) == ["t3"]
    assert choose(pool, 11, ["B"], T0, RULES) is None


def test_aging_promotes_a_normal_ticket_after_aging_s():
    old = cand("t1", minutes_ago=20)  # exactly aging_s: promoted
    green = cand("t2", priority="green")
    assert ids(rank([green, old], 1, ALL, T0, RULES)) == ["t1", "t2"]


def test_no_promotion_just_before_aging_s():
    almost = Candidate("t1", "A", "normal", T0 - timedelta(seconds=20 * 60 - 1), 1)
    green = cand("t2", priority="green")
    assert ids(rank([almost, green], 1, ALL, T0, RULES)) == ["t2", "t1"]


def test_aging_uses_the_hall_setting():
    ticket, green = cand("t1", minutes_ago=5), cand("t2", priority="green")
    assert choose([ticket, green], 1, ALL, T0, Rules(aging_s=300)).ticket_id == "t1"
    assert choose([ticket, green], 1, ALL, T0, Rules(aging_s=301)).ticket_id == "t2"


def test_aged_ticket_does_not_jump_a_targeted_one():
    pool = [cand("t1", minutes_ago=600), cand("t2", target=1)]
    assert ids(rank(pool, 1, ALL, T0, RULES)) == ["t2", "t1"]


def test_aging_over_time_with_a_moving_clock():
    pool = [cand("t1"), cand("t2", priority="green")]
    assert choose(pool, 1, ALL, T0, RULES).ticket_id == "t2"
    assert choose(pool, 1, ALL, T0 + timedelta(minutes=20), RULES).ticket_id == "t1"


def test_clock_going_backwards_does_not_reorder():
    # t2 arrived after t1 but its queued_at reads earlier (the clock was stepped back in between).
    pool = [cand("t1", minutes_ago=1), cand("t2", minutes_ago=3), cand("t3", minutes_ago=2)]
    assert ids(rank(pool, 1, ALL, T0, RULES)) == ["t1", "t2", "t3"]
    # "now" earlier than every queued_at: nothing ages and nothing breaks.
    assert ids(rank(pool, 1, ALL, T0 - timedelta(hours=1), RULES)) == ["t1", "t2", "t3"]


def test_a_clock_stepped_back_never_lets_a_later_arrival_age_first():
    # t2 arrived after t1, but the clock had been stepped back 5 minutes in between: by the clock
    # t2 has waited the 20 aging minutes and t1 not yet. t1 has really waited longer.
    pool = [cand("t1", minutes_ago=16), cand("t2", minutes_ago=21), cand("t3", priority="green")]
    assert ids(rank(pool, 1, ALL, T0, RULES)) == ["t1", "t2", "t3"]


def test_rank_does_not_mutate_or_drop_eligible_candidates():
    pool = [cand("t2"), cand("t1", priority="green"), cand("t3", target=2)]
    before = list(pool)
    ranked = rank(pool, 1, ALL, T0, RULES)
    assert pool == before
    assert sorted(ids(ranked)) == ["t1", "t2"]


candidates = st.lists(
    st.builds(
        Candidate,
        ticket_id=st.uuids().map(str),
        queue=st.sampled_from(ALL),
        priority=st.sampled_from(["normal", "green", "appointment"]),
        queued_at=st.integers(0, 7200).map(lambda s: T0 - timedelta(seconds=s)),
        order_key=st.integers(1, 10_000),
        target_window=st.one_of(st.none(), st.integers(1, 4)),
    ),
    max_size=30,
    unique_by=lambda c: c.order_key,
)


@given(pool=candidates, window=st.integers(1, 4), queues=st.sets(st.sampled_from(ALL), min_size=1))
def test_rank_properties(pool, window, queues):
    ranked = rank(pool, window, sorted(queues), T0, RULES)
    expected = [c for c in pool if (c.target_window == window) or (c.target_window is None and c.queue in queues)]
    assert sorted(ids(ranked)) == sorted(ids(expected))
    classes = []
    since = waiting_since(ranked)  # nobody ages later than somebody who arrived after them
    for c in ranked:
        if c.target_window == window:
            classes.append(0)
        elif c.priority != "normal" or (T0 - since[c.ticket_id]).total_seconds() >= RULES.aging_s:
            classes.append(1)
        else:
            classes.append(2)
    assert classes == sorted(classes)
    # Within a class, arrival order.
    for a, b, ca, cb in zip(ranked, ranked[1:], classes, classes[1:], strict=False):
        if ca == cb:
            assert a.order_key < b.order_key
    best = choose(pool, window, sorted(queues), T0, RULES)
    assert best == (ranked[0] if ranked else None)
