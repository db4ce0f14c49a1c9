"""No input reaches a 500: NUL bytes on PostgreSQL, JSON nested without end, numbers past the database's integers.

Every answer is a JSON error with a code, an English message and a Chinese one, status 4xx.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import requests

from tests.security.test_sessions import csrf_of
from tests.support import PASSWORD, demo_config, login

NUL = "a\x00b"


def refused(r: requests.Response) -> str | None:
    """None for a 4xx JSON error with code, message and message_zh; else what is wrong."""
    try:
        error = r.json()["error"]
    except (ValueError, KeyError, TypeError):
        return f"{r.status_code} not a JSON error: {r.text[:120]!r}"
    if not 400 <= r.status_code < 500:
        return f"{r.status_code}: {error}"
    if not (error.get("code") and error.get("message") and error.get("message_zh")):
        return f"{r.status_code} lacks code, message or message_zh: {error}"
    return None


def with_nul(schema: dict):
    """A value of the property's shape holding a NUL byte, or None when it takes no text."""
    shapes = schema.get("anyOf", [schema])
    if any(s.get("type") == "string" for s in shapes):
        return NUL
    if any(s.get("type") == "array" and s.get("items", {}).get("type") == "string" for s in shapes):
        return [NUL]
    return None


def operations(doc: dict):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


def fill(path: str, op: dict, **values: str) -> str:
    """The path with its parameters: a hall that exists, 1 for numbers, any text elsewhere."""
    ints = {p["name"] for p in op.get("parameters", []) if p["schema"].get("type") == "integer"}

    def value(m: re.Match) -> str:
        name = m.group(1)
        return values.get(name, "1" if name in ints else "erdao" if name == "hall" else "x")

    return re.sub(r"{(\w+)}", value, path)


def test_nul_in_any_string_of_any_endpoint_is_a_4xx_on_postgresql(make_server, pg_url, tmp_path):
    server = make_server(demo_config(pg_url, tmp_path / "data"))
    url = server.url
    doc = requests.get(f"{url}/api/v1/openapi.json", timeout=10).json()
    schemas = doc["components"]["schemas"]
    staff = login(url, "root")
    problems, sent = [], 0

    def check(method: str, path: str, what: str, **kw) -> None:
        nonlocal sent
        sent += 1
        r = requests.request(method, url + path, headers=staff, timeout=10, **kw)
        if (problem := refused(r)) is not None:
            problems.append(f"{method} {path} {what}: {problem}")

    for method, path, op in operations(doc):
        if "requestBody" in op:
            model = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
            for name, prop in schemas[model].get("properties", {}).items():
                value = with_nul(prop)
                if value is not None:
                    check(method, fill(path, op), f"body.{name}", json={name: value})
            check(method, fill(path, op), "a key", json={NUL: 1})
        for param in op.get("parameters", []):
            if param["schema"].get("type") == "string":
                check(method, fill(path, op, **{param["name"]: quote(NUL)}), f"path {param['name']}")
    check("GET", "/api/v1/halls/erdao/stats?from=" + quote(NUL), "query from")
    check("GET", f"/board/{quote(NUL)}", "page path")
    check("POST", "/api/v1/auth/login", "username", json={"username": NUL, "password": PASSWORD})

    page = requests.Session()
    token = csrf_of(page.get(f"{url}/login", timeout=10).text)
    r = page.post(f"{url}/login", data={"csrf_token": token, "username": NUL, "password": PASSWORD}, timeout=10)
    if (problem := refused(r)) is not None:
        problems.append(f"POST /login form username: {problem}")
    assert sent > 100, "every documented endpoint was tried"
    assert not problems, "\n".join(problems)


@pytest.fixture
def running(make_server, db_url, tmp_path):
    """A real server on SQLite and on PostgreSQL in turn."""
    return make_server(demo_config(db_url, tmp_path / "data"))


def test_deep_json_and_unstorable_text_are_4xx(running):
    url = running.url
    deep = "[" * 30_000 + "]" * 30_000
    for path in ("/api/v1/auth/login", "/api/v1/halls/erdao/tickets"):
        r = requests.post(url + path, data=deep, headers={"Content-Type": "application/json"}, timeout=10)
        assert refused(r) is None and r.json()["error"]["code"] == "bad_input", (path, r.text[:200])
    deep_string = '{"service": "' + "[" * 30_000 + '"}'  # brackets inside a string are not nesting
    r = requests.post(
        url + "/api/v1/halls/erdao/tickets", data=deep_string, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert r.status_code == 422, r.text[:200]
    for raw in ('{"username": "\\ud800", "password": "x"}', '{"username": "a\\u0000", "password": "x"}'):
        r = requests.post(
            url + "/api/v1/auth/login", data=raw, headers={"Content-Type": "application/json"}, timeout=10
        )
        assert refused(r) is None, (raw, r.text)


def test_numbers_past_the_database_integers_are_4xx(running):
    url = running.url
    clerk = login(url, "clerk3")
    huge = "99999999999999999999"
    for method, path in (
        ("POST", f"/api/v1/halls/erdao/windows/{huge}/open"),
        ("POST", f"/api/v1/halls/erdao/windows/{2**31}/open"),
        ("GET", f"/api/v1/halls/erdao/windows/{huge}/rating"),
        ("GET", f"/window/erdao/{huge}"),
    ):
        r = requests.request(method, url + path, headers=clerk, timeout=10)
        assert r.status_code == 404 and refused(r) is None, (path, r.text)
    r = requests.post(f"{url}/api/v1/halls/erdao/windows/{2**31 - 1}/open", headers=clerk, timeout=10)
    assert r.status_code == 404, "the largest integer is an ordinary unknown window"
    assert requests.post(f"{url}/api/v1/halls/erdao/windows/3/open", headers=clerk, timeout=10).status_code == 200
    for body in ({"window": int(huge)}, {"window": -int(huge)}):
        r = requests.post(f"{url}/api/v1/halls/erdao/windows/3/transfer", json=body, headers=clerk, timeout=10)
        assert r.status_code == 422 and refused(r) is None, r.text


def test_a_line_break_in_next_signs_in_to_the_role_home(running):
    page = requests.Session()
    token = csrf_of(page.get(f"{running.url}/login", timeout=10).text)
    form = {"csrf_token": token, "username": "clerk3", "password": PASSWORD, "next": "/account\r\nSet-Cookie: x=1"}
    r = page.post(f"{running.url}/login", data=form, allow_redirects=False, timeout=10)
    assert r.status_code == 303 and r.headers["Location"] == "/clerk", r.text[:200]
