"""Device agents on the socket (no Flask): who an agent is, its print-job exchanges, its printer's state.

The handlers in realtime/sockets.py call these with the device of the connection and publish the
returned events after the commit: `print_job` for each job that changed, `printer_status` when the
kiosk's printer changed state, to the hall's room (never a ticket's id).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from printer import offers
from queue_server.db import transaction
from queue_server.exceptions import Unauthorized, ValidationFailed
from queue_server.models import Device
from queue_server.realtime.events import Event, hall_room
from queue_server.staff import devices

MAX_IDS = 50


def hello(factory: sessionmaker[Session], device_id: int) -> dict:
    """Who the agent is: its device, hall and kind, and whether it prints the kiosk's tickets."""
    with transaction(factory) as session:
        device = _device(session, device_id)
        return {"device": device.name, "hall": device.hall.code, "kind": device.kind, "agent": bool(device.agent)}


def exchange(factory: sessionmaker[Session], device_id: int, data: object, now: datetime) -> tuple[dict, list[Event]]:
    """One exchange with an agent kiosk: acknowledgements and failures in, printer state kept, next jobs out."""
    printed, failed, take, hello_, status = _read(data)
    with transaction(factory) as session:
        device = _device(session, device_id)
        if not device.agent:
            raise ValidationFailed(
                f"device {device.name} does not print through its agent; register it with "
                "queue-server device add NAME --hall CODE --kind kiosk --agent",
                zh=f"设备 {device.name} 未登记为通过本机程序打印的取号机",
            )
        devices.seen(device, now)  # an agent that keeps asking is online on the devices page
        done = offers.exchange(session, device, now, printed=printed, failed=failed, take=take, hello=hello_)
        events = [_job_event(job, device) for job in done.changed]
        if status is not None and offers.report_status(session, device, *status, now):
            events.append(_status_event(device))
        reply: dict = {"jobs": done.offers}
        if status is None and offers.marked_gone(device):
            # a disconnect noticed after this agent was back (late, or by another process): ask again
            reply["report"] = True
        return reply, events


def gone(factory: sessionmaker[Session], device_id: int, now: datetime) -> list[Event]:
    """The agent disconnected: its kiosk cannot print until it is back."""
    with transaction(factory) as session:
        device = session.get(Device, device_id)
        if device is None or not device.agent:
            return []
        gone_ = offers.AGENT_GONE
        if not offers.report_status(session, device, gone_["state"], gone_["detail"], now):
            return []
        return [_status_event(device)]


def _device(session: Session, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None or not device.active:
        raise Unauthorized("this device was revoked", zh="此设备已被停用")
    return device


def _job_event(job: dict, device: Device) -> Event:
    public = {k: v for k, v in job.items() if k != "ticket_id"}  # the hall's room never carries a ticket id
    return ("print_job", {**public, "hall": device.hall.code}, hall_room(device.hall.code))


def _status_event(device: Device) -> Event:
    payload = {
        "printer": device.name,
        "device": device.name,
        "hall": device.hall.code,
        "state": device.printer_state,
        "detail": device.printer_detail,
    }
    return ("printer_status", payload, hall_room(device.hall.code))


def _read(data: object) -> tuple[list[int], list[dict], int, bool, tuple[str, str] | None]:
    """The agent's message, checked: {"printed": [id], "failed": [{"id", "error"}], "take", "hello", "status"?}."""
    if not isinstance(data, dict):
        raise _bad("send an object with printed, failed and take")
    printed, failed = data.get("printed", []), data.get("failed", [])
    if not isinstance(printed, list) or len(printed) > MAX_IDS or not all(_is_id(i) for i in printed):
        raise _bad(f"printed must be a list of at most {MAX_IDS} job ids", "printed")
    if not isinstance(failed, list) or len(failed) > MAX_IDS:
        raise _bad(f"failed must be a list of at most {MAX_IDS} failures", "failed")
    failures = []
    for f in failed:
        if not isinstance(f, dict) or not _is_id(f.get("id")) or not isinstance(f.get("error"), str):
            raise _bad('each failure is {"id": job id, "error": text}', "failed")
        failures.append({"id": f["id"], "error": f["error"][:500]})
    take = data.get("take", 0)
    if not isinstance(take, int) or isinstance(take, bool) or not 0 <= take <= offers.MAX_TAKE:
        raise _bad(f"take must be a whole number from 0 to {offers.MAX_TAKE}", "take")
    status = data.get("status")
    if status is not None:
        if not isinstance(status, dict) or not isinstance(status.get("state"), str):
            raise _bad('status is {"state": text, "detail": text}', "status")
        status = (status["state"][:16], str(status.get("detail") or "")[:200])
    return printed, failures, take, bool(data.get("hello")), status


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63


def _bad(message: str, field: str | None = None) -> ValidationFailed:
    return ValidationFailed(message, zh="本机程序发送的消息格式不正确", field=field)
