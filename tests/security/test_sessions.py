"""Page sign-in with a session cookie and CSRF, password change, lock-out after repeated failures."""

from __future__ import annotations

import logging
import re

from sqlalchemy import select

from queue_server.models import StaffUser, Window
from tests.support import PASSWORD, bearer, demo_config


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def page_login(client, username: str = "clerk3", password: str = PASSWORD):
    token = csrf_of(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"csrf_token": token, "username": username, "password": password}), token


def window_state(app, number: int) -> tuple:
    with app.extensions["onewindow"].factory() as s:
        w = s.scalar(select(Window).where(Window.number == number, Window.hall_id == 1))
        return w.state, w.clerk_id


def test_login_form_needs_its_csrf_token(make_app):
    app = make_app()
    client = app.test_client()
    client.get("/login")
    r = client.post("/login", data={"username": "clerk3", "password": PASSWORD})
    assert r.status_code == 403
    r = client.post("/login", data={"csrf_token": "forged", "username": "clerk3", "password": PASSWORD})
    assert r.status_code == 403
    assert client.get("/account").status_code == 303, "not signed in"


def test_cookie_session_flags_and_api_calls_need_the_csrf_header(make_app):
    app = make_app()
    client = app.test_client()
    r, login_csrf = page_login(client)
    assert r.status_code == 303
    csrf = csrf_of(client.get("/account").get_data(as_text=True))
    assert csrf != login_csrf, "signing in starts a new session"
    assert client.get("/api/v1/auth/me").get_json()["csrf_token"] == csrf
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert client.get("/account").status_code == 200
    # A cross-site form or fetch sends the cookie but cannot know the token: refused, nothing changes.
    r = client.post("/api/v1/halls/erdao/windows/3/open")
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "csrf_failed"
    r = client.post("/api/v1/halls/erdao/windows/3/open", headers={"X-CSRF-Token": "wrong"})
    assert r.status_code == 403
    assert window_state(app, 3) == ("closed", None)
    r = client.post("/api/v1/halls/erdao/windows/3/open", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.get_json()
    assert client.get("/api/v1/auth/me").get_json()["username"] == "clerk3", "safe methods need no header"
    # Bearer calls need no CSRF header.
    other = app.test_client()
    assert other.post("/api/v1/halls/erdao/windows/4/open", headers=bearer(other, "clerk4")).status_code == 200


def test_logout_and_password_forms_need_csrf(make_app):
    app = make_app()
    client = app.test_client()
    page_login(client)
    csrf = csrf_of(client.get("/account").get_data(as_text=True))
    assert client.post("/logout").status_code == 403
    assert (
        client.post(
            "/account/password",
            data={"current_password": PASSWORD, "new_password": "n3w-password!", "repeat_password": "n3w-password!"},
        ).status_code
        == 403
    )
    assert client.get("/account").status_code == 200, "still signed in"
    r = client.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": PASSWORD,
            "new_password": "n3w-password!",
            "repeat_password": "n3w-password!",
        },
    )
    assert r.status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/account").status_code == 303


def test_password_change_revokes_older_tokens(make_app):
    app = make_app()
    client = app.test_client()
    old = bearer(client, "clerk5")
    other_device = bearer(client, "clerk5")
    r = client.post(
        "/api/v1/auth/password",
        headers=old,
        json={"current_password": "wrong-password", "new_password": "brand-new-pass"},
    )
    assert r.status_code == 401
    r = client.post(
        "/api/v1/auth/password", headers=old, json={"current_password": PASSWORD, "new_password": "brand-new-pass"}
    )
    assert r.status_code == 200
    fresh = {"Authorization": f"Bearer {r.get_json()['token']}"}
    assert client.get("/api/v1/auth/me", headers=old).status_code == 401
    assert client.get("/api/v1/auth/me", headers=other_device).status_code == 401
    assert client.get("/api/v1/auth/me", headers=fresh).status_code == 200
    assert client.post("/api/v1/auth/login", json={"username": "clerk5", "password": PASSWORD}).status_code == 401
    assert (
        client.post("/api/v1/auth/login", json={"username": "clerk5", "password": "brand-new-pass"}).status_code == 200
    )


