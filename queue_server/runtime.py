"""What a running server holds: settings, database, tokens, and the optional voice and printers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from queue_server.config import Settings
from queue_server.staff.auth import Tokens


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    tokens: Tokens
    voice: Any = None
    spooler: Any = None
    redis: Any = None
    counts: Any = None
    limits: Any = None
    extras: dict = field(default_factory=dict)


def current() -> Runtime:
    """The runtime of the app handling this request."""
    return current_app.extensions["onewindow"]
