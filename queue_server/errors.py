"""Every error leaves as JSON {"error": {"code", "message"}}: never an HTML page or a traceback."""

from __future__ import annotations

import logging

from flask import Flask, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from .exceptions import OneWindowError, Unavailable

log = logging.getLogger("onewindow.errors")


def error_body(code: str, message: str, zh: str | None = None, **details: object) -> dict:
    body: dict = {"code": code, "message": message}
    if zh:
        body["message_zh"] = zh
    body.update({k: v for k, v in details.items() if isinstance(v, str | int | float | bool)})
    return {"error": body}


def register(app: Flask) -> None:
    @app.errorhandler(OneWindowError)
    def named(exc: OneWindowError):
        if isinstance(exc, Unavailable):
            log.warning("%s %s: %s", request.method, request.path, exc.message)
            # Kiosks, pages and proxies may retry on their own after this many seconds.
            return error_body(exc.code, exc.message, exc.zh, **exc.details), exc.status, {"Retry-After": "2"}
        return error_body(exc.code, exc.message, exc.zh, **exc.details), exc.status

    @app.errorhandler(IntegrityError)
    def integrity(exc: IntegrityError):
        log.info("integrity conflict on %s %s", request.method, request.path)
        return error_body(
            "conflict",
            "the request conflicts with the stored data; reload and try again",
            "与已保存的数据冲突，请刷新后重试",
        ), 409

    @app.errorhandler(HTTPException)
    def http(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        messages = {
            404: "no such page or resource",
            405: f"{request.method} is not allowed here",
            413: "the request is too large",
        }
        return error_body(code, messages.get(exc.code or 0, exc.description or exc.name)), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_body("internal", "the server had a problem; the request was not completed"), 500