def test_lockout_after_repeated_failures_is_logged_and_lifts(make_app, fake_clock, caplog):
    app = make_app()
    client = app.test_client()
    wrong = {"username": "clerk6", "password": "not-the-password"}
    with caplog.at_level(logging.WARNING, logger="onewindow.auth"):
        for _ in range(5):
            assert client.post("/api/v1/auth/login", json=wrong).status_code == 401
    assert any("locked" in r.getMessage() and "clerk6" in r.getMessage() for r in caplog.records)
    assert not any(wrong["password"] in r.getMessage() for r in caplog.records), "passwords are never logged"
    r = client.post("/api/v1/auth/login", json={"username": "clerk6", "password": PASSWORD})
    assert r.status_code == 429, "even the right password waits out the lock"
    assert r.get_json()["error"]["code"] == "locked_out" and "暂停登录" in r.get_json()["error"]["message_zh"]
    assert int(r.headers["Retry-After"]) > 0
    assert client.post("/api/v1/auth/login", json={"username": "clerk7", "password": PASSWORD}).status_code == 200
    # Unknown names lock the same way: the answer does not tell which accounts exist.
    for _ in range(5):
        client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"})
    assert client.post("/api/v1/auth/login", json={"username": "nobody", "password": "x"}).status_code == 429
    fake_clock.advance(minutes=16)
    assert client.post("/api/v1/auth/login", json={"username": "clerk6", "password": PASSWORD}).status_code == 200


def test_page_login_locks_out_too(make_app):
    app = make_app()
    client = app.test_client()
    for _ in range(5):
        assert page_login(client, "clerk8", "wrong-one")[0].status_code == 401
    r, _ = page_login(client, "clerk8")
    assert r.status_code == 429 and "暂停登录" in r.get_data(as_text=True)
    with app.extensions["onewindow"].factory() as s:
        assert s.scalar(select(StaffUser.token_version).where(StaffUser.username == "clerk8")) == 0


def test_page_sign_in_goes_where_each_role_works(make_app):
    app = make_app()
    for username, home in (("clerk3", "/clerk"), ("boss", "/stats/erdao"), ("root", "/central")):
        r, _ = page_login(app.test_client(), username)
        assert r.status_code == 303 and r.headers["Location"] == home, (username, r.headers.get("Location"))
    client = app.test_client()
    token = csrf_of(client.get("/login?next=/account").get_data(as_text=True))
    r = client.post(
        "/login", data={"csrf_token": token, "username": "clerk3", "password": PASSWORD, "next": "/account"}
    )
    assert r.headers["Location"] == "/account"


