"""Initial schema: incidents, timeline, pins, action items, processed events and jobs.

Revision ID: 0001
Revises:
Created: 2025-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Revisions spell out their types instead of importing bot.storage.tables, so that later changes
# to the tables cannot silently rewrite history. Timestamps are always written in UTC.
_ID = sa.String(255)
_TIMESTAMP = sa.DateTime(timezone=True)


def _incident_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["incident_id"], ["incidents.id"], name=f"fk_{table}_incident_id_incidents", ondelete="CASCADE"
    )


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("commander_id", _ID, nullable=False),
        sa.Column("declared_by", _ID, nullable=False),
        sa.Column("declared_at", _TIMESTAMP, nullable=False),
        sa.Column("resolved_at", _TIMESTAMP, nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("room_id", _ID, nullable=True),
        sa.Column("room_name", _ID, nullable=True),
        sa.Column("summary_message_id", _ID, nullable=True),
        sa.Column("origin_room_id", _ID, nullable=True),
        sa.Column("root_causes", sa.Text(), nullable=False, server_default=""),
        sa.Column("resolution", sa.Text(), nullable=False, server_default=""),
        sa.Column("lessons", sa.Text(), nullable=False, server_default=""),
        sa.Column("rca_wanted", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("rca_path", sa.Text(), nullable=True),
        sa.Column("rca_commit", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("room_id", name="uq_incidents_room_id"),
    )
    op.create_index("ix_incidents_status", "incidents", ["status"])

    op.create_table(
        "timeline_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("occurred_at", _TIMESTAMP, nullable=False),
        sa.Column("author_id", _ID, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source_room_id", _ID, nullable=True),
        sa.Column("source_message_id", _ID, nullable=True),
        sa.Column("permalink", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_timeline_entries"),
        _incident_fk("timeline_entries"),
        sa.UniqueConstraint("incident_id", "source_room_id", "source_message_id", name="uq_timeline_entries_source"),
    )
    op.create_index("ix_timeline_entries_incident_order", "timeline_entries", ["incident_id", "occurred_at", "id"])
    op.create_index("ix_timeline_entries_source", "timeline_entries", ["source_room_id", "source_message_id"])

    op.create_table(
        "timeline_pins",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("room_id", _ID, nullable=False),
        sa.Column("message_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", "room_id", "message_id", "user_id", name="pk_timeline_pins"),
        _incident_fk("timeline_pins"),
    )

    op.create_table(
        "action_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("owner_id", _ID, nullable=True),
        sa.Column("owner_label", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_action_items"),
        _incident_fk("action_items"),
        sa.UniqueConstraint("incident_id", "number", name="uq_action_items_number"),
    )
    op.create_index("ix_action_items_status", "action_items", ["status"])

    op.create_table(
        "processed_events",
        sa.Column("event_id", _ID, nullable=False),
        sa.Column("received_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_processed_events"),
    )

    op.create_table(
        "daily_claims",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", _ID, nullable=False),
        sa.Column("local_date", sa.String(10), nullable=False),
        sa.Column("claimed_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("kind", "subject", "local_date", name="pk_daily_claims"),
    )

    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("run_at", _TIMESTAMP, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("locked_by", _ID, nullable=True),
        sa.Column("locked_until", _TIMESTAMP, nullable=True),
        sa.Column("done_at", _TIMESTAMP, nullable=True),
        sa.Column("failed_at", _TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_due", "jobs", ["done_at", "failed_at", "run_at"])


def downgrade() -> None:
    """Drop every table."""
    op.drop_index("ix_jobs_due", table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("daily_claims")
    op.drop_table("processed_events")
    op.drop_index("ix_action_items_status", table_name="action_items")
    op.drop_table("action_items")
    op.drop_table("timeline_pins")
    op.drop_index("ix_timeline_entries_source", table_name="timeline_entries")
    op.drop_index("ix_timeline_entries_incident_order", table_name="timeline_entries")
    op.drop_table("timeline_entries")
    op.drop_index("ix_incidents_status", table_name="incidents")
    op.drop_table("incidents")
