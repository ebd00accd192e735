"""Small SQL helpers shared by the repositories and the job store."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Table
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import ClauseElement

# Statements built once per dialect and table: building one (and its cache key) for every request
# cost more than running it. The values go in as parameters.
_IGNORING: dict[tuple[str, str, str | tuple[str, ...] | None], Insert] = {}
# Per table and the columns given: the guards against a second delivery, pins and daily claims.
_IF_ABSENT: dict[tuple[str, tuple[str, ...]], DriverStatement] = {}


def insert_ignoring_conflicts(
    conn: Connection, table: Table, *, returning: str | tuple[str, ...] | None = None
) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect, to execute with the row (or rows) as
    parameters; with `returning`, the statement returns those columns of each row it inserted (none on a
    conflict)."""
    return _ignoring_conflicts(conn.dialect, table, returning)


def _ignoring_conflicts(dialect: Dialect, table: Table, returning: str | tuple[str, ...] | None) -> Insert:
    # Unlike catching IntegrityError, this neither aborts a PostgreSQL transaction nor races:
    # the database itself decides, atomically, whether the row is new. (Each dialect's module is
    # loaded only for a database that uses it.)
    name = dialect.name
    key = (name, table.name, returning)
    stmt = _IGNORING.get(key)
    if stmt is None:
        if name == "postgresql":
            from sqlalchemy.dialects import postgresql

            stmt = postgresql.insert(table).on_conflict_do_nothing()
        elif name == "sqlite":
            from sqlalchemy.dialects import sqlite

            stmt = sqlite.insert(table).on_conflict_do_nothing()
        else:
            raise NotImplementedError(f"unsupported database dialect {name!r}")
        if returning is not None:
            names = (returning,) if isinstance(returning, str) else returning
            stmt = stmt.returning(*(table.c[name] for name in names))
        _IGNORING[key] = stmt
    return stmt


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert the row unless it conflicts with an existing one; True when it was inserted."""
    # RETURNING says reliably whether a row went in; DBAPI rowcount for INSERT is not
    # dependable across drivers (SQLAlchemy does not even keep it by default).
    key = (table.name, tuple(values))
    stmt = _IF_ABSENT.get(key)
    if stmt is None:
        first_key = next(iter(table.primary_key.columns)).name
        stmt = DriverStatement(lambda dialect: _ignoring_conflicts(dialect, table, first_key), column_keys=list(values))
        _IF_ABSENT[key] = stmt
    return bool(stmt.rows(conn, values))


class DriverStatement:
    """A statement compiled once per dialect and run on the pooled driver connection itself.

    For the few statements on the path of every acknowledgement: SQLAlchemy's execution (context,
    events, result object) costs several times what SQLite takes to run one. The values go in through
    the columns' own bind processing, as SQLAlchemy would send them; rows come back as the driver
    returns them (so use it for ids, text and counts), and driver errors are wrapped as SQLAlchemy
    wraps them. The statement joins the connection's transaction, beginning it if need be.
    """

    def __init__(self, build: Callable[[Dialect], ClauseElement], *, column_keys: list[str] | None = None) -> None:
        """`column_keys`: for an INSERT of a table's columns, the columns given (bound by their names)."""
        self._build = build
        self._column_keys = column_keys
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, conn: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        dialect = conn.dialect
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = self._compiled[dialect.name] = _Compiled(self._build(dialect), dialect, self._column_keys)
        params = compiled.parameters(values)
        if not conn.in_transaction():
            conn.begin()  # as SQLAlchemy's autobegin would (on SQLite, the engine's BEGIN IMMEDIATE)
        pooled = conn.connection
        cursor = pooled.cursor()
        try:
            cursor.execute(compiled.sql, params)
            return list(cursor.fetchall()) if cursor.description is not None else []
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, pooled.dbapi_connection, cursor):
                conn.invalidate()
            raise DBAPIError.instance(
                compiled.sql, params, error, dialect.loaded_dbapi.Error, dialect=dialect
            ) from error
        finally:
            cursor.close()


class _Compiled:
    def __init__(self, statement: ClauseElement, dialect: Dialect, column_keys: list[str] | None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self._order = list(compiled.positiontup or ()) if compiled.positional else None
        processors = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()
        }
        self._processors = {name: process for name, process in processors.items() if process is not None}
        # Values the statement carries itself (a literal()), for whatever the caller does not give.
        self._fixed = {name: bind.value for name, bind in compiled.binds.items() if bind.value is not None}

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        processors = self._processors
        if self._fixed:
            values = {**self._fixed, **values}
        ready = {name: (processors[name](value) if name in processors else value) for name, value in values.items()}
        return ready if self._order is None else [ready[name] for name in self._order]
