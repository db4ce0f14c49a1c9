"""Staff pages with a session cookie: sign-in, account (password), sign-out.

Every form carries the session's CSRF token; the cookie is HttpOnly and SameSite=Lax.
"""

from __future__ import annotations

from flask import Blueprint, Response, g, redirect, render_template, request, session, url_for

from queue_server.db import transaction
from queue_server.exceptions import OneWindowError
from queue_server.models import Hall, StaffUser
from queue_server.runtime import current
from queue_server.staff import access
from queue_server.staff.auth import LockedOut, change_password, check_password, sign_in
from queue_server.staff.permissions import Role

from .pages import security_headers
from .staff_session import signed_in, staff_page

bp = Blueprint("account", __name__)
bp.after_request(security_headers)


def _page(template: str, status: int = 200, **context) -> Response:
    return Response(render_template(template, csrf=access.csrf_token(), **context), status=status)


def _local(target: str | None, home: str) -> str:
    """Only paths on this site: never redirect a signed-in clerk to another host."""
    # Browsers drop tabs and line breaks inside a URL and read a backslash as a slash: "/<tab>/evil.example"
    # is "//evil.example", another host.
    if not target or len(target) < 2 or target[0] != "/" or target[1] == "/":
        return home
    if any(c.isspace() or not c.isprintable() or c == "\\" for c in target):
        return home
    return target


def _home(user: StaffUser) -> str:
    """Where a role works: clerks at the console, supervisors in their hall's statistics, admins centrally."""
    if user.role == Role.CLERK:
        return "/clerk"
    if user.role == Role.SUPERVISOR and user.hall_id:
        with transaction(current().factory) as s:
            return f"/stats/{s.get(Hall, user.hall_id).code}"
    return "/central"


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Staff sign-in for the pages (the clerk console signs in through the API)."""
    nxt = request.values.get("next")
    if request.method == "GET":
        return _page("login.html", next=nxt, message=None)
    try:
        access.check_csrf(request.form.get("csrf_token"))
        rt = current()
        rt.limits.login()
        cfg = rt.settings.server.login
        user = sign_in(
            rt.factory,
            request.form.get("username", "")[:64],
            request.form.get("password", "")[:256],
            max_failures=cfg.max_failures,
            lockout_minutes=cfg.lockout_minutes,
            client=access.client_ip(),
        )
    except OneWindowError as exc:
        status = exc.status if isinstance(exc, LockedOut) or exc.status in (403, 429) else 401
        return _page("login.html", status=status, next=nxt, message=exc.zh or exc.message, message_en=exc.message)
    session.clear()  # a new session on sign-in: nothing planted before survives
    session.permanent = True
    session[access.STAFF_KEY] = current().tokens.issue(user)
    access.csrf_token()  # a fresh token for this session; pages and /api/v1/auth/me hand it out
    return redirect(_local(nxt, _home(user)), code=303)


@bp.post("/logout")
def logout():
    """Sign out: this session ends and every token of the user is revoked."""
    access.check_csrf(request.form.get("csrf_token"))
    with transaction(current().factory) as s:
        user = signed_in(s)
        if user is not None:
            user.token_version += 1
    session.clear()
    return redirect(url_for("account.login"), code=303)


@bp.route("/account", methods=["GET"])
@staff_page()
def account():
    """The signed-in staff member, with the password form."""
    return _page("account.html", user=g.staff, message=None, ok=None)


@bp.post("/account/password")
@staff_page()
def account_password():
    """Change the password; other sessions and tokens stop working."""
    access.check_csrf(request.form.get("csrf_token"))
    with transaction(current().factory) as s:
        user = signed_in(s)
        if user is None:  # signed out between the decorator's look and this transaction
            return redirect(url_for("account.login", next="/account"), code=303)
        new, repeat = request.form.get("new_password", ""), request.form.get("repeat_password", "")
        if not check_password(user, request.form.get("current_password", "")):
            return _refused(401, "当前密码不正确", "The current password is wrong")
        if new != repeat:
            return _refused(422, "两次输入的新密码不一致", "The two new passwords differ")
        try:
            change_password(s, user, new)
        except OneWindowError as exc:
            return _refused(exc.status, exc.zh or exc.message, exc.message)
        s.flush()
        session[access.STAFF_KEY] = current().tokens.issue(user)
        ok = ("密码已修改，其他登录已失效", "Password changed: your other sign-ins have ended")
        return _page("account.html", user=g.staff, message=None, ok=ok[0], ok_en=ok[1])


def _refused(status: int, zh: str, en: str) -> Response:
    """The account page again with why the password was not changed, in both languages."""
    return _page("account.html", status=status, user=g.staff, message=zh, message_en=en, ok=None)
