"""Fixtures of the booking tests: a seeded hall on SQLite or PostgreSQL with chosen settings, a fake clock."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from queue_server.config import Settings, settings_from_mapping
from queue_server.db import make_engine, session_factory, transaction, upgrade
from queue_server.halls import get_hall, seed
from tests.server.conftest import make_server  # noqa: F401 - the shared fixture
from tests.support import demo_config

SECRET = "test-secret-0123456789"


def id_number(serial: int) -> str:
    """A valid 18-character resident ID (check digit included) for test person `serial`."""
    body = f"110105199001{serial:05d}"[:17]
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def phone(serial: int) -> str:
    return f"139{serial:08d}"


def raw_config(
    url: str, data_dir, *, appointments: dict | None = None, remote: dict | None = None, notify: dict | None = None
) -> dict:
    raw = demo_config(url, data_dir, secret_key=SECRET)
    hall = raw["halls"][0]
    hall["appointments"] = {"max_per_slot": 3, **(appointments or {})}
    hall["remote"] = remote or {}
    hall["notify"] = notify or {}
    return raw


@dataclass
class HallDb:
    settings: Settings
    factory: object
    engine: object

    def session(self):
        return transaction(self.factory)

    def hall(self, session, code: str = "erdao"):
        return get_hall(session, code)


def _builder(url: str, tmp_path, engines: list):
    def build(**overrides) -> HallDb:
        settings = settings_from_mapping(raw_config(url, tmp_path / "data", **overrides))
        engine = make_engine(url)
        engines.append(engine)
        upgrade(engine)
        factory = session_factory(engine)
        with transaction(factory) as session:
            seed(session, settings)
        return HallDb(settings, factory, engine)

    return build


@pytest.fixture
def make_hall(db_url, tmp_path):
    """A migrated, seeded database (SQLite and PostgreSQL) for the demo halls with the given hall settings."""
    engines: list = []
    yield _builder(db_url, tmp_path, engines)
    for engine in engines:
        engine.dispose()


@pytest.fixture
def make_pg_hall(pg_url, tmp_path):
    """The same on PostgreSQL only, for races that need real row locks."""
    engines: list = []
    yield _builder(pg_url, tmp_path, engines)
    for engine in engines:
        engine.dispose()
