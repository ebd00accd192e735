"""Engines for SQLite and PostgreSQL, configured for a multi-threaded, multi-process bot."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool

# Execution option naming how a SQLite transaction begins: "IMMEDIATE" (the default) or "DEFERRED".
SQLITE_BEGIN_OPTION = "incident_bot_sqlite_begin"

# Read-only work can pass these to Connection.execution_options() so that, on SQLite, it does not
# take the write lock; they are ignored by PostgreSQL.
READ_ONLY: dict[str, Any] = {SQLITE_BEGIN_OPTION: "DEFERRED"}

_BUSY_TIMEOUT_MS = 5000
_SQLITE_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})


def normalize_url(url: str | URL) -> URL:
    """Parse a database URL, sending every PostgreSQL spelling to the psycopg 3 driver."""
    if isinstance(url, str) and url.startswith("postgres://"):
        # Heroku-style URLs; SQLAlchemy dropped the "postgres" alias.
        url = "postgresql://" + url.removeprefix("postgres://")
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def is_memory_sqlite(url: URL) -> bool:
    """True for an in-memory SQLite URL, which only lives as long as its one connection."""
    database = url.database or ""
    return database in ("", ":memory:") or database.startswith("file::memory:")


def create_engine_for(url: str | URL, **engine_kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout, foreign keys and BEGIN IMMEDIATE."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed, engine_kwargs)
    # pre_ping replaces connections the server or a proxy closed while they sat in the pool.
    return create_engine(parsed, pool_pre_ping=True, **engine_kwargs)


def _sqlite_engine(url: URL, engine_kwargs: dict[str, Any]) -> Engine:
    connect_args: dict[str, Any] = {
        # Pooled connections move between the web server's and the worker's threads.
        "check_same_thread": False,
        # The driver's own busy wait, in seconds; the PRAGMA below says the same in milliseconds.
        "timeout": _BUSY_TIMEOUT_MS / 1000,
    }
    connect_args.update(engine_kwargs.pop("connect_args", {}))
    if is_memory_sqlite(url):
        # Every new connection would see a different empty database, so share one; such an engine
        # is only fit for single-threaded tests and scripts.
        engine_kwargs.setdefault("poolclass", StaticPool)
    elif url.database and not url.query.get("uri"):
        # A fresh deployment's data directory may not exist yet; SQLite would only say "unable to open".
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # No pool_pre_ping: a SQLite file cannot drop a connection the way a server can.
    engine = create_engine(url, connect_args=connect_args, **engine_kwargs)
    writers = _WriterQueue()
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", writers.begin)
    event.listen(engine, "commit", writers.commit)
    event.listen(engine, "rollback", writers.end)
    return engine


class _WriterQueue:
    """Threads of this process take turns at SQLite's write lock through a lock of their own.

    SQLite's busy handler makes a writer that lost the race sleep and poll (up to 100 ms a nap), with
    no queue, so under a burst some requests lose again and again. Here a thread waits on a lock that
    hands over the moment the writer before it commits; SQLite's busy timeout still orders processes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, connection: Connection) -> None:
        mode = str(connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "IMMEDIATE")).upper()
        if mode not in _SQLITE_BEGIN_MODES:
            raise ValueError(f"unknown SQLite BEGIN mode {mode!r}")
        writing = mode != "DEFERRED"
        if writing and not self._lock.acquire(timeout=_BUSY_TIMEOUT_MS / 1000):
            raise TimeoutError("gave up waiting for this process's other writers")
        try:
            # A deferred transaction that reads and then writes cannot wait for the lock (SQLite reports
            # "database is locked" at once to avoid deadlock), so writers take it up front; readers
            # (READ_ONLY) begin deferred and never wait for writers, thanks to WAL.
            _driver_sql(connection, f"BEGIN {mode}")
        except BaseException:
            if writing:
                self._lock.release()
            raise
        connection.info[_HOLDS_WRITE_TURN] = writing

    def commit(self, connection: Connection) -> None:
        # SQLAlchemy announces a commit before making it. The next writer's turn begins only once this
        # one's COMMIT is done, else its BEGIN IMMEDIATE would meet SQLite's lock still held and sleep in
        # the busy handler; so the writer commits here, and SQLAlchemy's own commit finds nothing left.
        if not connection.info.get(_HOLDS_WRITE_TURN, False):
            return
        try:
            _driver_sql(connection, "COMMIT")
        finally:
            # Even when COMMIT failed: the pool rolls the connection back on its return, and meanwhile
            # the next writer waits in SQLite's busy handler rather than forever here.
            self.end(connection)

    def end(self, connection: Connection) -> None:
        if connection.info.pop(_HOLDS_WRITE_TURN, False):
            self._lock.release()


_HOLDS_WRITE_TURN = "incident_bot_holds_write_turn"


def _driver_sql(connection: Connection, statement: str) -> None:
    # Straight to the driver: a SQLAlchemy execution (context, result, events) costs more than a BEGIN
    # or COMMIT itself, on every transaction. Errors are wrapped as SQLAlchemy would wrap them.
    try:
        connection.connection.driver_connection.execute(statement)  # type: ignore[union-attr]
    except sqlite3.Error as error:
        raise DBAPIError.instance(statement, (), error, sqlite3.Error, dialect=connection.dialect) from error


def _on_sqlite_connect(dbapi_connection: Any, connection_record: ConnectionPoolEntry) -> None:
    # Stop the sqlite3 module from issuing its own (deferred) BEGIN; _on_sqlite_begin issues ours.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # busy_timeout first, so that switching to WAL waits for other processes instead of failing.
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        # Safe with WAL (a power cut may lose the last commits, never corrupt the database), and it
        # spares a filesystem sync on every commit.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    # WAL lets readers proceed while one writer writes, across threads and processes. Switching a
    # new database to WAL needs an exclusive lock, and when two processes open it at the same moment
    # SQLite may report SQLITE_BUSY at once instead of calling the busy handler, so wait here instead.
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.fetchall()
            return
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
