"""Bring the database schema up to date; safe to call at every start, from any number of processes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from bot.storage.engine import READ_ONLY, create_engine_for

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest revision in migrations/versions (a test keeps it in step with Alembic's own view): a
# database already there is recognised with one query, without loading Alembic at all.
HEAD_REVISION = "0008"

# Any fixed number works; every process of this app must use the same one to wait for each other.
_PG_MIGRATION_LOCK_KEY = 7_214_306_905_113


def alembic_config(url: URL | None = None) -> Config:
    """An Alembic configuration built in code, so no alembic.ini is needed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        # Config values go through configparser interpolation, where "%" is special.
        config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
    return config


def migrate(engine_or_url: Engine | str) -> None:
    """Upgrade the schema to the newest revision; a database already there is left untouched."""
    if isinstance(engine_or_url, Engine):
        _upgrade(engine_or_url)
        return
    engine = create_engine_for(engine_or_url)
    try:
        _upgrade(engine)
    finally:
        engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision this code knows, as Alembic reads the migrations."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _at_head(engine: Engine) -> bool:
    try:
        with engine.connect() as conn, conn.execution_options(**READ_ONLY).begin():
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except DBAPIError:
        return False  # a new database: no alembic_version table yet
    return found == [HEAD_REVISION]


def _upgrade(engine: Engine) -> None:
    if _at_head(engine):
        return
    from alembic import command

    config = alembic_config(engine.url)
    with engine.connect() as conn:
        is_sqlite = conn.dialect.name == "sqlite"
        if is_sqlite:
            # Rebuilding a table (Alembic's batch mode on SQLite) drops the old one, which with
            # foreign keys on would cascade-delete child rows; the pragma only works outside a transaction.
            _sqlite_foreign_keys(conn, enabled=False)
        try:
            # One transaction for the whole upgrade: both databases have transactional DDL, and a
            # second process blocks until the first has committed, then finds nothing to do.
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    # SQLite's BEGIN IMMEDIATE already serialises; PostgreSQL needs a lock that is
                    # held before alembic_version is even read. It is released at commit.
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK_KEY})
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
        finally:
            if is_sqlite:
                _sqlite_foreign_keys(conn, enabled=True)


def _sqlite_foreign_keys(conn: Connection, *, enabled: bool) -> None:
    # Straight to the driver: a SQLAlchemy execute would first BEGIN, and inside a transaction
    # SQLite silently ignores this pragma.
    dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
    finally:
        cursor.close()
