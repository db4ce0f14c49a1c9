"""亮身份: who serves at a window (display name, staff number 工号, photo), and staff names in statistics.

A photo is stored only re-encoded: whatever was uploaded (a JPEG, PNG or WebP) is decoded, turned
upright, shrunk and saved again as a plain JPEG, so no metadata (place, camera) and no payload of the
original file ever reaches a screen.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import re
import warnings
from collections import Counter

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server import clock
from queue_server.core.states import WindowState
from queue_server.exceptions import NotFound, ValidationFailed
from queue_server.halls import get_window
from queue_server.models import Hall, StaffPhoto, StaffUser, Window

PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_FORMATS = {"JPEG": "JPEG", "PNG": "PNG", "WEBP": "WebP"}
PHOTO_BOX = (480, 600)  # a portrait for a window screen, a few tens of KB
PHOTO_MAX_PIXELS = 40_000_000  # a larger picture is refused before it is decoded
STAFF_NUMBER = re.compile(r"^[A-Za-z0-9_-]{0,32}$")


def _bad_photo(message: str, zh: str) -> ValidationFailed:
    return ValidationFailed(f"photo: {message}", zh=f"照片：{zh}", field="photo")


def decode_upload(text: str) -> bytes:
    """The bytes of a photo sent as base64 (a data: URL or bare), or ValidationFailed."""
    payload = text.partition(",")[2] if text.startswith("data:") else text  # "data:…" without a comma: empty
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise _bad_photo("not base64", "不是有效的 base64 数据") from None
    return data


def clean_photo(data: bytes) -> bytes:
    """The uploaded picture as a small upright JPEG without metadata; ValidationFailed if it is not a photo."""
    if not data:
        raise _bad_photo("the file is empty", "文件为空")
    if len(data) > PHOTO_MAX_BYTES:
        raise _bad_photo(
            f"at most {PHOTO_MAX_BYTES // 1024 // 1024} MB", f"不能超过 {PHOTO_MAX_BYTES // 1024 // 1024} MB"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind = probe.format
                if kind not in PHOTO_FORMATS:
                    raise _bad_photo("must be a JPEG, PNG or WebP picture", "只能是 JPEG、PNG 或 WebP 图片")
                if probe.width * probe.height > PHOTO_MAX_PIXELS:
                    raise _bad_photo("the picture is too large", "图片像素过大")
                probe.verify()
            with Image.open(io.BytesIO(data)) as picture:
                upright = ImageOps.exif_transpose(picture).convert("RGB")
    except ValidationFailed:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning):
        raise _bad_photo(
            "not a readable JPEG, PNG or WebP picture", "无法识别，只能是 JPEG、PNG 或 WebP 图片"
        ) from None
    upright.thumbnail(PHOTO_BOX)
    out = io.BytesIO()
    upright.save(out, "JPEG", quality=85)
    return out.getvalue()


def set_photo(session: Session, user: StaffUser, data: bytes) -> str:
    """Store the user's photo (already cleaned); its new version."""
    version = hashlib.sha256(data).hexdigest()[:12]
    row = session.get(StaffPhoto, user.id)
    if row is None:
        session.add(StaffPhoto(user_id=user.id, data=data, version=version, updated_at=clock.now()))
    else:
        row.data, row.version, row.updated_at = data, version, clock.now()
    return version


def remove_photo(session: Session, user: StaffUser) -> bool:
    """Delete the user's photo; whether there was one."""
    row = session.get(StaffPhoto, user.id)
    if row is not None:
        session.delete(row)
    return row is not None


def photo_versions(session: Session) -> dict[int, str]:
    return dict(session.execute(select(StaffPhoto.user_id, StaffPhoto.version)).all())


def check_staff_number(value: str) -> str:
    value = value.strip()
    if not STAFF_NUMBER.match(value):
        raise ValidationFailed(
            "staff_number: up to 32 letters, digits, '-' or '_'",
            zh="工号：最多 32 位字母、数字、- 或 _",
            field="staff_number",
        )
    return value


def clerk_at(session: Session, window: Window) -> StaffUser | None:
    """The clerk on duty at an open or paused window."""
    if window.clerk_id is None or window.state == WindowState.CLOSED:
        return None
    return session.get(StaffUser, window.clerk_id)


def public_name(user: StaffUser) -> str | None:
    """The name a screen shows: the display name, never the sign-in name (half of a credential), which an
    account keeps as its display name until the administration gives it one."""
    name = user.display_name or ""
    return name if name and name != user.username else None


def on_duty(session: Session, hall: Hall, number: int) -> dict:
    """What the window screen and the rating tablet show of the clerk at this window (亮身份)."""
    window = get_window(session, hall, number)
    user = clerk_at(session, window)
    if user is None:
        return {"window": number, "clerk": None}
    version = session.scalar(select(StaffPhoto.version).where(StaffPhoto.user_id == user.id))
    photo = f"/api/v1/halls/{hall.code}/windows/{number}/clerk/photo?v={version}" if version else None
    return {
        "window": number,
        "clerk": {"name": public_name(user), "staff_number": user.staff_number, "photo": photo},
    }


def duty_photo(session: Session, hall: Hall, number: int) -> bytes:
    """The photo of the clerk now at this window; NotFound for anyone else's (no list of staff photos)."""
    user = clerk_at(session, get_window(session, hall, number))
    row = session.get(StaffPhoto, user.id) if user is not None else None
    if row is None:
        raise NotFound(f"no photo of a clerk at window {number}", zh=f"{number} 号窗口没有工作人员照片", window=number)
    return row.data


def duty_windows(session: Session, user: StaffUser) -> list[Window]:
    """The windows this user is on duty at (their screens show the user)."""
    return list(
        session.scalars(select(Window).where(Window.clerk_id == user.id, Window.state != WindowState.CLOSED.value))
    )


def _named(session: Session) -> list[tuple[StaffUser, str]]:
    """Each account with its name as statistics show it: the display name, with the staff number (or user
    name) added only where two people share a name."""
    users = list(session.scalars(select(StaffUser)))
    names = [u.display_name or u.username for u in users]
    shared = {n for n, count in Counter(names).items() if count > 1}
    return [
        (u, f"{n} ({u.staff_number or u.username})" if n in shared else n) for u, n in zip(users, names, strict=True)
    ]


def staff_names(session: Session) -> dict[int, str]:
    """Account id → the name statistics show."""
    return {u.id: name for u, name in _named(session)}


def names_by_username(session: Session) -> dict[str, str]:
    """User name → the name statistics show."""
    return {u.username: name for u, name in _named(session)}
