"""create_engine_for: URL handling, SQLite settings and concurrent writers."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError

from bot.storage import SqlUnitOfWork, create_engine_for, migrate
from bot.storage.engine import READ_ONLY, normalize_url
from bot.storage.tables import processed_events
from tests.storage.concurrency import run_together
from tests.support.clock import RunningClock

CLOCK = RunningClock()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/bot", "postgresql+psycopg://u:***@db:5432/bot"),
        ("postgresql://u@db/bot?sslmode=require", "postgresql+psycopg://u@db/bot?sslmode=require"),
        ("postgresql+psycopg://u@db/bot", "postgresql+psycopg://u@db/bot"),
        ("sqlite:///data/bot.db", "sqlite:///data/bot.db"),
    ],
)
def test_urls_are_normalised_to_the_psycopg_driver(given: str, expected: str) -> None:
    assert str(normalize_url(given)) == expected


def test_sqlite_connections_are_configured(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'nested' / 'dir' / 'bot.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert (tmp_path / "nested" / "dir" / "bot.db").exists()
    finally:
        engine.dispose()


def test_sqlite_write_transactions_take_the_lock_up_front(tmp_path: Path) -> None:
    engine = create_engine_for(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        with engine.connect() as writer, engine.connect() as reader:
            writer.exec_driver_sql("SELECT 1")  # reading only, yet the write lock is held
            # Another process does not get it (it would wait for busy_timeout; here it may not wait)...
            other = sqlite3.connect(tmp_path / "bot.db", timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
            # ...another thread of this process queues for its turn, and gets it when the writer is done...
            began = threading.Event()

            def write() -> None:
                with engine.connect() as second:
                    second.exec_driver_sql("SELECT 1")
                    began.set()
                    second.commit()

            thread = threading.Thread(target=write)
            thread.start()
            assert not began.wait(0.2)
            writer.commit()
            assert began.wait(10)
            thread.join()
            # ...and read-only transactions do not queue behind writers at all.
            with engine.connect() as holder:
                holder.exec_driver_sql("SELECT 1")
                assert reader.execution_options(**READ_ONLY).exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


def test_in_memory_sqlite_works_single_threaded() -> None:
    engine = create_engine_for("sqlite://")
    try:
        migrate(engine)
        with SqlUnitOfWork(engine, clock=CLOCK) as uow:
            assert uow.events.first_delivery("Ev1") is True
            uow.commit()
        with SqlUnitOfWork(engine, clock=CLOCK) as uow:
            assert uow.events.first_delivery("Ev1") is False
    finally:
        engine.dispose()


def test_concurrent_read_modify_write_from_threads_never_fails(engine: Engine) -> None:
    """Many threads writing at once must wait for each other, not fail with "database is locked"."""
    threads, per_thread = 8, 15

    def write(index: int) -> None:
        for n in range(per_thread):
            with SqlUnitOfWork(engine, clock=CLOCK) as uow:
                # Read first, then write: the pattern that breaks deferred SQLite transactions.
                uow.incidents.list_active()
                uow.events.first_delivery(f"Ev-{index}-{n}")
                uow.commit()

    run_together(threads, write)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(processed_events)).scalar_one() == threads * per_thread


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with engine.connect() as conn, pytest.raises(IntegrityError, match=r"(?i)foreign key"):
        conn.execute(
            text("INSERT INTO timeline_pins (incident_id, room_id, message_id, user_id) VALUES (424242, 'C', 'M', 'U')")
        )
