"""Input refused at the door when it would break deeper down: NUL bytes, deep JSON, numbers past the database's."""

from __future__ import annotations

import math
import re

from flask import Flask, request

from queue_server.core.text import storable
from queue_server.exceptions import NotFound, OneWindowError, ValidationFailed

MAX_DEPTH = 32  # no request body of this API nests beyond a handful of levels
MAX_INT = 2**31 - 1  # PostgreSQL's integer, the type of every numbered column
_JSON_SYNTAX = re.compile(rb'[\[\]{}"\\]')
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class BadInput(OneWindowError):
    code = "bad_input"
    status = 400


def register(app: Flask) -> None:
    """Check the path, query, form and Authorization header of every request before any view sees them."""
    app.before_request(check_request)


def check_request() -> None:
    """Refuse text the databases cannot store and route numbers no row can have."""
    _text("path", request.path)
    for name, value in request.args.items(multi=True):
        _text(name, name)
        _text(name, value)
    if request.mimetype in FORM_TYPES:  # reading the form of any other body would consume it here
        for name, value in request.form.items(multi=True):
            _text(name, name)
            _text(name, value)
    _text("Authorization", request.headers.get("Authorization", ""))
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and value > MAX_INT:
            raise NotFound(f"no {name} numbered {value}", zh=f"{name} {value} 不存在", field=name)


def check_nesting(raw: bytes) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH before it is parsed (the parser recurses once per level)."""
    depth, in_string, skip = 0, False, -1
    for match in _JSON_SYNTAX.finditer(raw):
        at = match.start()
        if at == skip:  # the character after a backslash inside a string
            continue
        char = raw[at : at + 1]
        if in_string:
            if char == b"\\":
                skip = at + 1
            elif char == b'"':
                in_string = False
        elif char == b'"':
            in_string = True
        elif char in (b"[", b"{"):
            depth += 1
            if depth > MAX_DEPTH:
                raise BadInput(
                    f"the JSON nests deeper than {MAX_DEPTH} levels", zh=f"JSON 嵌套超过 {MAX_DEPTH} 层", field="body"
                )
        elif char in (b"]", b"}"):
            depth -= 1


def check_json(value: object, path: str = "body") -> None:
    """Refuse strings the databases cannot store and numbers beyond their integers, anywhere in parsed JSON."""
    if isinstance(value, str):
        _text(path, value)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int) and abs(value) > MAX_INT:
        raise ValidationFailed(
            f"{path}: the number is out of range (at most {MAX_INT})",
            zh=f"字段 {path} 的数值超出范围（最大 {MAX_INT}）",
            field=path,
        )
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValidationFailed(f"{path}: the number must be finite", zh=f"字段 {path} 必须是有限的数", field=path)
    elif isinstance(value, dict):
        for key, item in value.items():
            _text(path, key)
            check_json(item, key if path == "body" else f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_json(item, f"{path}.{i}")


def _text(field: str, value: str) -> None:
    if not storable(value):
        raise BadInput(
            f"{field}: contains a NUL byte or an unpaired surrogate, which cannot be stored",
            zh=f"{field} 含有无法保存的字符（NUL 或不成对的代理项）",
            field=field,
        )
