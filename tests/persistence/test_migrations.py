"""Alembic migrations on both databases: from empty and from 0001 to head, matching the models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from queue_server.db import MIGRATIONS, make_engine, session_factory, transaction, upgrade
from queue_server.halls import seed
from queue_server.models import Base
from tests.support import PG_ADMIN_URL


@pytest.fixture(params=["sqlite", "postgres"])
def empty_url(request, tmp_path):
    """A database with no tables at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.sqlite3"
        return
    name = f"ow_empty_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def alembic_to(engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def head() -> str:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def current_revision(engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_drift(engine) -> list:
    with engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def test_upgrade_from_empty(empty_url, settings_for):
    engine = make_engine(empty_url)
    assert inspect(engine).get_table_names() == []
    upgrade(engine)
    assert current_revision(engine) == head()
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert schema_drift(engine) == []
    # The migrated schema takes the demo halls.
    with transaction(session_factory(engine)) as session:
        assert seed(session, settings_for(empty_url)) == ["erdao", "jinxiu"]
    engine.dispose()


def test_upgrade_is_idempotent(empty_url):
    engine = make_engine(empty_url)
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head()
    engine.dispose()


def test_upgrade_from_0001_keeps_the_data(empty_url, settings_for):
    engine = make_engine(empty_url)
    alembic_to(engine, "0001")
    assert current_revision(engine) == "0001"
    assert "print_jobs" not in inspect(engine).get_table_names()
    now = datetime(2026, 3, 2, 1, 0, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO halls (id, code, name, name_en, timezone, settings) "
                "VALUES (1, 'erdao', '二道区政务服务中心', '', 'Asia/Shanghai', '{}')"
            )
        )
        conn.execute(
            text("INSERT INTO queues (id, hall_id, prefix, name, name_en, sort) VALUES (1, 1, 'A', 'a', '', 0)")
        )
        conn.execute(
            text(
                "INSERT INTO service_items (id, hall_id, queue_id, code, name, department, category, basis, materials, "
                "time_limit_days, kind, active) VALUES (1, 1, 1, 'QY001', '企业开办', '', '法人', '', '[]', 1, 'instant', "
                "true)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO tickets (pk, id, hall_id, queue_id, service_id, day, seq, number, channel, priority, status, "
                "issued_at, queued_at, order_key, recall_count, returns) VALUES (1, 'tkt-1', 1, 1, 1, '2026-03-02', 1, "
                "'A001', 'kiosk', 'normal', 'waiting', :now, :now, 1, 0, 0)"
            ),
            {"now": now},
        )
    upgrade(engine)
    assert current_revision(engine) == head()
    assert "print_jobs" in inspect(engine).get_table_names()
    assert schema_drift(engine) == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT number, status FROM tickets")).all() == [("A001", "waiting")]
        assert conn.execute(text("SELECT code FROM service_items")).scalar() == "QY001"
    engine.dispose()
