"""Timeline edits: how many times an entry of an incident's timeline was changed or removed.

A resolve form has the RCA's timeline rows made while it is open; the count tells the publish whether
the entries they were made from are still as they were (entries added since are made then).

Revision ID: 0006
Revises: 0005
Created: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add incidents.timeline_edits (0 for every incident: nothing made earlier is kept across the upgrade)."""
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("timeline_edits", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Drop incidents.timeline_edits."""
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("timeline_edits")