def test_page_session_exchanges_for_a_token_only_with_its_csrf_header(make_app):
    app = make_app()
    client = app.test_client()
    page_login(client, "clerk3")
    csrf = client.get("/api/v1/auth/me").get_json()["csrf_token"]
    assert client.post("/api/v1/auth/session-token").status_code == 403, "a cross-site POST cannot get a token"
    r = client.post("/api/v1/auth/session-token", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["user"]["username"] == "clerk3"
    fresh = app.test_client()  # the token works on its own, without the cookie
    me = fresh.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {r.get_json()['token']}"})
    assert me.status_code == 200 and me.get_json()["username"] == "clerk3"
    # a bearer token is not a page session: no exchange for it
    assert fresh.post("/api/v1/auth/session-token", headers=bearer(fresh, "clerk3")).status_code == 401
    assert app.test_client().post("/api/v1/auth/session-token").status_code == 401


def _login_from(client, address: str, username: str, password: str):
    return client.post(
        "/api/v1/auth/login", json={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def test_a_strangers_wrong_passwords_never_lock_the_user_out_of_their_own_pc(make_app, fake_clock, caplog):
    app = make_app()
    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger="onewindow.auth"):
        for _ in range(5):
            assert _login_from(client, "10.9.9.9", "root", "guess").status_code == 401
    assert any("root" in r.getMessage() and "10.9.9.9" in r.getMessage() for r in caplog.records), "logged"
    assert _login_from(client, "10.9.9.9", "root", PASSWORD).status_code == 429, "the guessing address is locked"
    assert _login_from(client, "10.0.0.2", "root", PASSWORD).status_code == 200, "the admin's own PC is not"


def test_each_further_lock_lasts_twice_as_long_until_an_admin_unlocks(make_app, fake_clock, tmp_path):
    raw = demo_config(f"sqlite:///{tmp_path}/onewindow.sqlite3", tmp_path / "data", async_mode="threading")
    raw["server"]["rate_limits"] = {"login_per_ip": "100 per minute"}  # the lock, not the rate limit, answers
    app = make_app(raw)
    client = app.test_client()
    for minutes in (15, 30, 60):
        for _ in range(5):
            assert _login_from(client, "10.7.7.7", "clerk9", "guess").status_code == 401
        locked = _login_from(client, "10.7.7.7", "clerk9", PASSWORD)
        assert locked.status_code == 429
        assert abs(int(locked.headers["Retry-After"]) - minutes * 60) <= 60, (minutes, locked.headers["Retry-After"])
        fake_clock.advance(minutes=minutes + 1)
    for _ in range(5):
        _login_from(client, "10.7.7.7", "clerk9", "guess")
    assert _login_from(client, "10.7.7.7", "clerk9", PASSWORD).status_code == 429
    # a clerk cannot unlock; an admin can, and the change log says who did
    clerk = bearer(client, "clerk3")
    assert client.post("/api/v1/admin/users/clerk9/unlock", headers=clerk).status_code == 403
    r = client.post("/api/v1/admin/users/clerk9/unlock", headers=bearer(client, "root"))
    assert r.status_code == 200 and r.get_json()["unlocked"] == 1
    assert _login_from(client, "10.7.7.7", "clerk9", PASSWORD).status_code == 200
    changes = client.get("/api/v1/admin/changes?entity=user", headers=bearer(client, "root")).get_json()
    assert any(c["key"] == "clerk9" and c["user"] == "root" for c in changes["changes"]), changes


def test_sign_in_and_password_messages_carry_their_english(make_app):
    """The pages switch to English in place (data-en): a message the server wrote must carry both languages."""
    app = make_app()
    client = app.test_client()
    r, _ = page_login(client, "clerk3", "not-the-password")
    page = r.get_data(as_text=True)
    assert "用户名或密码错误" in page and 'data-en="wrong username or password"' in page
    page_login(client)
    csrf = csrf_of(client.get("/account").get_data(as_text=True))
    form = {"csrf_token": csrf, "current_password": "wrong", "new_password": "n3w-password!"}
    page = client.post("/account/password", data={**form, "repeat_password": "n3w-password!"}).get_data(as_text=True)
    assert "当前密码不正确" in page and 'data-en="The current password is wrong"' in page
    form["current_password"] = PASSWORD
    page = client.post("/account/password", data={**form, "repeat_password": "other"}).get_data(as_text=True)
    assert "两次输入的新密码不一致" in page and 'data-en="The two new passwords differ"' in page
    page = client.post("/account/password", data={**form, "repeat_password": "n3w-password!"}).get_data(as_text=True)
    assert "密码已修改" in page and 'data-en="Password changed' in page


def test_revocation_reaches_every_process_at_once_with_checked_signatures_remembered(make_app):
    """Each process remembers the signatures it checked, never the user: a sign-out, a disable or a role change
    made through another process refuses the very next request."""
    first, second = make_app(), make_app()  # two server processes on one database
    a, b = first.test_client(), second.test_client()
    token = bearer(a, "clerk7")
    for _ in range(2):  # the second time from the remembered signature
        assert b.get("/api/v1/auth/me", headers=token).get_json()["role"] == "clerk"
    assert a.post("/api/v1/auth/logout", headers=token).status_code == 204
    assert b.get("/api/v1/auth/me", headers=token).status_code == 401

    token = bearer(a, "clerk7")
    assert b.get("/api/v1/auth/me", headers=token).status_code == 200
    with first.extensions["onewindow"].factory() as s, s.begin():
        s.scalar(select(StaffUser).where(StaffUser.username == "clerk7")).role = "supervisor"
    assert b.get("/api/v1/auth/me", headers=token).get_json()["role"] == "supervisor", "the row is read every time"
    with first.extensions["onewindow"].factory() as s, s.begin():
        s.scalar(select(StaffUser).where(StaffUser.username == "clerk7")).active = False
    assert b.get("/api/v1/auth/me", headers=token).status_code == 401
    assert b.get("/api/v1/auth/me", headers={"Authorization": token["Authorization"] + "x"}).status_code == 401


def test_a_remembered_signature_still_expires(monkeypatch):
    """The per-process memory of checked signatures keeps the token's lifetime, to the second."""
    import time
    from types import SimpleNamespace

    import pytest

    from queue_server.exceptions import Unauthorized
    from queue_server.staff import auth

    tokens = auth.Tokens("a-secret-of-the-test-only-0123456789", ttl_s=60)
    token = tokens.serializer.dumps({"u": 1, "v": 0})
    assert tokens._claims(token) == (1, 0)
    assert token in tokens.signed
    later = time.time() + 61
    monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: later))
    with pytest.raises(Unauthorized, match="expired"):
        tokens._claims(token)
    assert token not in tokens.signed
