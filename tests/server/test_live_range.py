"""The holder's range kept true while they wait: pushed to the ticket's room as the line moves and windows
open or close, the same in GET /api/v1/tickets/{id}, and the first quote kept for the statistics."""

from __future__ import annotations

import requests

from tests.support import Listener, login


def act(url, clerk, window, action):
    r = requests.post(f"{url}/api/v1/halls/erdao/windows/{window}/{action}", headers=clerk, timeout=10)
    assert r.status_code in (200, 204), r.text
    return r


def test_the_range_narrows_as_people_ahead_are_called_and_follows_the_open_windows(server):
    url = server.url
    one, two = login(url, "clerk1"), login(url, "clerk2")
    act(url, one, 1, "open")
    tickets = [
        requests.post(f"{url}/api/v1/halls/erdao/tickets", json={"service": "SB001"}, timeout=10).json()
        for _ in range(6)
    ]
    mine = tickets[-1]
    first = mine["estimated_wait"]
    assert mine["ahead"] == 5 and mine["quoted_wait"] == first
    act(url, one, 1, "call-next")  # the window is busy from now on: each call below is one departure

    phone = Listener(url, {"ticket": mine["id"]}).connect()
    snapshot = phone.wait_for("ticket")
    assert snapshot["ahead"] == 4
    highs = [snapshot["estimated_wait"]["high_s"]]
    for ahead in (3, 2):
        for action in ("start", "finish"):
            act(url, one, 1, action)
        act(url, one, 1, "call-next")
        pushed = phone.wait_for("wait_updated", lambda w, n=ahead: w["ahead"] == n)
        highs.append(pushed["estimated_wait"]["high_s"])
    assert highs[0] > highs[1] > highs[2], highs

    phone.drain("wait_updated")  # each step below waits for what its own action pushed
    act(url, two, 2, "open")  # a second window: the same line, a shorter wait
    opened = phone.wait_for("wait_updated", lambda w: w["estimated_wait"]["high_s"] < highs[-1])
    assert opened["ahead"] == 2
    phone.drain("wait_updated")
    act(url, two, 2, "close")
    closed = phone.wait_for(
        "wait_updated", lambda w: w["estimated_wait"]["high_s"] > opened["estimated_wait"]["high_s"]
    )
    assert closed["ahead"] == 2

    now = requests.get(f"{url}/api/v1/tickets/{mine['id']}", timeout=10).json()
    # The same place as pushed (seconds later the busy window's elapsed time has moved it a little).
    assert now["ahead"] == 2 and now["estimated_wait"]["high_s"] > opened["estimated_wait"]["high_s"]
    assert now["quoted_wait"] == first  # the first quote stays, for the statistics
    assert phone.drain("error") == []
