"""Who may do what: the staff roles and the one check for each right (plain Python, no Flask)."""

from __future__ import annotations

from enum import StrEnum

from queue_server.exceptions import Forbidden
from queue_server.models import Hall, StaffUser


class Role(StrEnum):
    CLERK = "clerk"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLES = tuple(r.value for r in Role)
MANAGERS = frozenset({Role.SUPERVISOR, Role.ADMIN})


def check_hall(hall: Hall, user: StaffUser) -> None:
    """Staff act only in their own hall (admins everywhere); a clerk with no hall acts nowhere."""
    if user.role != Role.ADMIN and user.hall_id != hall.id:
        raise Forbidden(
            f"{user.username} works in another hall and cannot act in {hall.code}",
            zh=f"{user.username} 不属于本大厅（{hall.code}），不能在此操作",
        )


def manages(user: StaffUser, hall: Hall) -> bool:
    """Admins manage every hall, supervisors their own."""
    return user.role == Role.ADMIN or (user.role == Role.SUPERVISOR and user.hall_id == hall.id)


def check_manages(user: StaffUser, hall: Hall) -> None:
    """Forbidden unless the user is an admin or a supervisor of this hall."""
    if manages(user, hall):
        return
    if user.role == Role.SUPERVISOR:
        raise Forbidden(
            f"a supervisor manages only their own hall, not {hall.code}",
            zh=f"只能管理本大厅，不能查看或修改 {hall.code}",
        )
    raise Forbidden(
        f"this needs a supervisor of hall {hall.code} or an admin; {user.username} is a {user.role}",
        zh="需要管理员或本大厅主管权限",
    )


def check_manager(user: StaffUser) -> None:
    """Forbidden unless the user is a supervisor (of some hall) or an admin."""
    if user.role not in MANAGERS:
        raise Forbidden(
            f"administration needs a supervisor or an admin; {user.username} is a {user.role}",
            zh="需要管理员或主管权限",
        )


def check_admin(user: StaffUser) -> None:
    """Forbidden unless the user is an admin."""
    if user.role != Role.ADMIN:
        raise Forbidden(f"this needs an admin; {user.username} is a {user.role}", zh="只有系统管理员可以这样做")
