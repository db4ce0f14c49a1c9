"""The clerk console's reads against a real server: the window's line in call-next order, its desk, who may read them."""

from __future__ import annotations

import requests

from tests.support import act, issue, login, open_window


def get(url: str, path: str, headers: dict | None = None) -> requests.Response:
    return requests.get(f"{url}/api/v1/halls/erdao/windows/{path}", headers=headers, timeout=10)


def staff_issue(url: str, headers: dict, service: str, priority: str) -> dict:
    body = {"service": service, "priority": priority, "channel": "counter", "print": False}
    r = requests.post(f"{url}/api/v1/halls/erdao/tickets", json=body, headers=headers, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()


def test_the_line_is_the_order_call_next_takes_and_a_no_show_comes_back_by_number(server):
    url = server.url
    clerk = open_window(url, "clerk3", 3)
    other = open_window(url, "clerk4", 4)
    normal = [issue(url, code)["number"] for code in ("QY001", "SB001", "QY002")]
    sent = issue(url, "GJ001")["number"]
    # a ticket window 4 sends to window 3 goes there first
    assert act(url, other, 4, "call-next").json()["number"] == normal[0]
    moved = requests.post(f"{url}/api/v1/halls/erdao/windows/4/transfer", json={"window": 3}, headers=other, timeout=10)
    assert moved.status_code == 200, moved.text
    green = staff_issue(url, clerk, "SB002", "green")["number"]

    line = get(url, "3/queue", clerk)
    assert line.status_code == 200, line.text
    data = line.json()
    shown = [t["number"] for t in data["waiting"]]
    assert shown == [normal[0], green, normal[1], normal[2], sent], "targeted, priority, then arrival order"
    assert data["total"] == 5
    first, second = data["waiting"][0], data["waiting"][1]
    assert first["targeted"] and not second["targeted"] and second["priority"] == "green"
    assert first["service"] == {"code": "QY001", "name": "企业开办（设立登记）"} and first["waited_s"] >= 0
    assert "id" not in first, "staff act on numbers: the holder's credential stays with the holder"
    assert [r["code"] for r in data["call_reasons"]] == [
        "no_show_return",
        "appointment",
        "priority",
        "transfer_back",
        "other",
    ]
    assert data["call_reasons"][0]["name"] == "过号返回"

    taken = []
    while (r := act(url, clerk, 3, "call-next")).status_code == 200:
        taken.append(r.json()["number"])
        steps = ("no-show",) if taken[-1] == green else ("start", "finish")
        assert all(act(url, clerk, 3, step).status_code == 200 for step in steps)
    assert taken == shown, "the list is exactly what call-next does"

    # the no-show is listed (it may come back once) and is called by number with a reason from the list
    data = get(url, "3/queue", clerk).json()
    assert data["waiting"] == [] and data["total"] == 0
    assert [t["number"] for t in data["no_shows"]] == [green]
    back = act(url, clerk, 3, "call", number=green, reason_code="no_show_return")
    assert back.status_code == 200 and back.json()["status"] == "called"
    act(url, clerk, 3, "no-show")
    assert get(url, "3/queue", clerk).json()["no_shows"] == [], "the hall lets a no-show come back once"


def test_the_desk_is_the_same_from_any_tab(server):
    url = server.url
    clerk = open_window(url, "clerk5", 5)
    for code in ("QY001", "SB001", "QY002"):
        issue(url, code)
    for _ in range(2):  # two tickets held for materials
        act(url, clerk, 5, "call-next")
        act(url, clerk, 5, "start")
        assert act(url, clerk, 5, "hold").status_code == 200
    act(url, clerk, 5, "call-next")

    again = login(url, "clerk5")  # signed in again: another token, the same desk
    desk = get(url, "5/desk", again)
    assert desk.status_code == 200, desk.text
    data = desk.json()
    assert data["window"]["state"] == "open" and data["window"]["clerk"]["username"] == "clerk5"
    current = data["current"]
    assert current["number"] == "A002" and current["status"] == "called" and "id" not in current
    assert current["service"]["name"] == "企业变更登记" and len(current["service"]["materials"]) > 0
    assert set(current["actions"]) == {"recall", "start", "no-show", "transfer"}
    assert [(t["number"], t["actions"]) for t in data["held"]] == [
        ("A001", ["requeue", "resume", "transfer"]),
        ("B001", ["requeue", "resume", "transfer"]),
    ]
    assert data["held"][0]["service"]["code"] == "QY001"


def test_who_may_read_a_windows_line_and_desk(server):
    url = server.url
    clerk = open_window(url, "clerk6", 6)
    for path in ("6/queue", "6/desk"):
        assert get(url, path, clerk).status_code == 200
        assert get(url, path, login(url, "boss")).status_code == 200, "the hall's supervisor"
        assert get(url, path, login(url, "root")).status_code == 200, "an admin"
        assert get(url, path).status_code == 401
        for who, zh in (("clerk7", "6 号窗口已由其他工作人员登录"), ("street1", "不属于本大厅")):
            r = get(url, path, login(url, who))
            assert r.status_code == 403, (who, r.text)
            assert zh in r.json()["error"]["message_zh"]
    # a window nobody is signed in to: a clerk of the hall may read what they are about to open
    assert get(url, "7/desk", login(url, "clerk7")).status_code == 200
    assert get(url, "99/desk", clerk).status_code == 404


def test_no_staff_answer_hands_out_a_tickets_id(server):
    """The id is the holder's credential (follow, cancel, rate): a clerk who had it could rate their own
    tickets 非常满意. Window actions and a supervisor's move answer with the ticket as the desk shows it."""
    url = server.url
    clerk = open_window(url, "clerk8", 8)
    first, second = issue(url, "QY001"), issue(url, "QY001")
    answers = [act(url, clerk, 8, "call-next"), act(url, clerk, 8, "recall"), act(url, clerk, 8, "start")]
    answers.append(act(url, clerk, 8, "finish-and-call-next"))
    moved = requests.post(
        f"{url}/api/v1/halls/erdao/tickets/{second['number']}/move",
        json={"service": "SB001"},
        headers=login(url, "boss"),
        timeout=10,
    )
    answers.append(moved)
    for r in answers:
        assert r.status_code == 200, r.text
        assert r.json()["number"] in (first["number"], second["number"])
        assert "id" not in r.json() and first["id"] not in r.text and second["id"] not in r.text, r.text
