"""Shared pytest fixtures."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool

from bot.core.ports import UnitOfWork
from bot.storage import SqlUnitOfWork, create_engine_for, migrate
from bot.storage.engine import normalize_url
from tests.support.clock import RunningClock

# Property tests assert outcomes, never timing: Hypothesis's per-example deadline (200 ms) is a timed
# assertion that a busy machine fails at random.
hypothesis_settings.register_profile("incident-bot", deadline=None)
hypothesis_settings.load_profile("incident-bot")


@pytest.fixture
def clock() -> RunningClock:
    """Every test's clock, shared by the bot and the fake Slack: a fixed start, running at real speed."""
    return RunningClock()


# ---------------------------------------------------------------------------------------------------
# Database fixtures (bot.storage)
#
# `database_url` runs each test on SQLite (a fresh file) and, when TEST_DATABASE_URL is set, also on
# PostgreSQL in a freshly created schema that is dropped afterwards. The schema is selected through
# the URL itself (libpq `options=-csearch_path=...`), so a subprocess given the URL uses it too.
# ---------------------------------------------------------------------------------------------------


def _database_backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite"]


@pytest.fixture(params=_database_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of its own: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
        return
    base = normalize_url(os.environ["TEST_DATABASE_URL"])
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine_for(base, poolclass=NullPool)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            # A test that leaked an open transaction must fail loudly, not hang the run.
            conn.execute(text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the test database, migrated to the newest schema."""
    eng = create_engine_for(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def uow_factory(engine: Engine, clock: RunningClock) -> Callable[[], UnitOfWork]:
    """Makes a new SqlUnitOfWork on the test database."""
    return lambda: SqlUnitOfWork(engine, clock=clock)


# ------------------------------------------------------------------------------- end database fixtures
