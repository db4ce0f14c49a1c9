"""Request rate limits (Flask-Limiter; Redis storage when configured, memory otherwise)."""

from __future__ import annotations

import logging
import time

from flask import Flask
from flask_limiter import Limiter
from limits import RateLimitItem, parse_many

from .access import client_ip, proxied
from .config import Settings
from .exceptions import OneWindowError

log = logging.getLogger("onewindow.ratelimit")
KEY_PREFIX = "onewindow-limits"


class RateLimited(OneWindowError):
    code = "rate_limited"
    status = 429


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

    def exempt(self) -> bool:
        return client_ip() in self.config.exempt_ips and not proxied()

    def hit(self, rule: str, scope: str, key: str, message: str) -> None:
        """Count one request for (scope, key); RateLimited with a Chinese message when over the rule."""
        if not self.config.enabled:
            return
        for item in parse_many(rule):
            try:
                allowed = self.limiter.limiter.hit(item, scope, key)
            except Exception as exc:  # noqa: BLE001 - a storage outage must not stop the hall
                log.warning("rate limit storage unavailable (%s); request allowed", type(exc).__name__)
                return
            if not allowed:
                reset = self.limiter.limiter.get_window_stats(item, scope, key).reset_time
                retry = max(1, int(reset - time.time()) + 1)
                raise RateLimited(f"{message}（{describe(item)}），请 {retry} 秒后再试", retry_after=retry)

    def issue(self, device_id: int | None) -> None:
        """Ticket issuance: per registered device, otherwise per caller IP."""
        if device_id is not None:
            self.hit(self.config.issue_per_device, "issue-device", str(device_id), "本机取号过于频繁")
        elif not self.exempt():
            self.hit(self.config.issue_per_ip, "issue-ip", client_ip(), "取号过于频繁")

    def login(self) -> None:
        if not self.exempt():
            self.hit(self.config.login_per_ip, "login-ip", client_ip(), "登录尝试过于频繁")
