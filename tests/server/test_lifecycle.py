"""The full life of a ticket against a real server, with every realtime event checked."""

from __future__ import annotations

import requests

from tests.support import Listener, login


def post(url, path, headers=None, **body):
    return requests.post(url + path, json=body, headers=headers, timeout=10)


def test_ticket_from_issue_to_evaluation(server):
    url = server.url
    board = Listener(url, {"hall": "erdao"}).connect()
    snapshot = board.wait_for("board")
    assert snapshot["hall"]["name"] == "二道区政务服务中心"
    assert {q["prefix"] for q in snapshot["queues"]} == set("ABCDEF")

    r = post(url, "/api/v1/halls/erdao/tickets", service="QY001", channel="kiosk")
    assert r.status_code == 201
    ticket = r.json()
    assert ticket["number"] == "A001" and ticket["status"] == "waiting" and ticket["ahead"] == 0
    assert ticket["estimated_wait"]["low_s"] <= ticket["estimated_wait"]["high_s"]
    assert len(ticket["id"]) >= 16 and ticket["service"] == {**ticket["service"], "code": "QY001"}

    issued = board.wait_for("ticket_issued")
    assert issued["number"] == "A001"
    assert "id" not in issued, "the ticket id is the holder's credential and never goes to the hall room"
    counts = board.wait_for("queue_changed")
    assert next(q for q in counts["queues"] if q["prefix"] == "A")["waiting"] == 1

    phone = Listener(url, {"ticket": ticket["id"]}).connect()
    mine = phone.wait_for("ticket")
    assert mine["number"] == "A001" and mine["ahead"] == 0 and mine["id"] == ticket["id"]

    clerk = login(url, "clerk3")
    r = post(url, "/api/v1/halls/erdao/windows/3/open", clerk)
    assert r.status_code == 200 and r.json()["state"] == "open"
    assert board.wait_for("window_updated", lambda w: w["number"] == 3)["state"] == "open"

    r = post(url, "/api/v1/halls/erdao/windows/3/call-next", clerk)
    assert r.status_code == 200
    assert r.json()["number"] == "A001" and r.json()["status"] == "called" and r.json()["window"]["number"] == 3
    call = board.wait_for("ticket_called")
    assert call["ticket"]["number"] == "A001" and call["window"]["number"] == 3 and call["recall_count"] == 0
    assert call["announcement"]["text"] == "请 A 零零一 号，到 三 号窗口办理"
    audio = requests.get(url + call["announcement"]["audio_url"], timeout=60)
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/wav"
    assert audio.content[:4] == b"RIFF" and audio.content[8:12] == b"WAVE" and len(audio.content) > 20_000
    assert requests.get(url + "/audio/../../etc/passwd.wav", timeout=10).status_code == 404
    assert phone.wait_for("ticket_called")["window"]["number"] == 3
    assert phone.wait_for("ticket_updated", lambda t: t["status"] == "called")["window"]["number"] == 3

    r = post(url, "/api/v1/halls/erdao/windows/3/recall", clerk)
    assert r.json()["recall_count"] == 1
    assert board.wait_for("ticket_called", lambda c: c["recall_count"] == 1)["ticket"]["number"] == "A001"

    for action, status in (("start", "serving"), ("finish", "done")):
        r = post(url, f"/api/v1/halls/erdao/windows/3/{action}", clerk)
        assert r.status_code == 200 and r.json()["status"] == status
        assert board.wait_for("ticket_updated", lambda t, s=status: t["status"] == s)["number"] == "A001"
        assert phone.wait_for("ticket_updated", lambda t, s=status: t["status"] == s)["id"] == ticket["id"]

    r = post(url, "/api/v1/halls/erdao/windows/3/call-next", clerk)
    assert r.status_code == 204, "nobody waits: 204 and no body"

    r = post(url, f"/api/v1/tickets/{ticket['id']}/evaluation", score=5, comment="很好")
    assert r.status_code == 201 and r.json()["label"] == "非常满意"
    again = post(url, f"/api/v1/tickets/{ticket['id']}/evaluation", score=1)
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

    snapshot = requests.get(url + "/api/v1/halls/erdao/board", timeout=10).json()
    assert snapshot["recent_calls"][0] == {**snapshot["recent_calls"][0], "number": "A001", "recall": True}
    board.close()
    phone.close()


