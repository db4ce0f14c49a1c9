"""Staff passwords (argon2), sign-in with lock-out, and bearer tokens (signed, expiring, revocable)."""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from queue_server import clock
from queue_server.db import get_by_id
from queue_server.exceptions import Conflict, OneWindowError, Unauthorized, ValidationFailed
from queue_server.models import Hall, LoginLock, StaffUser
from queue_server.staff.permissions import ROLES, Role

log = logging.getLogger("onewindow.auth")

_hasher = PasswordHasher()
# Verifying against this keeps the time of a login for an unknown user the same as for a known one.
_DUMMY_HASH = _hasher.hash("not-a-password")


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValidationFailed(
            "the password must have at least 8 characters", zh="密码至少需要 8 个字符", field="password"
        )
    return _hasher.hash(password)


def add_user(
    session: Session, username: str, password: str, role: str, hall_code: str | None = None, display_name: str = ""
) -> StaffUser:
    """Create a staff account; the password is stored only as an argon2 hash."""
    if role not in ROLES:
        raise ValidationFailed(
            f"role must be one of {', '.join(ROLES)}", zh=f"角色只能是 {', '.join(ROLES)} 之一", field="role"
        )
    if session.scalar(select(StaffUser).where(StaffUser.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", zh=f"用户 {username} 已存在", field="username")
    hall_id = None
    if not hall_code and role != Role.ADMIN:
        # A clerk or supervisor without a hall is refused in every hall: take the only hall, or ask.
        codes = list(session.scalars(select(Hall.code).order_by(Hall.id)))
        if len(codes) != 1:
            raise ValidationFailed(
                f"a {role} works in one hall; pass --hall with one of: {', '.join(codes) or '(no halls yet)'}",
                zh=f"办事员和主管须属于一个大厅，请用 --hall 指定：{'、'.join(codes) or '（尚无大厅）'}",
                field="hall",
            )
        hall_code = codes[0]
    if hall_code:
        hall = session.scalar(select(Hall).where(Hall.code == hall_code))
        if hall is None:
            raise ValidationFailed(
                f"no hall with code {hall_code!r}", zh=f"没有代码为 {hall_code!r} 的大厅", field="hall"
            )
        hall_id = hall.id
    user = StaffUser(
        username=username,
        password_hash=hash_password(password),
        role=role,
        hall_id=hall_id,
        display_name=display_name or username,
    )
    session.add(user)
    session.flush()
    return user


MAX_LOCK_MINUTES = 24 * 60


class LockedOut(OneWindowError):
    code = "locked_out"
    status = 429


def authenticate(
    session: Session,
    username: str,
    password: str,
    *,
    max_failures: int = 5,
    lockout_minutes: float = 15,
    client: str = "-",
) -> StaffUser:
    """The active user with these credentials, or Unauthorized (same answer for unknown users).

    After `max_failures` wrong passwords in a row from one client address, that username is locked
    for that address only (known or not, so the answer tells nobody which accounts exist); each
    further lock of the same pair lasts twice as long (at most a day). Wrong passwords from a
    stranger therefore never lock the real user out of their own PC. The caller must commit even
    when this raises: the failure count is part of the answer.
    """
    now = clock.now()
    client = (client or "-")[:64]
    attempt = session.get(LoginLock, (username, client), with_for_update=True)
    if attempt is not None and attempt.locked_until is not None and attempt.locked_until > now:
        minutes = max(1, round((attempt.locked_until - now).total_seconds() / 60))
        raise LockedOut(
            f"too many failed sign-ins from this computer; try again in {minutes} min or ask an admin to unlock",
            zh=f"登录失败次数过多，本机已暂停登录该账号，请 {minutes} 分钟后再试或联系管理员解锁",
            retry_after=minutes * 60,
        )
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        if attempt is None:
            attempt = LoginLock(username=username, client=client, failures=0, locks=0)
            session.add(attempt)
        attempt.failures = (attempt.failures or 0) + 1
        attempt.last_failure_at = now
        if attempt.failures >= max_failures:
            attempt.locks = (attempt.locks or 0) + 1
            minutes = min(lockout_minutes * 2 ** (attempt.locks - 1), MAX_LOCK_MINUTES)
            attempt.locked_until = now + timedelta(minutes=minutes)
            attempt.failures = 0
            log.warning(
                "sign-in locked for user %r from %s for %g min after %d failures (lock %d in a row)",
                username,
                client,
                minutes,
                max_failures,
                attempt.locks,
            )
        raise Unauthorized("wrong username or password", zh="用户名或密码错误")
    if attempt is not None:
        session.delete(attempt)
    return user


def unlock(session: Session, username: str) -> int:
    """Lift every sign-in lock of `username` (an admin's action); the number of addresses unlocked."""
    done = session.execute(LoginLock.__table__.delete().where(LoginLock.username == username))
    log.info("sign-in locks of user %r lifted (%d address(es))", username, done.rowcount)
    return done.rowcount


def sign_in(
    factory, username: str, password: str, *, max_failures: int, lockout_minutes: float, client: str
) -> StaffUser:
    """authenticate() in its own transaction, keeping the failure count when it refuses."""
    from queue_server.db import transaction

    refused: OneWindowError | None = None
    with transaction(factory) as session:
        try:
            user = authenticate(
                session, username, password, max_failures=max_failures, lockout_minutes=lockout_minutes, client=client
            )
        except (Unauthorized, LockedOut) as exc:
            refused = exc
    if refused is not None:
        raise refused
    return user


def change_password(session: Session, user: StaffUser, new_password: str) -> None:
    """Set a new password; every token and page session of the user stops working."""
    user.password_hash = hash_password(new_password)
    user.token_version += 1
    session.execute(LoginLock.__table__.delete().where(LoginLock.username == user.username))
    log.info("password changed for user %r; older tokens revoked", user.username)


def check_password(user: StaffUser, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


SIGNATURES_KEPT = 4096  # checked signatures remembered per process (each staff member's token or two)


class Tokens:
    """Signs and checks bearer tokens: {user id, token version}, valid for `ttl_s`."""

    def __init__(self, secret: str, ttl_s: float) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="onewindow-staff-token")
        self.ttl_s = ttl_s
        # token -> (user id, token version, signed at): a clerk sends the same token all day, and checking its
        # signature costs more than the statement that reads the user. Revocation is never cached: the user's
        # row (active, token version) is read on every request.
        self.signed: dict[str, tuple[object, object, float]] = {}

    def issue(self, user: StaffUser) -> str:
        return self.serializer.dumps({"u": user.id, "v": user.token_version})

    def verify(self, session: Session, token: str) -> StaffUser:
        """The user a token stands for, or Unauthorized (bad, expired or revoked)."""
        user_id, version = self._claims(token)
        user = get_by_id(session, StaffUser, user_id) if isinstance(user_id, int) else None
        if user is None or not user.active or user.token_version != version:
            raise Unauthorized("the token was revoked; sign in again", zh="登录已失效，请重新登录")
        return user

    def _claims(self, token: str) -> tuple[object, object]:
        """(user id, token version) of a well-signed token that has not expired; Unauthorized otherwise."""
        known = self.signed.get(token)
        if known is None:
            try:
                data, signed_at = self.serializer.loads(token, max_age=self.ttl_s, return_timestamp=True)
            except SignatureExpired:
                raise Unauthorized("the token has expired; sign in again", zh="登录已过期，请重新登录") from None
            except BadSignature:
                raise Unauthorized("the token is not valid; sign in again", zh="登录凭证无效，请重新登录") from None
            if not isinstance(data, dict):
                raise Unauthorized("the token is not valid; sign in again", zh="登录凭证无效，请重新登录")
            if len(self.signed) >= SIGNATURES_KEPT:
                self.signed.clear()
            known = self.signed[token] = (data.get("u"), data.get("v"), signed_at.timestamp())
        elif time.time() - known[2] > self.ttl_s:  # as itsdangerous decides it: seconds since signing
            self.signed.pop(token, None)
            raise Unauthorized("the token has expired; sign in again", zh="登录已过期，请重新登录")
        return known[0], known[1]
