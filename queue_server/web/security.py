"""Secure defaults for every response: headers, page-session cookie, proxies, CORS (off unless listed)."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

from queue_server.config import Settings
from queue_server.exceptions import OneWindowError, RateLimited
from queue_server.staff.auth import LockedOut
from queue_server.web.errors import error_body

# JSON and other non-page answers load nothing; pages set their own, wider policy.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
CORS_METHODS = "GET, POST, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type"


def register(app: Flask, settings: Settings) -> None:
    """Cookie flags, proxy handling, security headers, CORS and Retry-After on 429 answers."""
    server = settings.server
    app.config.update(
        SESSION_COOKIE_NAME="onewindow_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=server.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=server.token_ttl_hours),
        MAX_FORM_MEMORY_SIZE=16 * 1024,
        MAX_FORM_PARTS=50,
    )
    if server.trusted_proxies:
        n = server.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    origins = set(server.cors_origins)

    @app.before_request
    def preflight():
        if request.method == "OPTIONS" and request.path.startswith("/api/"):
            return _cors(Response(status=204), origins)
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        h = response.headers
        h.setdefault("Content-Security-Policy", API_CSP)
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        # Ticket ids are credentials in the URL (/t/<id>): never hand them to another site.
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.path.startswith("/api/"):
            h.setdefault("Cache-Control", "no-store")
            _cors(response, origins)
        return response

    def too_many(exc: OneWindowError):
        response = app.json.response(error_body(exc.code, exc.message, exc.zh, **exc.details))
        response.status_code = exc.status
        retry = exc.details.get("retry_after")
        if isinstance(retry, int):
            response.headers["Retry-After"] = str(retry)
        return response

    app.register_error_handler(RateLimited, too_many)
    app.register_error_handler(LockedOut, too_many)


def _cors(response: Response, origins: set[str]) -> Response:
    origin = request.headers.get("Origin")
    if origin and origin in origins:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = CORS_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers.add("Vary", "Origin")
    return response
