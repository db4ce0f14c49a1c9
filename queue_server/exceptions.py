"""Named errors raised inside the server; the HTTP layer turns each into a JSON error."""

from __future__ import annotations


class OneWindowError(Exception):
    """Base class: every error has a stable code, an HTTP status and a human message."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, zh: str | None = None, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.zh = zh  # the same message in Chinese, shown first on zh-CN pages
        self.details = details


class ConfigError(OneWindowError):
    code = "config_error"


class NotFound(OneWindowError):
    code = "not_found"
    status = 404


class ValidationFailed(OneWindowError):
    code = "validation_error"
    status = 422


class IllegalTransition(OneWindowError):
    code = "illegal_transition"
    status = 409


class Conflict(OneWindowError):
    code = "conflict"
    status = 409


class Unauthorized(OneWindowError):
    code = "unauthorized"
    status = 401


class Forbidden(OneWindowError):
    code = "forbidden"
    status = 403


class ImportFailed(OneWindowError):
    code = "import_failed"


class Unavailable(OneWindowError):
    code = "unavailable"
    status = 503


class RateLimited(OneWindowError):
    code = "rate_limited"
    status = 429
