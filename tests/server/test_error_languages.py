"""Representative errors answer in both languages: message in English, message_zh in Chinese."""

from __future__ import annotations

import re

from tests.support import bearer, demo_config, strict

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")


def check_bilingual(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == code, error
    assert error["message"] and not CJK.search(error["message"]), error
    assert error.get("message_zh") and CJK.search(error["message_zh"]), error
    return error


def test_representative_errors_answer_in_english_and_chinese(make_app, tmp_path):
    raw = demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", async_mode="threading")
    raw = strict(raw, rate_limits={"exempt_ips": [], "issue_per_ip": "1 per minute"})
    client = make_app(raw).test_client()
    api = "/api/v1"

    check_bilingual(client.get(f"{api}/halls/nowhere/board"), 404, "not_found")
    check_bilingual(client.get("/no/such/page"), 404, "not_found")
    check_bilingual(client.delete(f"{api}/halls"), 405, "method_not_allowed")
    error = check_bilingual(client.post(f"{api}/halls/erdao/tickets", json={"service": 7}), 422, "validation_error")
    assert error["field"] == "service"

    clerk = bearer(client, "clerk1")
    window = f"{api}/halls/erdao/windows/1"
    check_bilingual(client.post(f"{window}/call", headers=clerk), 403, "forbidden")  # not signed in to it
    assert client.post(f"{window}/open", headers=clerk).status_code == 200
    check_bilingual(client.post(f"{window}/open", headers=clerk), 409, "illegal_transition")
    check_bilingual(client.get(f"{api}/admin/users", headers=clerk), 403, "forbidden")

    ticket = {"service": "QY001", "print": False}
    other = {"REMOTE_ADDR": "10.0.0.9"}  # its own count: one ticket a minute
    assert client.post(f"{api}/halls/erdao/tickets", json=ticket, environ_base=other).status_code == 201
    check_bilingual(client.post(f"{api}/halls/erdao/tickets", json=ticket, environ_base=other), 429, "rate_limited")
