"""Paced jobs: a job put back to wait for Slack's rate limit records which call's moment it booked.

Revision ID: 0003
Revises: 0002
Created: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add jobs.paced_for."""
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("paced_for", sa.String(200), nullable=True))


def downgrade() -> None:
    """Drop jobs.paced_for."""
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("paced_for")
