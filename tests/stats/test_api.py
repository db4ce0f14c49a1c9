"""The statistics API in process: permissions, follow-ups, exports, case IDs, the rating screen, advice."""

from __future__ import annotations

import csv
import io
import json

import openpyxl

from tests.support import bearer

from .test_scripted_day import run_morning

STATS = "/api/v1/halls/erdao/stats?from=2026-03-02&to=2026-03-02"


def staff(hall) -> None:
    hall.user("boss", "supervisor")
    hall.user("street-boss", "supervisor", "jinxiu")
    hall.user("root", "admin", None)


def test_only_the_halls_supervisors_and_admins_see_statistics(hall, client, fake_clock):
    run_morning(hall, fake_clock)
    staff(hall)
    assert client.get(STATS).status_code == 401
    assert client.get(STATS, headers=bearer(client, "clerk1")).status_code == 403
    assert client.get(STATS, headers=bearer(client, "street-boss")).status_code == 403
    for who in ("boss", "root"):
        r = client.get(STATS, headers=bearer(client, who))
        assert r.status_code == 200 and r.get_json()["counts"]["served"] == 3
    bad = client.get("/api/v1/halls/erdao/stats?from=March", headers=bearer(client, "boss"))
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "validation_error"
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    for path in (
        "/api/v1/halls/{hall}/stats",
        "/api/v1/halls/{hall}/stats/live",
        "/api/v1/halls/{hall}/stats/export",
        "/api/v1/halls/{hall}/ratings/export",
        "/api/v1/halls/{hall}/followups",
        "/api/v1/halls/{hall}/followups/{followup_id}/close",
        "/api/v1/halls/{hall}/windows/{window}/case",
        "/api/v1/halls/{hall}/windows/{window}/rating",
    ):
        assert path in paths, path
    assert "/api/v1/halls/{hall}/tickets" in paths, "the public routes are still documented"


def test_follow_up_of_a_poor_rating_from_open_to_closed(hall, client, fake_clock):
    run_morning(hall, fake_clock)  # B001 was rated 不满意 at 09:21:20 on Monday 2026-03-02
    staff(hall)
    boss = bearer(client, "boss")
    assert client.get("/api/v1/halls/erdao/followups", headers=bearer(client, "clerk1")).status_code == 403
    items = client.get("/api/v1/halls/erdao/followups", headers=boss).get_json()["followups"]
    assert len(items) == 1
    item = items[0]
    assert (item["ticket"], item["score"], item["comment"], item["state"], item["overdue"]) == (
        "B001",
        2,
        "等太久",
        "open",
        False,
    )
    assert item["due_at"] == "2026-03-10T00:00:00+08:00", "5 working days: to the end of Monday 9 March"
    url = f"/api/v1/halls/erdao/followups/{item['id']}"
    r = client.post(url, json={"assignee": "王主任", "action": "已电话联系群众"}, headers=boss)
    assert r.status_code == 200 and r.get_json()["assignee"] == "王主任"

    fake_clock.advance(days=8)  # Tuesday 10 March: past the deadline
    overdue = client.get("/api/v1/halls/erdao/followups?state=overdue", headers=boss).get_json()["followups"]
    assert [f["ticket"] for f in overdue] == ["B001"] and overdue[0]["overdue"] is True
    assert client.post(url + "/close", json={"action": " "}, headers=boss).status_code == 422
    r = client.post(url + "/close", json={"action": "已致歉并优化叫号"}, headers=boss)
    assert r.status_code == 200
    closed = r.get_json()
    assert (closed["state"], closed["overdue"], closed["closed_by"], closed["action"]) == (
        "closed",
        False,
        "boss",
        "已致歉并优化叫号",
    )
    assert client.post(url + "/close", json={"action": "again"}, headers=boss).status_code == 409
    assert client.get("/api/v1/halls/erdao/followups?state=overdue", headers=boss).get_json()["followups"] == []
    assert (
        client.get("/api/v1/halls/erdao/followups?state=closed", headers=boss).get_json()["followups"][0]["closed_by"]
        == "boss"
    )
    assert client.get("/api/v1/halls/erdao/followups?state=late", headers=boss).status_code == 422
    assert client.post("/api/v1/halls/erdao/followups/999/close", json={"action": "x"}, headers=boss).status_code == 404


def test_a_good_rating_opens_no_follow_up(hall, client, fake_clock):
    clerk = hall.user("clerk3")
    hall.act(clerk, 3, "open")
    ticket = hall.issue("QY001")
    for action in ("call-next", "start", "finish"):
        hall.act(clerk, 3, action)
    assert client.post(f"/api/v1/tickets/{ticket.id}/evaluation", json={"score": 3}).status_code == 201
    staff(hall)
    assert (
        client.get("/api/v1/halls/erdao/followups?state=all", headers=bearer(client, "boss")).get_json()["followups"]
        == []
    )


def test_case_id_set_by_the_clerk_at_the_window(hall, client, fake_clock):
    clerk1, _clerk2 = hall.user("clerk1"), hall.user("clerk2")
    hall.act(clerk1, 1, "open")
    headers = bearer(client, "clerk1")
    url = "/api/v1/halls/erdao/windows/1/case"
    assert client.post(url, json={"case_id": "X1"}, headers=headers).status_code == 409, "no ticket yet"
    ticket = hall.issue("QY001")
    hall.act(clerk1, 1, "call-next")
    r = client.post(url, json={"case_id": "220104-QY-20260302-0001"}, headers=headers)
    assert r.status_code == 200 and r.get_json() == {
        "ticket": "A001",
        "case_id": "220104-QY-20260302-0001",
        "status": "called",
    }
    assert client.post(url, json={"case_id": "bad id!"}, headers=headers).status_code == 422
    assert client.post(url, json={"case_id": "X1"}, headers=bearer(client, "clerk2")).status_code == 403
    hall.act(clerk1, 1, "start")
    hall.act(clerk1, 1, "finish")
    r = client.post(url, json={"case_id": "220104-QY-20260302-0009"}, headers=headers)
    assert r.status_code == 200 and r.get_json()["status"] == "done", "the last finished ticket, after finish"
    assert client.get(f"/api/v1/tickets/{ticket.id}").get_json()["case_id"] == "220104-QY-20260302-0009"


