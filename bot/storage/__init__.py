"""Persistence on SQLite or PostgreSQL; the only package that knows about SQLAlchemy."""

from bot.storage.engine import create_engine_for
from bot.storage.jobs import SqlJobStore
from bot.storage.migrate import migrate
from bot.storage.unit_of_work import SqlUnitOfWork

__all__ = ["SqlJobStore", "SqlUnitOfWork", "create_engine_for", "migrate"]
