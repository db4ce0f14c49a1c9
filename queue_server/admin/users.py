"""Administration of staff accounts: create, change role and hall, disable, reset the password."""

from __future__ import annotations

import base64
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server.admin.service import Outcome, invalid, record
from queue_server.exceptions import Conflict, Forbidden, NotFound, ValidationFailed
from queue_server.models import Hall, StaffPhoto, StaffUser
from queue_server.realtime.events import Event, hall_room
from queue_server.staff import identity
from queue_server.staff.auth import hash_password, unlock
from queue_server.staff.permissions import ROLES, Role, check_manager, check_manages
from queue_server.tickets.snapshots import window_public

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")


def user_view(user: StaffUser, halls: dict[int, str], photo: str | None = None) -> dict:
    """`photo`: the version of the user's photo, if they have one."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "staff_number": user.staff_number,
        "photo": photo,
        "role": user.role,
        "hall": halls.get(user.hall_id) if user.hall_id else None,
        "active": user.active,
    }


def _hall_codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Hall.id, Hall.code)).all())


def list_users(session: Session, actor: StaffUser, hall: Hall | None = None) -> list[dict]:
    """Admins see everyone (or one hall's staff); supervisors their own hall's staff."""
    check_manager(actor)
    query = select(StaffUser).order_by(StaffUser.username)
    if hall is not None:
        check_manages(actor, hall)
        query = query.where(StaffUser.hall_id == hall.id)
    elif actor.role != Role.ADMIN:
        query = query.where(StaffUser.hall_id == actor.hall_id)
    codes, photos = _hall_codes(session), identity.photo_versions(session)
    return [user_view(u, codes, photos.get(u.id)) for u in session.scalars(query)]


def get_user(session: Session, actor: StaffUser, username: str) -> StaffUser:
    """The account, if the actor may manage it (a supervisor: staff of their hall, not admins)."""
    check_manager(actor)
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}", zh=f"没有用户 {username}", user=username)
    if actor.role != Role.ADMIN and (user.hall_id != actor.hall_id or user.role == Role.ADMIN):
        raise Forbidden("a supervisor manages only their own hall's staff", zh="只能管理本大厅的工作人员")
    return user


def _hall_for(session: Session, actor: StaffUser, role: str, code: str | None) -> Hall | None:
    if role not in ROLES:
        raise invalid(
            "role", "只能是 窗口人员(clerk)、主管(supervisor) 或 管理员(admin)", "must be clerk, supervisor or admin"
        )
    if actor.role != Role.ADMIN and role == Role.ADMIN:
        raise Forbidden("a supervisor cannot make admins", zh="主管不能创建或授予管理员", field="role")
    hall = None
    if code:
        hall = session.scalar(select(Hall).where(Hall.code == code))
        if hall is None:
            raise invalid("hall", f"没有大厅 {code}", f"no hall {code!r}")
        check_manages(actor, hall)
    elif role != Role.ADMIN:
        raise invalid("hall", "窗口人员和主管必须属于一个大厅", "clerks and supervisors belong to a hall")
    return hall


def _password(value: str | None) -> str:
    try:
        return hash_password(value or "")
    except ValidationFailed:
        raise invalid("password", "至少 8 个字符", "at least 8 characters") from None


def create_user(session: Session, actor: StaffUser, body: dict) -> Outcome:
    check_manager(actor)
    username = str(body.get("username") or "").strip()
    if not USERNAME.match(username):
        raise invalid("username", "2–64 位字母、数字、. _ -", "2-64 letters, digits, '.', '_' or '-'")
    role = str(body.get("role") or "clerk")
    own = session.get(Hall, actor.hall_id) if actor.hall_id else None
    code = body.get("hall") or (own.code if own is not None and actor.role != Role.ADMIN else None)
    hall = _hall_for(session, actor, role, code)
    if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
        raise Conflict(f"username: user {username} already exists", zh=f"用户名：{username} 已存在", field="username")
    name = str(body.get("display_name") or "").strip()[:100] or username
    user = StaffUser(
        username=username,
        display_name=name,
        staff_number=identity.check_staff_number(str(body.get("staff_number") or "")),
        password_hash=_password(body.get("password")),
        role=role,
        hall_id=hall.id if hall else None,
        active=True,
        token_version=0,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor,
        user.hall_id,
        "user",
        username,
        "create",
        {
            "role": [None, role],
            "hall": [None, hall.code if hall else None],
            "display_name": [None, name],
            "staff_number": [None, user.staff_number],
        },
    )
    return Outcome(user_view(user, _hall_codes(session)))


def update_user(session: Session, actor: StaffUser, username: str, body: dict) -> Outcome:
    """Name, role, hall and active; a changed role, hall or a disable signs the user out everywhere."""
    user = get_user(session, actor, username)
    codes = _hall_codes(session)
    before = user_view(user, codes)
    role = str(body.get("role") or user.role)
    code = body["hall"] if "hall" in body else before["hall"]
    if user.id == actor.id and (role != user.role or body.get("active") is False):
        raise Forbidden(
            "you cannot disable yourself or change your own role", zh="不能停用自己或更改自己的角色", field="role"
        )
    hall = _hall_for(session, actor, role, code or None)
    user.role, user.hall_id = role, hall.id if hall else None
    if body.get("display_name") is not None:
        user.display_name = str(body["display_name"]).strip()[:100] or user.username
    if body.get("staff_number") is not None:
        user.staff_number = identity.check_staff_number(str(body["staff_number"]))
    if body.get("active") is not None:
        user.active = bool(body["active"])
    after = user_view(user, codes)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if {"role", "hall", "active"} & set(changes):
        user.token_version += 1  # old tokens carried the old rights
    if changes:
        action = "update" if set(changes) != {"active"} else ("enable" if user.active else "disable")
        record(session, actor, user.hall_id, "user", username, action, changes)
    shown = {"display_name", "staff_number"} & set(changes)
    return Outcome(after, _screens_of(session, user) if shown else [])


def set_photo(session: Session, actor: StaffUser, username: str, image: str) -> Outcome:
    """A new photo (JPEG, PNG or WebP, base64), stored re-encoded; the screens of the user's window show it."""
    user = get_user(session, actor, username)
    version = identity.set_photo(session, user, identity.clean_photo(identity.decode_upload(image)))
    record(session, actor, user.hall_id, "user", username, "photo", {"photo": [None, version]})
    return Outcome({"username": username, "photo": version}, _screens_of(session, user))


def remove_photo(session: Session, actor: StaffUser, username: str) -> Outcome:
    user = get_user(session, actor, username)
    if identity.remove_photo(session, user):
        record(session, actor, user.hall_id, "user", username, "photo", {"photo": ["***", None]})
    return Outcome({"username": username, "photo": None}, _screens_of(session, user))


def photo_of(session: Session, actor: StaffUser, username: str) -> dict:
    """The stored photo as a data: URL, for the administration page's preview."""
    user = get_user(session, actor, username)
    row = session.get(StaffPhoto, user.id)
    if row is None:
        raise NotFound(f"{username} has no photo", zh=f"{username} 没有照片", user=username)
    return {
        "username": username,
        "photo": row.version,
        "image": "data:image/jpeg;base64," + base64.b64encode(row.data).decode(),
    }


def _screens_of(session: Session, user: StaffUser) -> list[Event]:
    """window_updated for the windows the user is on duty at: their screens fetch the clerk again."""
    session.flush()
    return [
        ("window_updated", window_public(session, w), hall_room(w.hall.code))
        for w in identity.duty_windows(session, user)
    ]


def reset_password(session: Session, actor: StaffUser, username: str, password: str | None) -> Outcome:
    """A new password set by a supervisor or admin; the user's tokens stop working."""
    user = get_user(session, actor, username)
    user.password_hash = _password(password)
    user.token_version += 1
    record(session, actor, user.hall_id, "user", username, "password", {"password": ["***", "***"]})
    return Outcome({"username": username, "reset": True})


def unlock_user(session: Session, actor: StaffUser, username: str) -> Outcome:
    """Lift the sign-in locks of an account (after failed passwords from some address)."""
    user = get_user(session, actor, username)
    lifted = unlock(session, user.username)
    record(session, actor, user.hall_id, "user", username, "unlock", {"locks": [lifted, 0]})
    return Outcome({"username": username, "unlocked": lifted})
