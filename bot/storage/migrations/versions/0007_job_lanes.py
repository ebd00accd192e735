"""Job lanes: the order in which workers take due jobs, kept in a column with an index of its own.

A claim used to sort every due job by "is it fan-out", so that with a morning's 2,000 reminders queued
each claim read all of them (2 ms on SQLite, inside the write lock the acks also need; 5 ms on
PostgreSQL). With `lane` (0 incident work, 1 fan-out that booked its turn, 2 the rest of the fan-out)
and a partial index of the unfinished jobs by (lane, run_at, id), a claim reads a few index entries.

Revision ID: 0007
Revises: 0006
Created: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "done_at IS NULL AND failed_at IS NULL"
# The fan-out kinds when this revision was written (bot.core.jobs.FAN_OUT_KINDS).
FAN_OUT = ("send_action_items",)


def upgrade() -> None:
    """Add jobs.lane, set it for the unfinished jobs, and index the unfinished jobs by lane."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("lane", sa.SmallInteger(), nullable=False, server_default="0"))
    jobs = sa.table("jobs", sa.column("kind"), sa.column("paced_for"), sa.column("lane"), sa.column("done_at"))
    fan_out = jobs.c.kind.in_(FAN_OUT)
    op.execute(
        jobs.update()
        .where(fan_out, jobs.c.done_at.is_(None))
        .values(lane=sa.case((jobs.c.paced_for.is_not(None), 1), else_=2))
    )
    op.create_index(
        "ix_jobs_pending",
        "jobs",
        ["lane", "run_at", "id"],
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )


def downgrade() -> None:
    """Drop the index and jobs.lane."""
    op.drop_index("ix_jobs_pending", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("lane")
