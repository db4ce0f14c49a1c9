"""An agent kiosk's print jobs on the server, on both databases: what its agent is offered."""

from __future__ import annotations

from sqlalchemy import select

from printer import offers
from printer.spool import Spooler
from queue_server import clock
from queue_server.db import transaction
from queue_server.models import Device, PrintJob
from queue_server.printing import print_payload
from queue_server.staff.devices import add_device
from queue_server.tickets import service as tickets
from queue_server.tickets import snapshots


def queue_job(hall, device_name: str) -> int:
    """A ticket issued at the agent kiosk while its agent is away: its print job waits."""
    ticket = hall.issue("QY001")
    with transaction(hall.factory) as s:
        t = tickets.get_ticket(s, ticket.id)
        device = s.scalar(select(Device).where(Device.name == device_name))
        payload = print_payload(t.hall, t, snapshots.ticket_full(s, t), "http://hall.example", False)
        return Spooler(hall.factory, {}).enqueue(s, device.name, payload, t.id, device.id).id


def exchange(hall, device_name: str, **kw) -> offers.Exchange:
    with transaction(hall.factory) as s:
        device = s.scalar(select(Device).where(Device.name == device_name))
        return offers.exchange(s, device, clock.now(), printed=[], failed=[], take=5, **kw)


def test_a_job_of_an_earlier_day_is_not_printed_when_the_agent_comes_back(hall, fake_clock):
    with transaction(hall.factory) as s:
        add_device(s, "kiosk-a", hall.code, "kiosk", agent=True)
    yesterday = queue_job(hall, "kiosk-a")
    fake_clock.advance(days=1)  # the kiosk PC was off all night
    today = queue_job(hall, "kiosk-a")
    done = exchange(hall, "kiosk-a", hello=True)
    assert [o["id"] for o in done.offers] == [today], "a ticket is valid on its day: yesterday's is not printed"
    with hall.factory() as s:
        old = s.get(PrintJob, yesterday)
        assert old.state == "failed" and "earlier day" in old.last_error
    assert {j["id"]: j["state"] for j in done.changed}[yesterday] == "failed", "the hall's screens are told"
