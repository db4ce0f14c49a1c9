"""Who is calling: staff (bearer token, or page session plus CSRF header), a registered device, or anyone."""

from __future__ import annotations

import hmac
import secrets

from flask import request
from flask import session as cookie
from sqlalchemy.orm import Session

from queue_server.exceptions import Forbidden, Unauthorized
from queue_server.models import Device, StaffUser
from queue_server.runtime import current
from queue_server.staff import devices

STAFF_KEY = "staff_token"  # the page session keeps a signed staff token, so expiry and revocation apply
CSRF_KEY = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfFailed(Forbidden):
    code = "csrf_failed"


def csrf_token() -> str:
    """The page session's CSRF token, created on first use."""
    token = cookie.get(CSRF_KEY)
    if not token:
        token = cookie[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def check_csrf(given: str | None) -> None:
    """CsrfFailed unless `given` is this session's CSRF token."""
    expected = cookie.get(CSRF_KEY)
    if not expected or not given or not hmac.compare_digest(str(given), expected):
        raise CsrfFailed(
            "the form or request lacks a valid CSRF token; reload the page and try again",
            zh="页面已过期或缺少安全校验，请刷新页面后重试",
        )


def _scheme(name: str) -> str | None:
    header = request.headers.get("Authorization", "")
    prefix = name + " "
    return header[len(prefix) :].strip() if header.startswith(prefix) else None


def optional_staff(session: Session) -> StaffUser | None:
    """The staff member behind the request, None for anonymous callers, Unauthorized for bad credentials."""
    bearer = _scheme("Bearer")
    if bearer is not None:
        if not bearer:
            raise Unauthorized("sign in first: send Authorization: Bearer <token>", zh="请先登录")
        return current().tokens.verify(session, bearer)
    token = cookie.get(STAFF_KEY)
    if not token:
        return None
    # A browser sends the cookie with any request to this site; only our own pages know the CSRF token.
    if request.method not in SAFE_METHODS:
        check_csrf(request.headers.get(CSRF_HEADER))
    return current().tokens.verify(session, token)


def staff(session: Session) -> StaffUser:
    """The signed-in staff member, or 401."""
    user = optional_staff(session)
    if user is None:
        if _scheme("Device") is not None:
            raise Unauthorized(
                "a device token does not sign in staff; send Authorization: Bearer <token>",
                zh="设备令牌不能用于工作人员登录，请用工作人员账号登录",
            )
        raise Unauthorized("sign in first: send Authorization: Bearer <token>", zh="请先登录")
    return user


def device_token() -> str | None:
    """A device token from `Authorization: Device <token>` or `?device=` on a page URL."""
    token = _scheme("Device")
    if token is None:
        token = request.args.get("device") or None
    return token[:128] if token else None


def optional_device(session: Session) -> Device | None:
    """The registered device making the request, None for an ordinary browser, 401 for a bad token."""
    token = device_token()
    return devices.verify(session, token) if token else None


LOOPBACK = frozenset({"127.0.0.1", "::1"})


def on_server_machine() -> bool:
    """The request comes from the server's own PC (loopback, not through a proxy)."""
    return client_ip() in LOOPBACK and not proxied()


def hall_device(session: Session, hall_id: int, kind: str, window: int | None = None) -> Device | None:
    """The gate of what only a hall's device does (a kiosk checks in and prints, a rating pad rates).

    A registered device of that kind in that hall (and at that window) passes; without a device token
    only the server's own machine passes (the demo kiosk on the server PC); anyone else gets 403.
    """
    device = optional_device(session)
    if device is None:
        if on_server_machine():
            return None
        raise Forbidden(
            f"only a registered {kind} device of this hall may do this",
            zh={"kiosk": "请在大厅的自助取号机上操作", "rating": "请在窗口的评价器上评价"}.get(
                kind, "仅限本厅登记的设备"
            ),
        )
    if device.hall_id != hall_id or device.kind != kind or (window is not None and device.window_number != window):
        where = f" at window {window}" if window is not None else ""
        raise Forbidden(f"device {device.name} is not this hall's {kind}{where}", zh="该设备无权进行此操作")
    return device


def client_ip() -> str:
    """The caller's address (ProxyFix puts the real one here when trusted proxies are configured)."""
    return request.remote_addr or "-"


def proxied() -> bool:
    return "X-Forwarded-For" in request.headers or "Forwarded" in request.headers
