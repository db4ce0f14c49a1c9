"""Routes declared with their schemas: requests are validated by, and the OpenAPI document built from, the same models."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps

from flask import Blueprint, request
from pydantic import BaseModel, ValidationError
from werkzeug.exceptions import RequestEntityTooLarge

from queue_server.core.field_errors import describe
from queue_server.exceptions import OneWindowError, ValidationFailed
from queue_server.web.inputs import MAX_INT, check_json, check_nesting
from queue_server.web.schemas import ErrorResponse


class BadJSON(OneWindowError):
    code = "bad_json"
    status = 400


@dataclass
class RouteDoc:
    rule: str
    method: str
    summary: str
    body: type[BaseModel] | None
    responses: dict[int, type[BaseModel] | None]
    auth: bool
    tag: str
    params: list[str] = field(default_factory=list)
    limit: str | None = None


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The request's JSON validated by `model`; 400 for non-JSON, 422 naming the field for bad values."""
    raw = request.get_data(cache=True)
    limit = request.max_content_length  # the app's limit, or a route's own (catalog import)
    if limit is not None and len(raw) >= limit:  # a chunked body has no length to refuse it by up front
        raise RequestEntityTooLarge()
    if not raw.strip():
        data: object = {}
    else:
        check_nesting(raw)
        data = request.get_json(silent=True)
        if data is None:
            raise BadJSON(
                "the request body is not valid JSON (send Content-Type: application/json)", zh="请求内容不是有效的 JSON"
            )
        check_json(data)
    if not isinstance(data, dict):
        raise BadJSON("the request body must be a JSON object", zh="请求内容必须是 JSON 对象")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        path, message, zh = describe(exc.errors()[0])
        raise ValidationFailed(message, zh=zh, field=path) from None


class Api:
    """Registers views on a blueprint and remembers their schemas for /openapi.json."""

    every: list[Api] = []  # one OpenAPI document covers the routes of every blueprint

    def __init__(self, blueprint: Blueprint, prefix: str) -> None:
        self.blueprint, self.prefix, self.routes = blueprint, prefix, []
        Api.every.append(self)

    def route(
        self,
        rule: str,
        method: str,
        *,
        summary: str,
        body: type[BaseModel] | None = None,
        responses: dict[int, type[BaseModel] | None] | None = None,
        auth: bool = False,
        tag: str = "public",
        limit: str | None = None,
    ) -> Callable:
        """Declare a route; every public write names its rate limit (`limit=`), checked before anything else."""
        if method.upper() != "GET" and not auth and limit is None:
            raise TypeError(f"{method} {rule} is a public write: give it limit=<kind> (see ratelimit.PUBLIC_PER_IP)")

        def decorate(fn: Callable) -> Callable:
            params = re.findall(r"<(?:\w+:)?(\w+)>", rule)
            self.routes.append(
                RouteDoc(rule, method.lower(), summary, body, responses or {200: None}, auth, tag, params, limit)
            )

            @wraps(fn)
            def view(**kwargs):
                if limit is not None:
                    from queue_server.runtime import current

                    current().limits.public(limit)
                if body is not None:
                    kwargs["body"] = parse_body(body)
                return fn(**kwargs)

            self.blueprint.add_url_rule(rule, f"{fn.__name__}", view, methods=[method])
            return fn

        return decorate

    def document(self, title: str, version: str) -> dict:
        """The OpenAPI 3.1 document of every route of every Api (all share one prefix)."""
        schemas: dict[str, dict] = {}
        paths: dict[str, dict] = {}

        def ref(model: type[BaseModel]) -> dict:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in schema.pop("$defs", {}).items():
                schemas[name] = sub
            schemas[model.__name__] = schema
            return {"$ref": f"#/components/schemas/{model.__name__}"}

        error = ref(ErrorResponse)
        for r in (route for one in Api.every for route in one.routes):
            path = self.prefix + re.sub(r"<(?:(\w+):)?(\w+)>", r"{\2}", r.rule)
            op: dict = {"summary": r.summary, "tags": [r.tag], "operationId": f"{r.method}_{r.rule}", "responses": {}}
            int_params = set(re.findall(r"<int:(\w+)>", r.rule))
            if r.params:
                op["parameters"] = [
                    {
                        "name": p,
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_INT}
                        if p in int_params
                        else {"type": "string"},
                    }
                    for p in r.params
                ]
            if r.body is not None:
                op["requestBody"] = {"required": False, "content": {"application/json": {"schema": ref(r.body)}}}
            for status, model in r.responses.items():
                entry: dict = {"description": "OK" if status < 300 else "error"}
                if model is not None:
                    entry["content"] = {"application/json": {"schema": ref(model)}}
                op["responses"][str(status)] = entry
            codes = ["400", "404", "422", "503"] + (["401", "403", "409"] if r.auth else ["409"])
            for code in codes:
                op["responses"].setdefault(
                    code, {"description": "error", "content": {"application/json": {"schema": error}}}
                )
            if r.auth:
                op["security"] = [{"bearer": []}]
            paths.setdefault(path, {})[r.method] = op
        return {
            "openapi": "3.1.0",
            "info": {"title": title, "version": version},
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        }
