"""Per-hall settings: one typed model, kept on the hall row, every setting editable in /admin and in effect."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from queue_server.config import settings_from_mapping
from queue_server.db import transaction
from queue_server.hall_settings import SECRET_MASK, HallSettings, hall_settings
from queue_server.halls import get_hall, seed
from queue_server.models import AdminChange, Hall
from tests.support import demo_config

PHONE = "13800138000"


def changes_in(app) -> int:
    with app.extensions["onewindow"].factory() as s:
        return s.scalar(select(func.count()).select_from(AdminChange))


def new_hall(as_user) -> None:
    """A street hall made in /admin with one queue, one item and one window."""
    root = as_user("root")
    assert root.post("/admin/halls", {"code": "xinhua", "name": "新华街道便民服务中心"}).status_code == 201
    assert root.post("/admin/halls/xinhua/queues", {"prefix": "A", "name": "综合"}).status_code == 201
    assert (
        root.post("/admin/halls/xinhua/services", {"code": "XH001", "name": "居住证", "queue": "A"}).status_code == 201
    )
    assert root.post("/admin/halls/xinhua/windows", {"number": 1, "name": "1 号窗口"}).status_code == 201


def test_a_hall_made_in_admin_starts_with_every_default_and_each_one_changes_and_is_logged(as_user):
    new_hall(as_user)
    root = as_user("root")
    assert root.get("/admin/halls/xinhua").get_json()["settings"] == HallSettings().stored()

    body = {
        "remote": {"max_per_day": 2},
        "privacy": {"store_personal_data": True},
        "limits": {"per_person_per_day": 1},
        "appointments": {"slot_minutes": 20},
        "voice": {"templates": {"zh-CN": "请{number}号到{window}号", "en": "Number {number}"}, "repeat": 2},
        "call_reasons": ["vip", "other"],
        "no_show_returns": 0,
        "ticket": {"paper_mm": 58},
        "wait_range_coverage": 0.9,
    }
    r = root.patch("/admin/halls/xinhua", body)
    assert r.status_code == 200, r.get_json()
    settings = r.get_json()["settings"]
    assert settings["remote"]["max_per_day"] == 2 and settings["remote"]["hours"] == ["08:30-16:30"]  # the rest kept
    assert settings["privacy"]["store_personal_data"] is True and settings["limits"]["per_person_per_day"] == 1
    assert settings["appointments"]["slot_minutes"] == 20 and settings["voice"]["repeat"] == 2
    assert settings["call_reasons"] == ["vip", "other"] and settings["ticket"]["paper_mm"] == 58
    assert settings["wait_range_coverage"] == 0.9
    assert r.get_json()["voice_zh"] == "请{number}号到{window}号"
    assert root.get("/admin/halls/xinhua").get_json()["settings"] == settings

    logged = root.get("/admin/changes?hall=xinhua").get_json()["changes"][0]
    assert logged["entity"] == "hall" and logged["user"] == "root"
    assert logged["changes"]["remote.max_per_day"] == [200, 2]
    assert logged["changes"]["limits.per_person_per_day"] == [5, 1]
    assert logged["changes"]["privacy.store_personal_data"] == [False, True]
    assert logged["changes"]["appointments.slot_minutes"] == [30, 20]
    assert logged["changes"]["voice.templates.en"] == [
        "Number {number}, please go to window {window}",
        "Number {number}",
    ]
    assert logged["changes"]["call_reasons"][1] == ["vip", "other"]
    assert "remote.hours" not in logged["changes"]


def test_a_change_takes_effect_on_the_next_request(as_user, fake_clock):
    new_hall(as_user)
    root, anonymous = as_user("root"), as_user()
    assert anonymous.get("/halls/xinhua/remote-tickets").get_json()["left_today"] == 200
    r = root.patch("/admin/halls/xinhua", {"limits": {"per_person_per_day": 1}, "remote": {"max_per_day": 3}})
    assert r.status_code == 200, r.get_json()

    first = anonymous.post("/halls/xinhua/tickets", {"service": "XH001", "phone": PHONE, "print": False})
    assert first.status_code == 201, first.get_json()
    again = anonymous.post("/halls/xinhua/tickets", {"service": "XH001", "phone": PHONE, "print": False})
    assert again.status_code == 429, again.get_json()
    status = anonymous.get("/halls/xinhua/remote-tickets").get_json()
    assert status["left_today"] == 3

    assert root.patch("/admin/halls/xinhua", {"remote": {"enabled": False}}).status_code == 200
    assert anonymous.get("/halls/xinhua/remote-tickets").get_json()["enabled"] is False


def test_call_reasons_and_the_voice_come_from_the_row(as_user):
    boss, clerk, anonymous = as_user("boss"), as_user("clerk1"), as_user()
    number = anonymous.post("/halls/erdao/tickets", {"service": "QY001", "print": False}).get_json()["number"]
    assert clerk.post("/halls/erdao/windows/1/open").status_code == 200
    assert boss.patch("/admin/halls/erdao", {"call_reasons": ["vip"]}).status_code == 200
    refused = clerk.post("/halls/erdao/windows/1/call", {"number": number, "reason_code": "other", "reason": "x"})
    assert refused.status_code == 422 and refused.get_json()["error"]["field"] == "reason_code"
    called = clerk.post("/halls/erdao/windows/1/call", {"number": number, "reason_code": "vip", "reason": "x"})
    assert called.status_code == 200, called.get_json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"remote": {"max_per_day": -1}}, "remote.max_per_day"),
        ({"appointments": {"slot_minutes": 1}}, "appointments.slot_minutes"),
        ({"appointments": {"hours": ["12:00-09:00"]}}, "appointments.hours"),
        ({"limits": {"per_person_per_day": "many"}}, "limits.per_person_per_day"),
        ({"limits": {"per_service_per_day": {"NOPE": 3}}}, "limits.per_service_per_day.NOPE"),
        ({"privacy": {"purge_after_days": 0}}, "privacy.purge_after_days"),
        ({"privacy": {"keep_forever": True}}, "privacy.keep_forever"),
        ({"privacy": None}, "privacy"),
        ({"notify": {"kind": "webhook"}}, "notify.url"),
        ({"voice": {"templates": {"zh-CN": "请 {name} 号"}}}, "voice.templates.zh-CN"),
        ({"voice": {"rate": 5}}, "voice.rate"),
        ({"ticket": {"paper_mm": 70}}, "ticket.paper_mm"),
        ({"aging_minutes": 0}, "aging_minutes"),
        ({"wait_range_coverage": 0.99}, "wait_range_coverage"),
        ({"wait_range_coverage": "most"}, "wait_range_coverage"),
        ({"rating_days": 0}, "rating_days"),
        ({"opening_hours": ["9-5"]}, "opening_hours"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_bad_value_is_refused_naming_the_field_and_changes_nothing(app, as_user, body, field):
    boss = as_user("boss")
    before, stored = changes_in(app), boss.get("/admin/halls/erdao").get_json()["settings"]
    r = boss.patch("/admin/halls/erdao", body)
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["error"]["field"] == field, r.get_json()
    assert changes_in(app) == before
    assert boss.get("/admin/halls/erdao").get_json()["settings"] == stored


def test_the_webhook_secret_is_never_shown_and_survives_a_round_trip(app, as_user):
    boss = as_user("boss")
    secret = "s3cret-shared-with-the-gateway"
    hook = {"kind": "webhook", "url": "https://sms.example.gov.cn/hook", "secret": secret}
    r = boss.patch("/admin/halls/erdao", {"notify": hook})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["settings"]["notify"]["secret"] == SECRET_MASK
    logged = boss.get("/admin/changes?hall=erdao").get_json()["changes"][0]["changes"]
    assert logged["notify.secret"] == [None, SECRET_MASK] and secret not in str(logged)

    shown = boss.get("/admin/halls/erdao").get_json()["settings"]["notify"]
    assert (
        boss.patch("/admin/halls/erdao", {"notify": {**shown, "ahead": 5}}).status_code == 200
    )  # as the page sends it
    with app.extensions["onewindow"].factory() as s:
        kept = hall_settings(get_hall(s, "erdao")).notify
    assert (kept.secret, kept.ahead) == (secret, 5)


def test_a_config_hall_seeds_its_config_values_once(app, tmp_path):
    raw = demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", async_mode="threading")
    config = settings_from_mapping(raw).hall("erdao")
    runtime = app.extensions["onewindow"]
    with runtime.factory() as s:
        hall = get_hall(s, "erdao")
        assert hall.settings == config.stored()  # the whole typed settings, written on seeding
        assert hall_settings(hall).voice.repeat == 2  # config.yaml's value, not the default

    # A row seeded by an older version lacks some settings: seeding adds them from the config, once;
    # what the row stores (an /admin change) stays.
    raw["halls"][0]["limits"] = {"per_person_per_day": 3}
    raw["halls"][0]["rating_days"] = 14
    with transaction(runtime.factory) as s:
        hall = get_hall(s, "erdao")
        hall.settings = {k: v for k, v in hall.settings.items() if k != "limits"} | {"rating_days": 3}
    with transaction(runtime.factory) as s:
        assert seed(s, settings_from_mapping(raw)) == []
    with runtime.factory() as s:
        stored = hall_settings(get_hall(s, "erdao"))
    assert (stored.limits.per_person_per_day, stored.rating_days) == (3, 3)


def test_missing_or_broken_stored_settings_read_as_the_defaults():
    assert hall_settings(Hall(code="old", settings={})) == HallSettings()
    row = Hall(code="old", settings={"rating_days": 3, "remote": {"max_per_day": "lots"}, "gone": 1})
    settings = hall_settings(row)
    assert settings.rating_days == 3 and settings.remote == HallSettings().remote
    assert hall_settings(row) is settings  # parsed once per row while its JSON is unchanged
