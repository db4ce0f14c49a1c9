"""Registered hall devices (kiosk, board, window screen, rating pad) and their tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server import clock
from queue_server.exceptions import Conflict, NotFound, Unauthorized, ValidationFailed
from queue_server.halls import get_hall
from queue_server.models import Device, Window

KINDS = ("kiosk", "board", "window", "rating")
TOKEN_PREFIX = "owd_"
SEEN_EVERY = timedelta(seconds=60)  # last_seen is written at most this often per device


def token_hash(token: str) -> str:
    """The stored form of a device token: its SHA-256 (the token has 256 random bits)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_device(
    session: Session,
    name: str,
    hall_code: str,
    kind: str,
    *,
    printer: str | None = None,
    window: int | None = None,
    hall_printers: list[str] | None = None,
    agent: bool = False,
) -> tuple[Device, str]:
    """Register a device; returns it with its token, which is shown once and stored only hashed."""
    if kind not in KINDS:
        raise ValidationFailed(
            f"kind must be one of {', '.join(KINDS)}", zh=f"设备类型只能是 {', '.join(KINDS)} 之一", field="kind"
        )
    if not name or len(name) > 64:
        raise ValidationFailed(
            "the device name must have 1 to 64 characters", zh="设备名称应为 1 到 64 个字符", field="name"
        )
    hall = get_hall(session, hall_code)
    if session.scalar(select(Device).where(Device.name == name)) is not None:
        raise Conflict(
            f"a device named {name!r} already exists; choose another name",
            zh=f"设备 {name} 已存在，请换一个名称",
            field="name",
        )
    if printer is not None:
        if kind != "kiosk":
            raise ValidationFailed("only a kiosk has a printer", zh="只有取号机可以连接打印机", field="printer")
        if hall_printers is not None and printer not in hall_printers:
            raise ValidationFailed(
                f"hall {hall.code} has no printer {printer!r}; use one of {', '.join(hall_printers) or 'none'}",
                zh=f"大厅 {hall.code} 没有打印机 {printer}；可用的打印机：{'、'.join(hall_printers) or '无'}",
                field="printer",
            )
    if agent and kind != "kiosk":
        raise ValidationFailed(
            "only a kiosk prints through its agent", zh="只有取号机可以通过本机程序（agent）打印", field="agent"
        )
    if agent and printer is not None:
        raise ValidationFailed(
            "a kiosk that prints through its agent uses its own printer; leave the printer out",
            zh="通过本机程序打印的取号机使用自带打印机，请不要再指定打印机",
            field="printer",
        )
    if kind == "window" and window is None:
        raise ValidationFailed(
            "a window screen needs --window N", zh="窗口屏需要指定窗口号（--window N）", field="window"
        )
    if window is not None:
        exists = session.scalar(select(Window.id).where(Window.hall_id == hall.id, Window.number == window))
        if exists is None:
            raise ValidationFailed(
                f"hall {hall.code} has no window {window}", zh=f"大厅 {hall.code} 没有 {window} 号窗口", field="window"
            )
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    device = Device(
        name=name,
        hall_id=hall.id,
        kind=kind,
        printer=printer,
        window_number=window,
        agent=agent,
        token_hash=token_hash(token),
        active=True,
        created_at=clock.now(),
    )
    device.hall = hall
    session.add(device)
    session.flush()
    return device, token


def verify(session: Session, token: str) -> Device:
    """The active device with this token, or Unauthorized; notes when it was last seen."""
    device = session.scalar(select(Device).where(Device.token_hash == token_hash(token)))
    if device is None or not device.active:
        raise Unauthorized(
            "this device is not registered (or was revoked); ask an admin for a device token",
            zh="此设备未登记或已被停用，请联系管理员获取设备令牌",
        )
    seen(device, clock.now())
    return device


def seen(device: Device, now) -> None:
    """Note that the device is alive (written at most once a minute)."""
    if device.last_seen_at is None or now - device.last_seen_at > SEEN_EVERY:
        device.last_seen_at = now


def revoke(session: Session, name: str) -> Device:
    """The device stops working at once."""
    device = session.scalar(select(Device).where(Device.name == name))
    if device is None:
        raise NotFound(f"no device named {name!r}", zh=f"没有名为 {name} 的设备", device=name)
    device.active = False
    return device


def list_devices(session: Session, hall_id: int | None = None) -> list[Device]:
    query = select(Device).order_by(Device.id)
    if hall_id is not None:
        query = query.where(Device.hall_id == hall_id)
    return list(session.scalars(query))


def device_brief(device: Device) -> dict:
    """A device as admins see it (never its token)."""
    seen = device.last_seen_at
    return {
        "id": device.id,
        "name": device.name,
        "hall": device.hall.code,
        "kind": device.kind,
        "printer": device.printer,
        "window": device.window_number,
        "active": device.active,
        "last_seen_at": seen.isoformat(timespec="seconds") if seen else None,
        "agent": bool(device.agent),
        "printer_status": printer_status(device),
    }


def printer_status(device: Device) -> dict | None:
    """What an agent kiosk's agent last said of its printer (None for other devices)."""
    if not device.agent:
        return None
    checked = device.printer_checked_at
    return {
        "state": device.printer_state or "unknown",
        "detail": device.printer_detail or "its agent has not reported yet",
        "checked_at": checked.isoformat(timespec="seconds") if checked else None,
    }
