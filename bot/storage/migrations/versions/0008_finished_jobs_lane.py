"""Finished jobs in a lane of their own, and the claim's index without a condition.

0007 indexed the unfinished jobs with a partial index, whose dialect options (`sqlite_where`,
`postgresql_where`) in the tables' definition made every process load SQLAlchemy's PostgreSQL dialect
(≈0.7 MB, on SQLite too). Jobs done or failed for good now move to lane 9, which no claim reads, so a
plain index by (lane, run_at, id) serves the claim as well.

Revision ID: 0008
Revises: 0007
Created: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "done_at IS NULL AND failed_at IS NULL"
FINISHED = 9  # bot.storage.jobs.LANE_FINISHED


def upgrade() -> None:
    """Move finished jobs to their lane; replace the partial index with a plain one."""
    jobs = sa.table("jobs", sa.column("lane"), sa.column("done_at"), sa.column("failed_at"))
    op.execute(
        jobs.update().where(sa.or_(jobs.c.done_at.is_not(None), jobs.c.failed_at.is_not(None))).values(lane=FINISHED)
    )
    op.drop_index("ix_jobs_pending", table_name="jobs")
    op.create_index("ix_jobs_lane", "jobs", ["lane", "run_at", "id"])


def downgrade() -> None:
    """Back to 0007's partial index (the finished jobs' lane no longer matters there)."""
    op.drop_index("ix_jobs_lane", table_name="jobs")
    op.create_index(
        "ix_jobs_pending",
        "jobs",
        ["lane", "run_at", "id"],
        sqlite_where=sa.text(PENDING),
        postgresql_where=sa.text(PENDING),
    )
