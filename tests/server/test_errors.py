"""Every error is JSON with a code and a message, with the promised status, and changes nothing."""

from __future__ import annotations

import pytest
import requests
import socketio

from tests.support import Listener, login


def check_error(r: requests.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    error = r.json()["error"]
    assert error["message"] and "Traceback" not in error["message"]
    if code:
        assert error["code"] == code
    return error


def test_error_cases(server):
    url = server.url
    api = url + "/api/v1"
    check_error(requests.get(f"{api}/halls/nowhere/board", timeout=5), 404, "not_found")
    check_error(requests.get(f"{api}/tickets/not-a-ticket", timeout=5), 404, "not_found")
    check_error(requests.get(f"{url}/no/such/page", timeout=5), 404)
    check_error(requests.post(f"{api}/halls/erdao/tickets", json={"service": "NOPE"}, timeout=5), 404)
    check_error(requests.delete(f"{api}/halls", timeout=5), 405)

    bad_json = requests.post(
        f"{api}/halls/erdao/tickets", data="{not json", timeout=5, headers={"Content-Type": "application/json"}
    )
    check_error(bad_json, 400, "bad_json")
    error = check_error(requests.post(f"{api}/halls/erdao/tickets", json={"service": 7}, timeout=5), 422)
    assert error["field"] == "service"
    error = check_error(requests.post(f"{api}/halls/erdao/tickets", json={"service": "QY001", "x": 1}, timeout=5), 422)
    assert error["field"] == "x"
    error = check_error(
        requests.post(f"{api}/halls/erdao/tickets", json={"service": "QY001", "channel": "fax"}, timeout=5), 422
    )
    assert error["field"] == "channel"
    check_error(requests.post(f"{api}/halls/erdao/tickets", data="x" * 100_000, timeout=5), 413)

    ticket = requests.post(f"{api}/halls/erdao/tickets", json={"service": "QY001"}, timeout=5).json()
    error = check_error(requests.post(f"{api}/tickets/{ticket['id']}/evaluation", json={"score": 5}, timeout=5), 409)
    assert error["status"] == "waiting", "an illegal transition names the current status"
    check_error(requests.post(f"{api}/tickets/{ticket['id']}/evaluation", json={"score": 9}, timeout=5), 422)

    window = f"{api}/halls/erdao/windows/3"
    check_error(requests.post(f"{window}/open", timeout=5), 401, "unauthorized")
    check_error(requests.post(f"{window}/open", headers={"Authorization": "Bearer forged.token"}, timeout=5), 401)
    clerk3, clerk4 = login(url, "clerk3"), login(url, "clerk4")
    assert requests.post(f"{window}/open", headers=clerk3, timeout=5).status_code == 200
    check_error(requests.post(f"{window}/call-next", headers=clerk4, timeout=5), 403, "forbidden")
    street = login(url, "street1")
    check_error(requests.post(f"{api}/halls/erdao/windows/5/open", headers=street, timeout=5), 403)
    check_error(requests.post(f"{api}/halls/erdao/windows/99/open", headers=clerk3, timeout=5), 404)
    check_error(requests.post(f"{window}/dance", headers=clerk3, timeout=5), 404)
    check_error(requests.post(f"{window}/start", headers=clerk3, timeout=5), 409)
    check_error(requests.post(f"{window}/call", headers=clerk3, json={"number": "A001"}, timeout=5), 422)
    check_error(requests.post(f"{api}/auth/login", json={"username": "clerk3", "password": "wrong"}, timeout=5), 401)

    # None of the rejected calls changed anything: one ticket, still waiting, window 3 free.
    board = requests.get(f"{api}/halls/erdao/board", timeout=5).json()
    assert sum(q["waiting"] for q in board["queues"]) == 1
    assert requests.get(f"{api}/tickets/{ticket['id']}", timeout=5).json()["status"] == "waiting"
    assert next(w for w in board["windows"] if w["number"] == 3)["ticket"] is None


def test_logout_revokes_tokens(server):
    clerk = login(server.url, "clerk3")
    assert requests.post(f"{server.url}/api/v1/auth/logout", headers=clerk, timeout=5).status_code == 204
    check_error(requests.post(f"{server.url}/api/v1/halls/erdao/windows/3/open", headers=clerk, timeout=5), 401)


def test_socket_errors_do_not_break_the_connection(server):
    with pytest.raises(socketio.exceptions.ConnectionError):
        Listener(server.url, token="forged-token", reconnection=False).connect()
    bystander = Listener(server.url, {"hall": "erdao"}).connect()
    bystander.wait_for("board")
    client = Listener(server.url).connect()
    for bad in (None, 42, "hall", {"hall": 5}, {"ticket": ["x"]}, {"hall": "x" * 20_000}, {"hall": "nowhere"}):
        client.sio.emit("subscribe", bad)
        assert client.wait_for("error")["code"] in ("error", "not_found")
    client.sio.emit("no_such_event", {"a": 1})
    client.sio.emit("subscribe", {"hall": "erdao"})
    assert client.wait_for("board")["hall"]["code"] == "erdao"
    # A message over the size limit drops only the sender's connection.
    client.sio.emit("subscribe", {"hall": "x" * 200_000})
    requests.post(f"{server.url}/api/v1/halls/erdao/tickets", json={"service": "QY001"}, timeout=5)
    assert bystander.wait_for("ticket_issued")["number"] == "A001"
    assert bystander.connects == 1
    client.close()
    bystander.close()


def test_openapi_document_describes_the_contract(server):
    doc = requests.get(server.url + "/api/v1/openapi.json", timeout=5).json()
    paths = doc["paths"]
    for path in (
        "/api/v1/halls",
        "/api/v1/halls/{hall}/services",
        "/api/v1/halls/{hall}/tickets",
        "/api/v1/tickets/{ticket_id}",
        "/api/v1/tickets/{ticket_id}/cancel",
        "/api/v1/tickets/{ticket_id}/evaluation",
        "/api/v1/halls/{hall}/board",
        "/api/v1/halls/{hall}/windows/{window}/{action}",
        "/api/v1/auth/login",
    ):
        assert path in paths
    issue = paths["/api/v1/halls/{hall}/tickets"]["post"]
    body = doc["components"]["schemas"]["IssueRequest"]
    assert issue["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("IssueRequest")
    assert body["required"] == ["service"] and body["additionalProperties"] is False
    ticket = doc["components"]["schemas"]["TicketResponse"]
    for field in (
        "id",
        "number",
        "hall",
        "service",
        "queue",
        "status",
        "channel",
        "priority",
        "issued_at",
        "called_at",
        "window",
        "ahead",
        "estimated_wait",
    ):
        assert field in ticket["properties"]
    assert "security" in paths["/api/v1/halls/{hall}/windows/{window}/{action}"]["post"]
