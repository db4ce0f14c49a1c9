"""Database engine and transactions for SQLite (embedded) and PostgreSQL (scale-out)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import bindparam, create_engine, event, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, attributes, make_transient_to_detached, sessionmaker

from queue_server.exceptions import Unavailable

MIGRATIONS = Path(__file__).parent / "migrations"
# How long a request waits for SQLite's write lock (held by another process: a backup, an import,
# someone's sqlite3 shell) before it gets a 503. A kiosk citizen would rather wait a few seconds
# than see an error; longer than this and "try again" is the honest answer.
SQLITE_LOCK_WAIT_S = 10.0
# SQLite's own busy wait blocks the whole OS thread, which under eventlet is the whole server
# (boards, heartbeats, the request holding the lock). Keep it short and wait in Python instead.
SQLITE_NATIVE_WAIT_MS = 20


SUPPORTED = ("sqlite", "postgresql")


def make_engine(url: str, *, pool_size: int = 10, lock_wait_s: float = SQLITE_LOCK_WAIT_S) -> Engine:
    """An engine tuned for the backend: WAL and immediate write transactions on SQLite."""
    backend = url.split(":", 1)[0].split("+", 1)[0]
    if backend not in SUPPORTED:
        from queue_server.exceptions import ConfigError

        raise ConfigError(
            f"server.database_url: {backend or url!r} is not supported; use sqlite:///PATH (embedded) "
            "or postgresql+psycopg2://USER:PASSWORD@HOST/DB (scale-out)"
        )
    if url.startswith("sqlite"):
        _ensure_sqlite_dir(url)
        engine = create_engine(url, connect_args={"timeout": SQLITE_NATIVE_WAIT_MS / 1000, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_on_connect)
        # Take the write lock at BEGIN: a read that later upgrades to a write can
        # fail with SQLITE_BUSY under WAL instead of waiting for the lock.
        event.listen(engine, "begin", lambda conn: _begin_immediate(conn, lock_wait_s))
        return engine
    if url.startswith("postgresql+psycopg:") or url.startswith("postgresql+psycopg_async"):
        os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")
    return create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True, pool_recycle=1800)


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split(":///", 1)[-1]
    if path and path != ":memory:" and not path.startswith("file:"):
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN IMMEDIATE drive transactions
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_NATIVE_WAIT_MS}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _begin_immediate(conn, wait_s: float) -> None:
    """BEGIN IMMEDIATE, retried with a cooperative sleep while another writer holds the lock."""
    deadline = time.monotonic() + wait_s
    pause = 0.005
    while True:
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            return
        except OperationalError as exc:
            if "locked" not in str(exc.orig) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)  # green under eventlet/gevent: the rest of the server keeps running
        pause = min(pause * 2, 0.1)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error; database outages become 503."""
    session = factory()
    try:
        yield session
        session.commit()
    except (OperationalError, DBAPIError) as exc:
        session.rollback()
        if "database is locked" in str(getattr(exc, "orig", "")):
            raise Unavailable(
                "the database is busy (locked by another program); try again in a moment", zh="数据库繁忙，请稍后重试"
            ) from exc
        if getattr(exc, "connection_invalidated", False) or isinstance(exc, OperationalError):
            raise Unavailable(
                "the database is unavailable; try again in a moment", zh="数据库暂时不可用，请稍后重试"
            ) from exc
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def execute(session: Session, statement, params=None):
    """A plain table statement on the session's connection: the ORM's pending changes go first (as its autoflush
    would), none of its per-statement work follows (a busy route runs a handful of these)."""
    session.flush()
    return session.connection().execute(statement, params)


def read_one(session: Session, model: type, statement, params: dict):
    """The one row of `model` a plain table statement (all its columns) finds, as the session's object, or None.

    The row goes through the Connection, not the ORM's query machinery (which costs twice the statement on a
    busy route); see adopt().
    """
    row = execute(session, statement, params).first()
    return None if row is None else adopt(session, model, row._mapping)


def get_by_id(session: Session, model: type, ident: int | None):
    """session.get(model, ident) for a model with an `id` key, read as read_one() reads (None for None)."""
    if ident is None:
        return None
    found = session.identity_map.get(session.identity_key(model, (ident,)))
    if found is not None:
        return found
    table = model.__table__
    statement = _BY_ID.get(table)
    if statement is None:
        statement = _BY_ID[table] = select(table).where(table.c.id == bindparam("id"))
    return read_one(session, model, statement, {"id": ident})


_BY_ID: dict = {}  # table -> its prebuilt statement by id


def adopt(session: Session, model: type, values):
    """A row read with a plain statement (`values`: its columns by name) as the session's object, as if a query
    had loaded it; an object the session already holds is returned as it stands, as a query would."""
    mapper = inspect(model)
    found = session.identity_map.get(session.identity_key(model, tuple(values[c.key] for c in mapper.primary_key)))
    if found is not None:
        return found
    obj = mapper.class_manager.new_instance()
    attributes.instance_dict(obj).update(values)
    make_transient_to_detached(obj)  # stored already: later changes are updates, nothing is reloaded
    session.add(obj)
    return obj


def upgrade(engine: Engine) -> None:
    """Create or migrate the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def where(engine: Engine) -> str:
    """The database as an operator names it: the SQLite file, or the URL without its password."""
    if engine.dialect.name == "sqlite":
        return f"SQLite file {_sqlite_file(engine)}"
    return engine.url.render_as_string(hide_password=True)


def write_problem(engine: Engine) -> str | None:
    """None when the database takes writes; otherwise one line saying what is wrong.

    The probe rewrites the schema version row and rolls back, so it changes nothing.
    """
    try:
        with engine.connect() as conn:
            with conn.begin() as tx:
                conn.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
                tx.rollback()
    except (OperationalError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        if "readonly" in reason or "read-only" in reason or "read only" in reason:
            return f"{where(engine)} is read-only ({reason})"
        return f"{where(engine)} cannot be written ({reason})"
    return None


def open_for_service(engine: Engine) -> None:
    """Migrate, then prove a write works; ConfigError with one line naming the database and the fix."""
    from queue_server.exceptions import ConfigError

    try:
        upgrade(engine)
    except (OperationalError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        raise ConfigError(f"{where(engine)}: cannot open the database ({reason}); {_fix(engine, reason)}") from None
    problem = write_problem(engine)
    if problem is not None:
        raise ConfigError(f"{problem}; {_fix(engine, problem)}")


def _sqlite_file(engine: Engine) -> str:
    name = engine.url.database or ""
    return name.removeprefix("file:").split("?", 1)[0] if name.startswith("file:") else name


def _fix(engine: Engine, reason: str) -> str:
    if engine.dialect.name == "sqlite":
        folder = Path(_sqlite_file(engine)).resolve().parent
        return f"make the file, its -wal and -shm files and the folder {folder} writable by the user running the server"
    if "read-only" in reason or "read only" in reason:
        return "point server.database_url at the primary, not a read-only replica"
    return "check that PostgreSQL runs, the host, port, user and password in server.database_url (or QUEUE_SERVER_DATABASE_URL)"


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
