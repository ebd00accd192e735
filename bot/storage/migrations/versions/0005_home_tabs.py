"""Home tabs: the page each person last asked for, so that a refresh keeps them on it.

Revision ID: 0005
Revises: 0004
Created: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create home_tabs (tabs opened before the upgrade are refreshed again once reopened)."""
    op.create_table(
        "home_tabs",
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_home_tabs"),
    )
    op.create_index("ix_home_tabs_seen_at", "home_tabs", ["seen_at"])


def downgrade() -> None:
    """Drop home_tabs."""
    op.drop_index("ix_home_tabs_seen_at", table_name="home_tabs")
    op.drop_table("home_tabs")
