"""What the citizens' pages rely on, through the API on SQLite and PostgreSQL: the hall's opening state,
a remote ticket's check-in field, the booking cut-off, and the reasons of a poor rating.
The full app in process, clock at Monday 2026-03-02 09:00 Beijing."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from queue_server.app import create_app
from queue_server.config import settings_from_mapping
from queue_server.db import transaction
from tests.support import QuietVoice, add_staff, bearer, booking_body, booking_config, id_number, phone

API = "/api/v1"
ALL_DAY = {"hours": ["00:00-24:00"], "weekdays": [1, 2, 3, 4, 5, 6, 7]}


@pytest.fixture
def app(db_url, tmp_path, fake_clock):
    """The demo hall taking bookings (30-minute slots, a 60-minute change cut-off) and remote tickets all day."""
    raw = booking_config(
        db_url,
        tmp_path / "data",
        appointments={**ALL_DAY, "early_minutes": 60, "change_cutoff_minutes": 60},
        remote=ALL_DAY,
    )
    raw["server"]["async_mode"] = "threading"
    app = create_app(settings_from_mapping(raw), voice=QuietVoice(), start_workers=False)
    app.config["TESTING"] = True
    with transaction(app.extensions["onewindow"].factory) as s:
        add_staff(s, [("clerk1", "clerk", "erdao"), ("boss", "supervisor", "erdao")])
    yield app
    app.extensions["onewindow"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


def test_the_opening_state_follows_the_hours_and_the_clock(client, fake_clock):
    r = client.get(f"{API}/halls/erdao/opening")
    assert r.get_json() == {"hall": "erdao", "hours": [], "open": True, "changes_at": None}
    boss = bearer(client, "boss")
    r = client.patch(f"{API}/admin/halls/erdao", json={"opening_hours": ["09:30-12:00"]}, headers=boss)
    assert r.status_code == 200, r.get_json()
    closed = client.get(f"{API}/halls/erdao/opening").get_json()  # 09:00: opens at half past
    assert closed["open"] is False and closed["changes_at"] == "2026-03-02T09:30:00+08:00"
    take = client.post(f"{API}/halls/erdao/tickets", json={"service": "QY001", "print": False})
    assert take.status_code == 409 and take.get_json()["error"]["code"] == "hall_closed"
    fake_clock.advance(minutes=30)
    opened = client.get(f"{API}/halls/erdao/opening").get_json()
    assert opened["open"] is True and opened["changes_at"] == "2026-03-02T12:00:00+08:00"


def test_a_remote_ticket_says_whether_it_is_checked_in(client):
    walk_in = client.post(f"{API}/halls/erdao/tickets", json={"service": "QY001", "print": False}).get_json()
    assert (walk_in["remote"], walk_in["checked_in"]) == (False, True)
    assert walk_in["hall_name"] == "二道区政务服务中心"
    r = client.post(f"{API}/halls/erdao/remote-tickets", json={"service": "QY001", "phone": phone(1)})
    assert r.status_code == 201, r.get_json()
    remote = r.get_json()
    assert (remote["remote"], remote["checked_in"]) == (True, False)
    shown = client.get(f"{API}/tickets/{remote['id']}").get_json()
    assert (shown["remote"], shown["checked_in"]) == (True, False)
    r = client.post(f"{API}/halls/erdao/tickets/{remote['number']}/check-in")
    assert r.status_code == 200 and r.get_json()["checked_in"] is True
    assert client.get(f"{API}/tickets/{remote['id']}").get_json()["checked_in"] is True


def slots(client, service: str = "BD001") -> list[dict]:
    r = client.get(f"{API}/halls/erdao/appointments/slots", query_string={"service": service})
    assert r.status_code == 200, r.get_json()
    return [s for d in r.get_json()["days"] for s in d["slots"]]


def book(client, person: int, starts_at: str, service: str = "BD001"):
    return client.post(f"{API}/halls/erdao/appointments", json=booking_body(person, starts_at, service))


def at(hour: int, minute: int = 0) -> str:
    return f"2026-03-02T{hour:02d}:{minute:02d}:00+08:00"


def test_no_booking_and_no_move_into_a_slot_inside_the_change_cut_off(client, fake_clock):
    offered = [s["starts_at"] for s in slots(client)]
    assert at(9, 30) not in offered and offered[0] == at(10)  # 09:00 now, 60 minutes' cut-off
    r = book(client, 1, at(9, 30))
    assert r.status_code == 409, r.get_json()
    error = r.get_json()["error"]
    assert (error["code"], error["field"]) == ("slot_too_soon", "starts_at")
    assert "60 minutes" in error["message"] and "60 分钟" in error["message_zh"]
    assert book(client, 1, at(10)).status_code == 201  # exactly at the cut-off: still allowed

    later = book(client, 2, at(11))
    assert later.status_code == 201, later.get_json()
    booking = later.get_json()
    fake_clock.advance(minutes=5)  # 09:05: 10:00 is now inside the cut-off
    r = client.post(f"{API}/appointments/{booking['id']}/reschedule", json={"starts_at": at(10)})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "slot_too_soon"
    assert client.get(f"{API}/appointments/{booking['id']}").get_json()["starts_at"] == at(11)
    r = client.post(f"{API}/appointments/{booking['id']}/reschedule", json={"starts_at": at(10, 30)})
    assert r.status_code == 200 and r.get_json()["starts_at"] == at(10, 30)


def test_a_field_error_reads_as_a_sentence_in_both_languages(client):
    r = book(client, 1, at(10))
    assert r.status_code == 201
    bad_phone = client.post(
        f"{API}/halls/erdao/appointments",
        json={"service": "BD001", "starts_at": at(10), "name": "张三", "phone": "1380", "id_number": id_number(2)},
    ).get_json()["error"]
    assert bad_phone["field"] == "phone" and bad_phone["message_zh"].startswith("手机号不正确")
    empty = client.post(f"{API}/halls/erdao/appointments/lookup", json={"code": "", "phone": phone(1)})
    assert empty.status_code == 422
    assert empty.get_json()["error"] == {
        "code": "validation_error",
        "message": "Booking code is required",
        "message_zh": "预约码必须填写",
        "field": "code",
    }
    unknown = client.post(f"{API}/halls/erdao/appointments/lookup", json={"code": "X", "phone": "1", "pet": 1})
    assert unknown.get_json()["error"]["message_zh"] == "pet 是未知字段，请删除"


def served(client) -> dict:
    """A ticket issued, called, served and finished at window 1."""
    ticket = client.post(f"{API}/halls/erdao/tickets", json={"service": "QY001", "print": False}).get_json()
    clerk = bearer(client, "clerk1")
    for action in ("open", "call-next", "start", "finish"):
        r = client.post(f"{API}/halls/erdao/windows/1/{action}", json={}, headers=clerk)
        assert r.status_code == 200, (action, r.get_json())
    client.post(f"{API}/halls/erdao/windows/1/close", json={}, headers=clerk)
    return ticket


def test_a_poor_rating_keeps_its_reasons_in_the_follow_up_and_the_exports(client):
    offered = client.get(f"{API}/halls/erdao/rating-reasons").get_json()["reasons"]
    assert offered[:2] == ["等候时间长", "服务态度不好"] and len(offered) == 8
    ticket = served(client)
    rate = f"{API}/tickets/{ticket['id']}/evaluation"

    def refused(body: dict, text: str) -> None:
        r = client.post(rate, json=body)
        assert r.status_code == 422, r.get_json()
        assert r.get_json()["error"]["field"] == "reasons" and text in r.get_json()["error"]["message_zh"]

    refused({"score": 4, "reasons": [offered[0]]}, "不满意")  # a good rating has no reasons
    refused({"score": 1, "reasons": ["随便写的"]}, "不是本厅的差评原因选项")
    refused({"score": 1, "reasons": [offered[0]] * 13}, "最多 12 项")
    r = client.post(rate, json={"score": 1, "reasons": [offered[3], offered[0], offered[3]], "comment": "材料说了三次"})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["reasons"] == [offered[3], offered[0]]

    boss = bearer(client, "boss")
    followups = client.get(f"{API}/halls/erdao/followups", headers=boss).get_json()["followups"]
    assert [(f["ticket"], f["reasons"], f["comment"]) for f in followups] == [
        (ticket["number"], [offered[3], offered[0]], "材料说了三次")
    ]
    r = client.get(f"{API}/halls/erdao/ratings/export?format=csv&from=2026-03-02", headers=boss)
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert [(x["ticket"], x["score"], x["reasons"]) for x in rows] == [
        (ticket["number"], "1", f"{offered[3]}；{offered[0]}")
    ]
    r = client.get(f"{API}/halls/erdao/ratings/export?format=xlsx&from=2026-03-02", headers=boss)
    assert r.status_code == 200 and r.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(r.data))["ratings"]
    row = dict(zip([c.value for c in sheet[1]], [c.value for c in sheet[2]], strict=True))
    assert row["reasons"] == f"{offered[3]}；{offered[0]}" and row["score"] == 1
    r = client.get(f"{API}/halls/erdao/ratings/export?format=json&from=2026-03-02", headers=boss)
    assert r.get_json()["ratings"][0]["reasons"] == [offered[3], offered[0]]


def test_the_hall_edits_its_reasons_with_the_same_checks(client):
    boss = bearer(client, "boss")
    edit = f"{API}/admin/halls/erdao"
    r = client.patch(edit, json={"poor_rating_reasons": ["排队太久", " 窗口人员态度差 "]}, headers=boss)
    assert r.status_code == 200, r.get_json()
    assert client.get(f"{API}/halls/erdao/rating-reasons").get_json()["reasons"] == ["排队太久", "窗口人员态度差"]
    for bad in (["排队太久", "排队太久"], ["x" * 41], [], [f"原因{i}" for i in range(13)]):
        r = client.patch(edit, json={"poor_rating_reasons": bad}, headers=boss)
        assert r.status_code == 422, (bad, r.get_json())
        assert r.get_json()["error"]["field"].startswith("poor_rating_reasons")
        assert "message_zh" in r.get_json()["error"]
    r = client.patch(edit, json={"poor_rating_reasons": ["排队太久", "排队太久"]}, headers=boss)
    assert r.get_json()["error"]["message_zh"] == "差评原因选项：原因“排队太久”重复了"
    assert client.get(f"{API}/halls/erdao/rating-reasons").get_json()["reasons"] == ["排队太久", "窗口人员态度差"]
    ticket = served(client)
    r = client.post(f"{API}/tickets/{ticket['id']}/evaluation", json={"score": 2, "reasons": ["排队太久"]})
    assert r.status_code == 201 and r.get_json()["reasons"] == ["排队太久"]