def test_rating_screen_rates_the_ticket_just_finished(hall, client, fake_clock):
    clerk = hall.user("clerk4")
    hall.act(clerk, 4, "open")
    url = "/api/v1/halls/erdao/windows/4/rating"
    assert client.get(url).status_code == 204
    hall.issue("SB001")
    hall.act(clerk, 4, "call-next")
    hall.act(clerk, 4, "start")
    assert client.get(url).status_code == 204, "nothing to rate while the service goes on"
    hall.act(clerk, 4, "finish")
    pending = client.get(url).get_json()
    assert pending["number"] == "B001" and pending["window"] == 4
    r = client.post(url, json={"score": 1, "comment": "态度差"})
    assert r.status_code == 201 and r.get_json()["label"] == "非常不满意"
    assert client.get(url).status_code == 204
    again = client.post(url, json={"score": 5})
    assert again.status_code == 409, "one rating per ticket"
    assert client.post(url, json={"score": 9}).status_code == 422

    hall.issue("SB001")
    hall.act(clerk, 4, "call-next")
    hall.act(clerk, 4, "start")
    hall.act(clerk, 4, "finish")
    fake_clock.advance(minutes=11)
    assert client.get(url).status_code == 204, "the citizen has left the window: rate on the phone instead"
    assert client.post(url, json={"score": 5}).status_code == 409
    assert client.get("/api/v1/halls/erdao/windows/99/rating").status_code == 404


def test_exports_open_and_hold_the_right_rows(hall, client, fake_clock):
    tickets = run_morning(hall, fake_clock)
    staff(hall)
    boss = bearer(client, "boss")
    clerk2 = bearer(client, "clerk2")
    # the clerk at window 2 records the case of its last finished ticket (C001)
    assert (
        client.post("/api/v1/halls/erdao/windows/2/case", json={"case_id": "BD-0001"}, headers=clerk2).status_code
        == 200
    )
    fake_clock.advance(days=8)  # C001 is now a defaulted 基本满意

    r = client.get("/api/v1/halls/erdao/stats/export?format=xlsx&from=2026-03-02", headers=boss)
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(r.data))
    assert book.sheetnames == [
        "summary",
        "by_queue",
        "by_item",
        "by_window",
        "by_clerk",
        "by_hour",
        "calibration",
        "satisfaction",
    ]
    summary = {row[0]: row[1] for row in book["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["counts.issued"] == 5 and summary["wait.median_s"] == 430 and summary["satisfaction.defaulted"] == 1
    queues = list(book["by_queue"].iter_rows(values_only=True))
    assert queues[0][:4] == ("key", "name", "issued", "served")
    assert [(q[0], q[2], q[3]) for q in queues[1:]] == [("A", 2, 1), ("B", 2, 1), ("C", 1, 1)]

    r = client.get("/api/v1/halls/erdao/stats/export?format=csv&from=2026-03-02", headers=boss)
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    cell = {(x["table"], x["key"], x["metric"]): x["value"] for x in rows}
    assert cell[("summary", "", "counts.no_show")] == "1"
    assert cell[("by_window", "2", "busy_s")] == "700.0"
    assert cell[("by_queue", "A", "wait.p90_s")] == "498.0"

    r = client.get("/api/v1/halls/erdao/ratings/export?format=csv&from=2026-03-02", headers=boss)
    ratings = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert [(x["ticket"], x["score"], x["label"], x["defaulted"], x["case_id"]) for x in ratings] == [
        ("A001", "5", "非常满意", "false", ""),
        ("B001", "2", "不满意", "false", ""),
        ("C001", "3", "基本满意", "true", "BD-0001"),
    ]
    assert ratings[1]["comment"] == "等太久" and ratings[2]["window"] == "2" and ratings[2]["clerk"] == "clerk2"
    r = client.get("/api/v1/halls/erdao/ratings/export?format=json&from=2026-03-02", headers=boss)
    data = json.loads(r.data)
    assert data["hall"] == "erdao" and [x["ticket"] for x in data["ratings"]] == ["A001", "B001", "C001"]
    assert tickets["C001"].number == "C001"
    assert client.get("/api/v1/halls/erdao/ratings/export?format=pdf", headers=boss).status_code == 422
    assert client.get("/api/v1/halls/erdao/ratings/export", headers=clerk2).status_code == 403


def test_live_panel_says_when_the_hall_falls_behind(hall, client, fake_clock):
    staff(hall)
    clerk = hall.user("clerk1")
    hall.act(clerk, 1, "open")
    for _ in range(12):
        hall.issue("SB001")
        fake_clock.advance(minutes=2)
    live = client.get("/api/v1/halls/erdao/stats/live", headers=bearer(client, "boss")).get_json()
    assert (live["waiting"], live["longest_wait_s"], live["windows_open"]) == (12, 24 * 60, 1)
    advice = live["advice"]
    # 12 arrivals in the last hour at 8 min each (no history yet): 1.6 Erlangs need more than one window
    assert advice["arrivals_per_hour"] == 12 and advice["service_s"] == 480
    assert advice["windows_needed"] >= 3 and advice["behind"] is True
    assert "增开" in advice["message_zh"] and "open" in advice["message_en"]
