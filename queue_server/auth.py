"""Staff passwords (argon2) and bearer tokens (signed, expiring, revocable)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from .exceptions import Conflict, Unauthorized, ValidationFailed
from .models import Hall, StaffUser

ROLES = ("clerk", "supervisor", "admin")
_hasher = PasswordHasher()
# Verifying against this keeps the time of a login for an unknown user the same as for a known one.
_DUMMY_HASH = _hasher.hash("not-a-password")


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise ValidationFailed("the password must have at least 8 characters", field="password")
    return _hasher.hash(password)


def add_user(session: Session, username: str, password: str, role: str, hall_code: str | None = None,
             display_name: str = "") -> StaffUser:
    """Create a staff account; the password is stored only as an argon2 hash."""
    if role not in ROLES:
        raise ValidationFailed(f"role must be one of {', '.join(ROLES)}", field="role")
    if session.scalar(select(StaffUser).where(StaffUser.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists", field="username")
    hall_id = None
    if hall_code:
        hall = session.scalar(select(Hall).where(Hall.code == hall_code))
        if hall is None:
            raise ValidationFailed(f"no hall with code {hall_code!r}", field="hall")
        hall_id = hall.id
    user = StaffUser(username=username, password_hash=hash_password(password), role=role, hall_id=hall_id,
                     display_name=display_name or username)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> StaffUser:
    """The active user with these credentials, or Unauthorized (same answer for unknown users)."""
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("wrong username or password") from None
    if user is None or not user.active:
        raise Unauthorized("wrong username or password")
    return user


class Tokens:
    """Signs and checks bearer tokens: {user id, token version}, valid for `ttl_s`."""

    def __init__(self, secret: str, ttl_s: float) -> None:
        self.serializer = URLSafeTimedSerializer(secret, salt="onewindow-staff-token")
        self.ttl_s = ttl_s

    def issue(self, user: StaffUser) -> str:
        return self.serializer.dumps({"u": user.id, "v": user.token_version})

    def verify(self, session: Session, token: str) -> StaffUser:
        """The user a token stands for, or Unauthorized (bad, expired or revoked)."""
        try:
            data = self.serializer.loads(token, max_age=self.ttl_s)
        except SignatureExpired:
            raise Unauthorized("the token has expired; sign in again") from None
        except BadSignature:
            raise Unauthorized("the token is not valid; sign in again") from None
        user = session.get(StaffUser, data.get("u"))
        if user is None or not user.active or user.token_version != data.get("v"):
            raise Unauthorized("the token was revoked; sign in again")
        return user
