"""migrate(): idempotent, concurrent-safe, and in step with the table definitions."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect

from bot.storage import SqlUnitOfWork, create_engine_for, migrate
from bot.storage.migrate import HEAD_REVISION, MIGRATIONS_DIR, alembic_config, current_revision, head_revision
from bot.storage.tables import metadata
from tests.storage.concurrency import run_together
from tests.support.clock import RunningClock

CLOCK = RunningClock()

TABLES = {
    "incidents",
    "incident_roles",
    "timeline_entries",
    "timeline_pins",
    "action_items",
    "processed_events",
    "daily_claims",
    "home_tabs",
    "jobs",
}


def _schema(engine: Engine) -> dict[str, object]:
    inspector = inspect(engine)
    return {
        table: (
            sorted(c["name"] for c in inspector.get_columns(table)),
            sorted(str(i["name"]) for i in inspector.get_indexes(table)),
        )
        for table in sorted(inspector.get_table_names())
    }


def test_migrate_creates_every_table_at_head(engine: Engine) -> None:
    assert head_revision() == HEAD_REVISION == "0008"
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}


def test_migrating_again_changes_nothing(engine: Engine) -> None:
    with SqlUnitOfWork(engine, clock=CLOCK) as uow:
        uow.events.first_delivery("Ev-kept")
        uow.commit()
    before = _schema(engine)
    migrate(engine)
    migrate(engine.url.render_as_string(hide_password=False))  # a URL works too
    assert _schema(engine) == before
    assert current_revision(engine) == head_revision()
    with SqlUnitOfWork(engine, clock=CLOCK) as uow:
        assert uow.events.first_delivery("Ev-kept") is False


def test_tables_match_the_migrations(engine: Engine) -> None:
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_downgrade_and_upgrade_again(engine: Engine) -> None:
    config = alembic_config(engine.url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}


def test_concurrent_first_migrations_all_succeed(database_url: str) -> None:
    engines = [create_engine_for(database_url) for _ in range(4)]
    try:
        run_together(len(engines), lambda index: migrate(engines[index]))
        assert current_revision(engines[0]) == head_revision()
    finally:
        for eng in engines:
            eng.dispose()


def test_migration_scripts_ship_with_the_package() -> None:
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert list((MIGRATIONS_DIR / "versions").glob("0001_*.py"))
