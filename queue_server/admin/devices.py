"""Administration of a hall's devices (kiosk, board, window screen, rating screen) and its printers' status."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server import clock
from queue_server.admin.service import Outcome, record
from queue_server.exceptions import NotFound
from queue_server.models import Device, Hall
from queue_server.staff import devices
from queue_server.staff.permissions import check_manages

# A device notes itself at most once a minute while it uses the API; three missed minutes is offline.
ONLINE_WITHIN = timedelta(minutes=3)


def device_view(device: Device) -> dict:
    seen = device.last_seen_at
    online = device.active and seen is not None and clock.now() - seen <= ONLINE_WITHIN
    return {**devices.device_brief(device), "online": online}


def hall_printers(settings, hall: Hall) -> list[str]:
    """The printers config.yaml gives this hall."""
    return [p.name for p in settings.printers if p.hall == hall.code]


def list_devices(session: Session, hall: Hall, settings, spooler) -> dict:
    """The hall's devices (online or not, last seen) and its printers with their status (agent kiosks' too)."""
    printers = (
        spooler.printers_of(hall.code, session)
        if spooler
        else [{"name": n, "state": "unknown", "detail": ""} for n in hall_printers(settings, hall)]
    )
    return {"devices": [device_view(d) for d in devices.list_devices(session, hall.id)], "printers": printers}


def add(session: Session, user, hall: Hall, body: dict, printers: list[str]) -> Outcome:
    """Register a device of this hall; its token is returned once and stored only hashed."""
    check_manages(user, hall)
    device, token = devices.add_device(
        session,
        str(body.get("name") or "").strip(),
        hall.code,
        str(body.get("kind") or ""),
        printer=body.get("printer") or None,
        window=body.get("window"),
        hall_printers=printers,
        agent=bool(body.get("agent")),
    )
    record(
        session,
        user,
        hall.id,
        "device",
        device.name,
        "create",
        {
            "kind": [None, device.kind],
            "window": [None, device.window_number],
            "printer": [None, device.printer],
            "agent": [None, device.agent],
        },
    )
    return Outcome({**device_view(device), "token": token})


def revoke(session: Session, user, hall: Hall, name: str) -> Outcome:
    """The device's token stops working at once."""
    check_manages(user, hall)
    device = session.scalar(select(Device).where(Device.name == name, Device.hall_id == hall.id))
    if device is None:
        raise NotFound(f"no device {name!r} in hall {hall.code}", zh=f"大厅 {hall.code} 没有设备 {name}", device=name)
    device.active = False
    record(session, user, hall.id, "device", name, "revoke", {"active": [True, False]})
    return Outcome(device_view(device))
