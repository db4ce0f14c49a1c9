"""Ticket issuance limits: per IP and per device (Flask-Limiter, memory or Redis), per person and per item (database)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from queue_server.db import transaction
from queue_server.models import Ticket
from queue_server.staff import devices
from tests.support import ID_NUMBER, PHONE, PrivateRedis, demo_config, strict


def issue(client, ip: str = "10.0.0.1", headers=None, **body):
    body.setdefault("service", "QY001")
    body.setdefault("print", False)
    return client.post(
        "/api/v1/halls/erdao/tickets", json=body, headers=headers or {}, environ_base={"REMOTE_ADDR": ip}
    )


def tickets_in(app) -> int:
    with app.extensions["onewindow"].factory() as s:
        return s.scalar(select(func.count()).select_from(Ticket))


@pytest.fixture
def raw(tmp_path):
    raw = demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", async_mode="threading")
    return strict(raw, rate_limits={"exempt_ips": [], "issue_per_ip": "3 per minute", "issue_per_device": "2/minute"})


def test_per_ip_limit_answers_429_in_chinese_and_counts_each_ip(make_app, raw):
    app = make_app(raw)
    client = app.test_client()
    for _ in range(3):
        assert issue(client).status_code == 201
    r = issue(client)
    assert r.status_code == 429
    error = r.get_json()["error"]
    assert (
        error["code"] == "rate_limited"
        and "取号过于频繁" in error["message_zh"]
        and "每分钟最多 3 次" in error["message_zh"]
    )
    assert "at most 3 per minute" in error["message"]
    assert int(r.headers["Retry-After"]) >= 1
    assert tickets_in(app) == 3, "the refused request issued nothing"
    assert issue(client, ip="10.0.0.2").status_code == 201, "another caller has its own count"


def test_per_device_limit_is_per_device(make_app, raw):
    app = make_app(raw)
    with transaction(app.extensions["onewindow"].factory) as s:
        _, one = devices.add_device(s, "kiosk-1", "erdao", "kiosk")
        _, two = devices.add_device(s, "kiosk-2", "erdao", "kiosk")
    client = app.test_client()
    first, second = {"Authorization": f"Device {one}"}, {"Authorization": f"Device {two}"}
    assert [issue(client, headers=first).status_code for _ in range(3)] == [201, 201, 429]
    assert issue(client, headers=second).status_code == 201
    assert issue(client, headers=second).status_code == 201
    assert issue(client).status_code == 201, "the browser on the same IP counts on its own"


def test_loopback_is_exempt_unless_proxied(make_app, tmp_path):
    raw = demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", async_mode="threading")
    raw["server"]["rate_limits"] = {"issue_per_ip": "1 per minute"}
    app = make_app(raw)
    client = app.test_client()
    assert [issue(client, ip="127.0.0.1").status_code for _ in range(3)] == [201, 201, 201]
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    assert [issue(client, ip="127.0.0.1", headers=proxied).status_code for _ in range(2)] == [201, 429]


def test_one_active_ticket_per_person_per_queue_and_per_day(make_app, raw):
    raw["server"]["rate_limits"]["issue_per_ip"] = "100 per minute"
    raw["halls"][0]["limits"] = {"per_person_per_day": 3, "active_per_person_per_queue": 1}
    app = make_app(raw)
    client = app.test_client()
    assert issue(client, id_number=ID_NUMBER).status_code == 201
    r = issue(client, service="QY002", id_number=ID_NUMBER)  # same queue A
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "limit_reached"
    assert "该身份证号在该队列已有未办结的号" in r.get_json()["error"]["message_zh"]
    assert ID_NUMBER not in r.get_data(as_text=True)
    assert issue(client, service="SB001", id_number=ID_NUMBER).status_code == 201, "another queue"
    assert issue(client, id_number="11010519491231002X").status_code == 201, "another person"
    assert issue(client, service="BD001", phone=PHONE).status_code == 201
    assert issue(client, service="GJ001", id_number=ID_NUMBER).status_code == 201
    r = issue(client, service="HJ001", id_number=ID_NUMBER)
    assert r.status_code == 429 and "今日取号已达上限" in r.get_json()["error"]["message_zh"]
    assert issue(client, service="BD002", phone=PHONE).status_code == 429, "the phone has a ticket in queue C"
    assert issue(client, service="GJ002", phone=PHONE).status_code == 201
    assert tickets_in(app) == 6


def test_daily_cap_per_service(make_app, raw):
    raw["halls"][0]["limits"] = {"per_service_per_day": {"BD005": 2}}
    app = make_app(raw)
    client = app.test_client()
    assert issue(client, service="BD005").status_code == 201
    assert issue(client, service="BD005", ip="10.0.0.9").status_code == 201
    r = issue(client, service="BD005", ip="10.0.0.8")
    assert r.status_code == 429 and "今日号源已取完" in r.get_json()["error"]["message_zh"]
    assert issue(client, service="BD004", ip="10.0.0.8").status_code == 201


def test_invalid_numbers_are_refused_without_echo(make_app, raw):
    client = make_app(raw).test_client()
    r = issue(client, id_number="220102199003071234")  # wrong check digit
    assert r.status_code == 422 and "220102199003071234" not in r.get_data(as_text=True)
    r = issue(client, phone="12345678901")
    assert r.status_code == 422 and "12345678901" not in r.get_data(as_text=True)


def test_priority_and_counter_tickets_need_staff(make_app, raw):
    client = make_app(raw).test_client()
    assert issue(client, priority="green").status_code == 403
    assert issue(client, channel="counter").status_code == 403


@pytest.mark.redis
def test_limits_are_shared_through_redis(make_app, raw):
    redis = PrivateRedis().start()
    try:
        raw["server"]["redis_url"] = redis.url
        one, two = make_app(raw), make_app(raw)
        assert issue(one.test_client()).status_code == 201
        assert issue(two.test_client()).status_code == 201
        assert issue(one.test_client()).status_code == 201
        assert issue(two.test_client()).status_code == 429, "both processes count in one Redis"
    finally:
        redis.stop()
