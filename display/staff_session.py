"""The one staff session of the staff pages (/clerk, /stats, /admin, /central, /account).

Signing in on /login puts a signed staff token in the session cookie; every staff page is served only
to that session (else the sign-in form, which comes back to the page) and carries its CSRF token, which
the page's scripts send with their writes. Signing out on any page revokes the user's tokens: every
page, tab and PC of that user is signed out.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Response, g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from queue_server.core.states import WindowState
from queue_server.db import transaction
from queue_server.exceptions import OneWindowError
from queue_server.models import Hall, StaffUser, Window
from queue_server.runtime import current
from queue_server.staff import access
from queue_server.staff.permissions import MANAGERS
from queue_server.tickets.routes import user_brief


def signed_in(s) -> StaffUser | None:
    """The staff member of this page session, None when signed out (or revoked since)."""
    token = session.get(access.STAFF_KEY)
    if not token:
        return None
    try:
        return current().tokens.verify(s, token)
    except OneWindowError:
        session.pop(access.STAFF_KEY, None)
        return None


def brief(s, user: StaffUser) -> dict:
    """The user as the pages show them, with the window they are signed in to (the console opens it)."""
    hall = s.get(Hall, user.hall_id) if user.hall_id else None
    at = s.execute(
        select(Hall.code, Window.number)
        .join(Hall, Hall.id == Window.hall_id)
        .where(Window.clerk_id == user.id, Window.state != WindowState.CLOSED.value)
        .limit(1)
    ).first()
    return {**user_brief(user, hall), "window": {"hall": at[0], "number": at[1]} if at else None}


def sign_in_first() -> Response:
    """To the sign-in form, coming back to this page afterwards."""
    here = request.path + ("?" + request.query_string.decode("latin-1") if request.query_string else "")
    return redirect(url_for("account.login", next=here), code=303)


def staff_page(*, managers: bool = False) -> Callable:
    """Serve a page only to a signed-in staff member (`managers`: supervisors and admins); `g.staff` for it."""

    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def page(*args, **kwargs):
            with transaction(current().factory) as s:
                user = signed_in(s)
                if user is None:
                    return sign_in_first()
                g.staff = {**brief(s, user), "csrf": access.csrf_token()}
            if managers and g.staff["role"] not in MANAGERS:
                page = render_template(
                    "login.html",
                    csrf=g.staff["csrf"],
                    next=request.path,
                    message="此页面需要主管或管理员账号，请换一个账号登录",
                    message_en="This page needs a supervisor or admin account: sign in with another one",
                )
                return Response(page, status=403)
            return view(*args, **kwargs)

        return page

    return wrap
