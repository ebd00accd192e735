"""Small SQL helpers shared by the repositories and the job store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.sql.dml import Insert

# Statements built once per dialect and table: building one (and its cache key) for every request
# cost more than running it. The values go in as parameters.
_IGNORING: dict[tuple[str, str, str | None], Insert] = {}


def insert_ignoring_conflicts(conn: Connection, table: Table, *, returning: str | None = None) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect, to execute with the row as parameters;
    with `returning`, the statement returns that column of the row it inserted (none on a conflict)."""
    # Unlike catching IntegrityError, this neither aborts a PostgreSQL transaction nor races:
    # the database itself decides, atomically, whether the row is new. (Each dialect's module is
    # loaded only for a database that uses it.)
    name = conn.dialect.name
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
            stmt = stmt.returning(table.c[returning])
        _IGNORING[key] = stmt
    return stmt


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert the row unless it conflicts with an existing one; True when it was inserted."""
    # RETURNING says reliably whether a row went in; DBAPI rowcount for INSERT is not
    # dependable across drivers (SQLAlchemy does not even keep it by default).
    first_key = next(iter(table.primary_key.columns)).name
    return conn.execute(insert_ignoring_conflicts(conn, table, returning=first_key), values).first() is not None
