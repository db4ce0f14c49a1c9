"""Request rate limits (Flask-Limiter; Redis storage when configured, memory otherwise)."""

from __future__ import annotations

import logging
import time

from flask import Flask, request
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from queue_server.config import Settings
from queue_server.exceptions import OneWindowError, RateLimited
from queue_server.staff.access import client_ip, proxied

log = logging.getLogger("onewindow.ratelimit")
KEY_PREFIX = "onewindow-limits"


def describe(item: RateLimitItem) -> str:
    units = {"second": "秒", "minute": "分钟", "hour": "小时", "day": "天", "month": "月", "year": "年"}
    unit = units.get(item.GRANULARITY.name, item.GRANULARITY.name)
    per = unit if item.multiples == 1 else f"{item.multiples} {unit}"
    return f"每{per}最多 {item.amount} 次"


class RateLimits:
    """The server's limits; each rule is checked against a named key (device, IP, user)."""

    def __init__(self, app: Flask, settings: Settings) -> None:
        self.config = settings.server.rate_limits
        storage = settings.server.redis_url or "memory://"
        self.limiter = Limiter(
            key_func=client_ip,
            app=app,
            storage_uri=storage,
            strategy="fixed-window",
            key_prefix=KEY_PREFIX,
            enabled=self.config.enabled,
            swallow_errors=True,
            headers_enabled=False,
        )
        self.app = app
        # Used while the shared (Redis) storage is down: limits per process instead of none at all.
        self.fallback = FixedWindowRateLimiter(MemoryStorage())

    def exempt(self) -> bool:
        return client_ip() in self.config.exempt_ips and not proxied()

    def hit(self, rule: str, scope: str, key: str, message: str) -> None:
        """Count one request for (scope, key); RateLimited with a Chinese message when over the rule."""
        if not self.config.enabled:
            return
        for item in parse_many(rule):
            limiter = self.limiter.limiter
            try:
                allowed = limiter.hit(item, scope, key)
            except Exception as exc:  # noqa: BLE001 - a storage outage must not stop the hall, nor the limits
                log.warning("rate limit storage unavailable (%s); limiting per process", type(exc).__name__)
                limiter = self.fallback
                allowed = limiter.hit(item, scope, key)
            if not allowed:
                reset = limiter.get_window_stats(item, scope, key).reset_time
                retry = max(1, int(reset - time.time()) + 1)
                unit = item.GRANULARITY.name if item.multiples == 1 else f"{item.multiples} {item.GRANULARITY.name}s"
                raise RateLimited(
                    f"too many requests (at most {item.amount} per {unit}); try again in {retry} s",
                    zh=f"{message}（{describe(item)}），请 {retry} 秒后再试",
                    retry_after=retry,
                )

    def login(self) -> None:
        if not self.exempt():
            self.hit(self.config.login_per_ip, "login-ip", client_ip(), "登录尝试过于频繁")

    def public(self, kind: str) -> None:
        """The one gate of every public write (and costly public read): per registered device, else per address
        (staff are not limited)."""
        if kind == "login":
            return self.login()
        caller = _verified_caller(request.headers.get("Authorization", ""))
        if caller == "staff":
            return None
        message = PUBLIC_MESSAGES.get(kind, "操作过于频繁")
        if caller is not None:  # a registered device: its own, larger budget
            rule = self.config.issue_per_device if kind == "issue" else self.config.writes_per_device
            return self.hit(rule, f"{kind}-device", str(caller), "本机" + message)
        if self.exempt():
            return None
        return self.hit(self._per_ip(kind), f"{kind}-ip", client_ip(), message)

    def _per_ip(self, kind: str) -> str:
        if kind == "issue":
            return self.config.issue_per_ip
        return self.config.reads_per_ip if kind == "read" else self.config.writes_per_ip[kind]


PUBLIC_MESSAGES = {
    "issue": "取号过于频繁",
    "holder": "操作过于频繁",
    "rating": "评价过于频繁",
    "remote": "线上取号过于频繁",
    "booking": "预约操作过于频繁",
    "lookup": "查询预约过于频繁",
    "check_in": "签到过于频繁",
    "read": "查询过于频繁",
}


def _verified_caller(header: str) -> str | int | None:
    """ "staff" for a valid staff token or page session, a device id for a valid device token, else None.

    Only a credential that checks out changes the budget: a made-up header counts as anonymous.
    """
    from flask import session as cookie

    from queue_server.db import transaction
    from queue_server.runtime import current
    from queue_server.staff import access

    if not header.startswith(("Bearer ", "Device ")) and not cookie.get(access.STAFF_KEY):
        return None  # anonymous: no database work at all
    try:
        with transaction(current().factory) as s:
            if access.optional_staff(s) is not None:
                return "staff"
            device = access.optional_device(s)
            return device.id if device is not None else None
    except OneWindowError:
        return None
