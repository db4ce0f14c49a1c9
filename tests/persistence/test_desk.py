"""The clerk console's line on both databases: call-next's own ranking (aging included), a special window's queue."""

from __future__ import annotations

from queue_server import clock
from queue_server.halls import get_window
from queue_server.tickets import desk


def line_of(hall, number: int) -> dict:
    with hall.session() as s:
        h = hall.hall(s)
        return desk.line(s, h, get_window(s, h, number), clock.now())


def test_the_line_ranks_like_call_next_with_aging(hall, fake_clock):
    clerk = hall.open_window(1)
    old = hall.issue("QY001")
    fake_clock.advance(21 * 60)  # past the hall's aging time: it goes ahead with the priority tickets
    green = hall.issue("SB001", priority="green")
    new = hall.issue("QY002")
    line = line_of(hall, 1)
    assert [t["number"] for t in line["waiting"]] == [old.number, green.number, new.number]
    assert [(t["aged"], t["priority"]) for t in line["waiting"]] == [
        (True, "normal"),
        (False, "green"),
        (False, "normal"),
    ]
    assert line["waiting"][0]["waited_s"] == 21 * 60 and line["total"] == 3
    for expected in line["waiting"]:
        assert hall.act(clerk, 1, "call-next").ticket.number == expected["number"]
        hall.act(clerk, 1, "no-show")
    line = line_of(hall, 1)
    assert line["waiting"] == [] and {t["number"] for t in line["no_shows"]} == {old.number, green.number, new.number}


def test_a_special_window_lists_only_its_queue(hall):
    hall.open_window(11)  # serves C only
    hall.issue("QY001")
    c = hall.issue("BD001")
    line = line_of(hall, 11)
    assert [t["number"] for t in line["waiting"]] == [c.number] and line["total"] == 1
