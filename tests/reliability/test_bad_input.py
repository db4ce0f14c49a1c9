"""Bad input from anybody: generated requests over every documented endpoint, odd Socket.IO connects.

Subscribe payloads of the wrong type, huge strings, unknown events and oversized messages are
covered in tests/server/test_errors.py; this adds the property-based run over the OpenAPI
document, malformed connect credentials, and request bodies too large in every form.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
import socketio
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.support import STAFF, Listener, ServerProcess, demo_config, login, prepare, write_config

EXAMPLES = 10  # per operation: bounded so the run stays short in CI


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("schema")
    raw = demo_config(f"sqlite:///{tmp}/onewindow.sqlite3", tmp / "data")
    raw["printers"] = [{"name": "kiosk-erdao-1", "hall": "erdao", "type": "dummy", "paper_mm": 80}]
    prepare(raw, STAFF)
    server = ServerProcess(write_config(tmp / "server.yaml", raw)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_schema(api_server):
    return schemathesis.openapi.from_url(f"{api_server.url}/api/v1/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module")
def clerk(api_server):
    return login(api_server.url, "clerk3")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_endpoint_answers_by_its_schema_and_never_with_5xx(case, api_server, clerk):
    # A real staff token, so generated window actions reach the handlers and not only the 401 check.
    headers = clerk if case.operation.path.startswith("/api/v1/halls/{hall}/windows") else None
    case.call_and_validate(
        base_url=api_server.url,
        headers=headers,
        checks=[checks.not_a_server_error, checks.response_schema_conformance, checks.content_type_conformance],
    )


def test_odd_connect_credentials_are_refused_without_harming_others(api_server):
    bystander = Listener(api_server.url, {"hall": "erdao"}).connect()
    bystander.wait_for("board")
    accepted = []
    for auth in ({"token": 5}, {"token": ["a"]}, {"token": "x" * 60_000}, {"token": "a.b.c"}, {"nothing": True}):
        client = socketio.Client(reconnection=False)
        try:
            client.connect(api_server.url, auth=auth, transports=["websocket"], wait_timeout=10)
            accepted.append(auth)
        except socketio.exceptions.ConnectionError:
            pass
        finally:
            client.disconnect()
    assert accepted == [{"nothing": True}], "only a client without a token gets in, as an anonymous one"
    r = requests.post(
        f"{api_server.url}/api/v1/halls/erdao/tickets", json={"service": "QY001", "print": False}, timeout=10
    )
    assert bystander.wait_for("ticket_issued", lambda t: t["number"] == r.json()["number"])
    assert bystander.connects == 1
    bystander.close()


@pytest.mark.parametrize("form", ["declared", "chunked", "form-data"])
def test_oversized_request_bodies_are_refused(api_server, form):
    url = f"{api_server.url}/api/v1/halls/erdao/tickets"
    big = b'{"service": "' + b"Q" * 200_000 + b'"}'
    if form == "declared":
        r = requests.post(url, data=big, headers={"Content-Type": "application/json"}, timeout=10)
    elif form == "chunked":  # no Content-Length: the limit still applies while reading
        r = requests.post(
            url,
            data=iter([big[i : i + 8192] for i in range(0, len(big), 8192)]),
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
    else:
        r = requests.post(url, files={"file": ("a.bin", big)}, timeout=10)
    # A chunked body is read with the same limit (app.chunked_input marks it terminated for Werkzeug).
    assert r.status_code == 413, r.text[:200]
    assert r.json()["error"]["code"]
    assert requests.get(f"{api_server.url}/healthz", timeout=10).status_code == 200