def test_hold_resume_transfer_and_no_show(server):
    url = server.url
    clerk3, clerk4 = login(url, "clerk3"), login(url, "clerk4")
    for clerk, n in ((clerk3, 3), (clerk4, 4)):
        assert post(url, f"/api/v1/halls/erdao/windows/{n}/open", clerk).status_code == 200
    a = post(url, "/api/v1/halls/erdao/tickets", service="QY001").json()
    b = post(url, "/api/v1/halls/erdao/tickets", service="SB001").json()
    c = post(url, "/api/v1/halls/erdao/tickets", service="GJ001").json()
    assert [a["number"], b["number"], c["number"]] == ["A001", "B001", "D001"]
    assert c["ahead"] == 2

    assert post(url, "/api/v1/halls/erdao/windows/3/call-next", clerk3).json()["number"] == "A001"
    post(url, "/api/v1/halls/erdao/windows/3/start", clerk3)
    held = post(url, "/api/v1/halls/erdao/windows/3/hold", clerk3)
    assert held.json()["status"] == "held"
    # While A001 fetches materials, window 3 serves the next citizen.
    assert post(url, "/api/v1/halls/erdao/windows/3/call-next", clerk3).json()["number"] == "B001"
    r = post(url, "/api/v1/halls/erdao/windows/3/transfer", clerk3, window=4)
    assert r.json()["status"] == "waiting" and r.json()["target_window"]["number"] == 4
    # B001 was sent to window 4, so window 4 gets it before D001 even though D001 is in its queues.
    assert post(url, "/api/v1/halls/erdao/windows/4/call-next", clerk4).json()["number"] == "B001"
    r = post(url, "/api/v1/halls/erdao/windows/4/no-show", clerk4)
    assert r.json()["status"] == "no_show"
    # B001 comes back: the clerk calls the number with a reason (once per the hall's rule).
    r = post(url, "/api/v1/halls/erdao/windows/4/call", clerk4, number="B001", reason="returned")
    assert r.status_code == 200 and r.json()["status"] == "called"
    post(url, "/api/v1/halls/erdao/windows/4/no-show", clerk4)
    r = post(url, "/api/v1/halls/erdao/windows/4/call", clerk4, number="B001", reason="returned again")
    assert r.status_code == 409 and "new ticket" in r.json()["error"]["message"]

    r = post(url, "/api/v1/halls/erdao/windows/3/resume", clerk3)
    assert r.status_code == 200 and r.json()["number"] == "A001" and r.json()["status"] == "serving"
    r = post(url, "/api/v1/halls/erdao/windows/3/transfer", clerk3, service="BD002")
    assert r.json()["queue"] == "C" and r.json()["number"] == "A001" and r.json()["issued_at"] == a["issued_at"]
    assert post(url, "/api/v1/halls/erdao/windows/3/call-next", clerk3).json()["number"] == "A001"

    cancelled = post(url, f"/api/v1/tickets/{c['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert post(url, f"/api/v1/tickets/{c['id']}/cancel").status_code == 409


def test_clerk_day_counts_finished_tickets_without_hold_time(server):
    url = server.url
    clerk = login(url, "clerk5")
    post(url, "/api/v1/halls/erdao/windows/5/open", clerk)
    for service in ("QY001", "SB001"):
        post(url, "/api/v1/halls/erdao/tickets", service=service)
    for _ in range(2):
        post(url, "/api/v1/halls/erdao/windows/5/call-next", clerk)
        post(url, "/api/v1/halls/erdao/windows/5/start", clerk)
        assert post(url, "/api/v1/halls/erdao/windows/5/finish", clerk).json()["status"] == "done"
    day = requests.get(url + "/api/v1/halls/erdao/my-day", headers=clerk, timeout=10).json()
    assert day["username"] == "clerk5" and day["finished"] == 2 and day["service_mean_s"] is not None
    other = requests.get(url + "/api/v1/halls/erdao/my-day", headers=login(url, "clerk6"), timeout=10).json()
    assert other["finished"] == 0
    assert requests.get(url + "/api/v1/halls/erdao/my-day", timeout=10).status_code == 401


def test_finish_and_call_next_in_one_request(server):
    """办结并叫下一位: the current ticket done and the next one called, both told to the hall."""
    url = server.url
    clerk = login(url, "clerk3")
    assert post(url, "/api/v1/halls/erdao/windows/3/open", clerk).status_code == 200
    a = post(url, "/api/v1/halls/erdao/tickets", service="QY001").json()
    b = post(url, "/api/v1/halls/erdao/tickets", service="QY001").json()
    board = Listener(url, {"hall": "erdao"}).connect()
    board.wait_for("board")
    phone = Listener(url, {"ticket": a["id"]}).connect()
    phone.wait_for("ticket")
    assert post(url, "/api/v1/halls/erdao/windows/3/call-next", clerk).json()["number"] == "A001"

    refused = post(url, "/api/v1/halls/erdao/windows/3/finish-and-call-next", clerk)
    assert refused.status_code == 409 and refused.json()["error"]["message_zh"], "only a ticket being served finishes"
    assert requests.get(f"{url}/api/v1/tickets/{b['id']}", timeout=10).json()["status"] == "waiting"

    post(url, "/api/v1/halls/erdao/windows/3/start", clerk)
    r = post(url, "/api/v1/halls/erdao/windows/3/finish-and-call-next", clerk)
    assert r.status_code == 200 and r.json()["number"] == "A002" and r.json()["status"] == "called"
    assert board.wait_for("ticket_updated", lambda t: t["number"] == "A001" and t["status"] == "done")
    assert board.wait_for("ticket_called", lambda c: c["ticket"]["number"] == "A002")["window"]["number"] == 3
    assert phone.wait_for("ticket_updated", lambda t: t["status"] == "done")["id"] == a["id"]

    post(url, "/api/v1/halls/erdao/windows/3/start", clerk)
    r = post(url, "/api/v1/halls/erdao/windows/3/finish-and-call-next", clerk)
    assert r.status_code == 204, "nobody left: the ticket is finished and nothing is called"
    assert requests.get(f"{url}/api/v1/tickets/{b['id']}", timeout=10).json()["status"] == "done"
    board.close()
    phone.close()
