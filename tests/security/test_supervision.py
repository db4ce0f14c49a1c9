"""Supervisors: out-of-order calls with reason codes, force-close, move, reprint; all in the ticket history."""

from __future__ import annotations

from sqlalchemy import select

from queue_server.models import StaffUser, Ticket, TicketEvent
from tests.support import bearer


def test_supervisor_tools_and_their_history(make_app):
    app = make_app()
    client = app.test_client()
    clerk, boss = bearer(client, "clerk3"), bearer(client, "boss")
    api = "/api/v1/halls/erdao"
    for service in ("QY001", "QY001", "SB001"):
        client.post(f"{api}/tickets", json={"service": service, "print": False})
    assert client.post(f"{api}/windows/3/open", headers=clerk).status_code == 200
    r = client.post(f"{api}/windows/3/call", headers=clerk, json={"number": "A002", "reason_code": "bogus"})
    assert r.status_code == 422
    r = client.post(
        f"{api}/windows/3/call", headers=clerk, json={"number": "A002", "reason_code": "priority", "reason": "elderly"}
    )
    assert r.status_code == 200
    calls = client.get(f"{api}/out-of-order-calls", headers=boss).get_json()
    assert [(c["number"], c["user"], c["reason_code"], c["reason"], c["window"]) for c in calls["calls"]] == [
        ("A002", "clerk3", "priority", "elderly", 3)
    ]
    assert client.get(f"{api}/out-of-order-calls", headers=clerk).status_code == 403
    assert client.get(f"{api}/out-of-order-calls?date=2000-01-01", headers=boss).get_json()["calls"] == []
    assert client.get(f"{api}/out-of-order-calls?date=junk", headers=boss).status_code == 422

    assert client.post(f"{api}/windows/3/force-close", headers=clerk).status_code == 403
    r = client.post(f"{api}/windows/3/force-close", headers=boss)
    assert r.status_code == 200 and r.get_json()["status"] == "waiting"
    r = client.post(f"{api}/tickets/A001/move", headers=boss, json={"window": 5})
    assert r.status_code == 200 and r.get_json()["target_window"]["number"] == 5
    assert client.post(f"{api}/tickets/A001/move", headers=clerk, json={"window": 5}).status_code == 403

    with app.extensions["onewindow"].factory() as s:
        users = {u.id: u.username for u in s.scalars(select(StaffUser))}
        history = [
            (e.action, users.get(e.user_id))
            for e in s.scalars(
                select(TicketEvent).join(Ticket, Ticket.pk == TicketEvent.ticket_pk).order_by(TicketEvent.id)
            )
        ]
    assert ("call", "clerk3") in history and ("transfer", "boss") in history
    assert sum(1 for action, user in history if action == "transfer" and user == "boss") == 2
    assert all(user is not None for action, user in history if action != "issue"), "every staff action has its user"
