"""Exactly once: a job may carry a key no other job has; an RCA file belongs to one incident.

Revision ID: 0002
Revises: 0001
Created: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add jobs.dedupe_key (unique) and make incidents.rca_path unique."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("dedupe_key", sa.String(255), nullable=True))
        batch.create_unique_constraint("uq_jobs_dedupe_key", ["dedupe_key"])
    with op.batch_alter_table("incidents") as batch:
        batch.create_unique_constraint("uq_incidents_rca_path", ["rca_path"])


def downgrade() -> None:
    """Drop both constraints and the column."""
    with op.batch_alter_table("incidents") as batch:
        batch.drop_constraint("uq_incidents_rca_path", type_="unique")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint("uq_jobs_dedupe_key", type_="unique")
        batch.drop_column("dedupe_key")
