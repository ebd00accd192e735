"""Small SQL helpers shared by the repositories and the job store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.sql.dml import Insert


def insert_ignoring_conflicts(conn: Connection, table: Table, values: dict[str, Any]) -> Insert:
    """INSERT … ON CONFLICT DO NOTHING in the connection's dialect."""
    # Unlike catching IntegrityError, this neither aborts a PostgreSQL transaction nor races:
    # the database itself decides, atomically, whether the row is new. (Each dialect's module is
    # loaded only for a database that uses it.)
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).values(values).on_conflict_do_nothing()
    if name == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).values(values).on_conflict_do_nothing()
    raise NotImplementedError(f"unsupported database dialect {name!r}")


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert the row unless it conflicts with an existing one; True when it was inserted."""
    # RETURNING says reliably whether a row went in; DBAPI rowcount for INSERT is not
    # dependable across drivers (SQLAlchemy does not even keep it by default).
    first_key = next(iter(table.primary_key.columns))
    stmt = insert_ignoring_conflicts(conn, table, values).returning(first_key)
    return conn.execute(stmt).first() is not None
