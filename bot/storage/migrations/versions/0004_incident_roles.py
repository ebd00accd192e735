"""Incident roles: who is the communications lead, the scribe, … of each incident.

Revision ID: 0004
Revises: 0003
Created: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create incident_roles (the commander stays incidents.commander_id)."""
    op.create_table(
        "incident_roles",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "role", name="pk_incident_roles"),
        sa.ForeignKeyConstraint(
            ["incident_id"], ["incidents.id"], name="fk_incident_roles_incident_id_incidents", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    """Drop incident_roles."""
    op.drop_table("incident_roles")
