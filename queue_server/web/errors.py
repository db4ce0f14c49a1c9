"""Every error leaves as JSON {"error": {"code", "message", "message_zh"}}: never an HTML page or a traceback."""

from __future__ import annotations

import logging

from flask import Flask, request
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from queue_server.exceptions import OneWindowError, Unavailable

log = logging.getLogger("onewindow.errors")

# werkzeug's own errors (no route, wrong method, too large…): (English, Chinese); {method} is filled in.
HTTP_MESSAGES = {
    400: ("the request is malformed", "请求格式不正确"),
    401: ("sign in first", "请先登录"),
    403: ("this is not allowed", "没有权限执行此操作"),
    404: ("no such page or resource", "找不到该页面或资源"),
    405: ("{method} is not allowed here", "此处不允许 {method} 请求"),
    406: ("the requested format is not available", "无法提供所请求的格式"),
    408: ("the request took too long", "请求超时"),
    409: ("the request conflicts with the current state", "请求与当前状态冲突"),
    411: ("the request needs a Content-Length", "请求缺少 Content-Length"),
    413: ("the request is too large", "请求内容过大"),
    414: ("the address is too long", "请求地址过长"),
    415: ("send the request body as JSON", "请求内容应为 JSON"),
    429: ("too many requests; wait a moment and try again", "请求过于频繁，请稍后再试"),
    431: ("the request headers are too large", "请求头过大"),
    500: ("the server had a problem; the request was not completed", "服务器出现问题，请求未完成"),
    501: ("this is not implemented", "暂不支持此操作"),
    503: ("the service is busy; try again shortly", "服务暂时不可用，请稍后再试"),
}


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
        known = HTTP_MESSAGES.get(exc.code or 0)
        if known is None:  # a werkzeug error without a line above: its own English, a general Chinese
            return error_body(code, exc.description or exc.name, "请求无法处理"), exc.code
        en, zh = (text.format(method=request.method) for text in known)
        return error_body(code, en, zh), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_body(
            "internal", "the server had a problem; the request was not completed", "服务器出现问题，请求未完成"
        ), 500
