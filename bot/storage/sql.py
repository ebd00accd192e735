"""Small SQL helpers shared by the repositories and the job store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignoring_conflicts(
    conn: Connection, table: Table, values: dict[str, Any]
) -> postgresql.Insert | sqlite.Insert:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect."""
    # Unlike catching IntegrityError, this neither aborts a PostgreSQL transaction nor races:
    # the database itself decides, atomically, whether the row is new.
    name = conn.dialect.name
    if name == "postgresql":
        return postgresql.insert(table).values(values).on_conflict_do_nothing()
    if name == "sqlite":
        return sqlite.insert(table).values(values).on_conflict_do_nothing()
    raise NotImplementedError(f"unsupported database dialect {name!r}")


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert the row unless it conflicts with an existing one; True when it was inserted."""
    # RETURNING says reliably whether a row went in; DBAPI rowcount for INSERT is not
    # dependable across drivers (SQLAlchemy does not even keep it by default).
    first_key = next(iter(table.primary_key.columns))
    stmt = insert_ignoring_conflicts(conn, table, values).returning(first_key)
    return conn.execute(stmt).first() is not None
