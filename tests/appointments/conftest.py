"""Fixtures of the booking tests: a seeded hall on SQLite or PostgreSQL with chosen booking settings."""

from __future__ import annotations

import pytest

from queue_server.config import settings_from_mapping
from tests.support import Hall, booking_config, seed_hall


def _builder(url: str, tmp_path, halls: list[Hall]):
    def build(**overrides) -> Hall:
        hall = seed_hall(settings_from_mapping(booking_config(url, tmp_path / "data", **overrides)))
        halls.append(hall)
        return hall

    return build


@pytest.fixture
def make_hall(db_url, tmp_path):
    """A migrated, seeded database (SQLite and PostgreSQL) for the demo halls with the given hall settings."""
    halls: list[Hall] = []
    yield _builder(db_url, tmp_path, halls)
    for hall in halls:
        hall.engine.dispose()


@pytest.fixture
def make_pg_hall(pg_url, tmp_path):
    """The same on PostgreSQL only, for races that need real row locks."""
    halls: list[Hall] = []
    yield _builder(pg_url, tmp_path, halls)
    for hall in halls:
        hall.engine.dispose()
