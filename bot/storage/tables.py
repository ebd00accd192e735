"""The database schema as SQLAlchemy Core tables; private to the storage package."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Slack ids are short, but other chat platforms' ids may not be; 255 is generous everywhere.
ID_LENGTH = 255


def as_utc(moment: datetime) -> datetime:
    """The same moment in UTC; a naive value is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp that is always stored and returned in UTC."""

    # SQLite has no time zone type: SQLAlchemy writes the wall-clock digits and drops the offset,
    # so values are normalised to UTC first, which also keeps its text comparisons chronological.
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; naive values are taken to be UTC already."""
        return None if value is None else as_utc(value)

    def process_result_value(self, value: Any | None, dialect: Dialect) -> datetime | None:
        """Give the core an aware UTC datetime whatever the driver returned."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        return as_utc(value)


def _id_column(name: str, *, nullable: bool = True) -> Column[str]:
    return Column(name, String(ID_LENGTH), nullable=nullable)


incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("title", Text, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    _id_column("commander_id", nullable=False),
    _id_column("declared_by", nullable=False),
    Column("declared_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("summary", Text, nullable=False, default=""),
    Column("private", Boolean, nullable=False, default=False),
    # One chat room belongs to one incident; NULLs (no room yet) never collide.
    _id_column("room_id"),
    _id_column("room_name"),
    _id_column("summary_message_id"),
    _id_column("origin_room_id"),
    # What the resolve form captured, and where the RCA went in the docs repo.
    Column("root_causes", Text, nullable=False, default=""),
    Column("resolution", Text, nullable=False, default=""),
    Column("lessons", Text, nullable=False, default=""),
    Column("rca_wanted", Boolean, nullable=False, default=False),
    Column("rca_path", Text, nullable=True),
    Column("rca_commit", String(64), nullable=True),
    # Times an entry of its timeline was changed or removed (entries added do not count): RCA rows made
    # earlier from the timeline are good while it is unchanged. Not a field of the model, so that a save
    # of an incident read earlier cannot set it back.
    Column("timeline_edits", Integer, nullable=False, server_default="0"),
    UniqueConstraint("room_id", name="uq_incidents_room_id"),
    # Two incidents never share an RCA file, whichever replica chose the name.
    UniqueConstraint("rca_path", name="uq_incidents_rca_path"),
    Index("ix_incidents_status", "status"),
)

timeline_entries = Table(
    "timeline_entries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    _id_column("author_id"),
    Column("text", Text, nullable=False),
    _id_column("source_room_id"),
    _id_column("source_message_id"),
    Column("permalink", Text, nullable=True),
    # A chat message is recorded at most once per incident; entries without a source have NULLs,
    # which a UNIQUE constraint treats as distinct on both SQLite and PostgreSQL.
    UniqueConstraint("incident_id", "source_room_id", "source_message_id", name="uq_timeline_entries_source"),
    Index("ix_timeline_entries_incident_order", "incident_id", "occurred_at", "id"),
    Index("ix_timeline_entries_source", "source_room_id", "source_message_id"),
)

# Who holds each incident role other than the commander (which stays incidents.commander_id).
incident_roles = Table(
    "incident_roles",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(32), primary_key=True),
    _id_column("user_id", nullable=False),
)

timeline_pins = Table(
    "timeline_pins",
    metadata,
    Column(
        "incident_id",
        Integer,
        ForeignKey("incidents.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("room_id", String(ID_LENGTH), primary_key=True),
    Column("message_id", String(ID_LENGTH), primary_key=True),
    Column("user_id", String(ID_LENGTH), primary_key=True),
)

action_items = Table(
    "action_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("action", Text, nullable=False),
    _id_column("owner_id"),
    Column("owner_label", Text, nullable=False, default=""),
    Column("status", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Also what makes concurrent numbering safe: a second writer of the same number loses and retries.
    UniqueConstraint("incident_id", "number", name="uq_action_items_number"),
    Index("ix_action_items_status", "status"),
)

processed_events = Table(
    "processed_events",
    metadata,
    Column("event_id", String(ID_LENGTH), primary_key=True),
    Column("received_at", UTCDateTime, nullable=False),
)

# The page of the Home tab each person last asked for (opening the tab, a pager click), and when: the
# tabs opened lately are published again after a change, at the page their reader is on.
home_tabs = Table(
    "home_tabs",
    metadata,
    Column("user_id", String(ID_LENGTH), primary_key=True),
    Column("page", Integer, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Index("ix_home_tabs_seen_at", "seen_at"),
)

# One row per daily nudge sent (a reminder to an owner, the briefing), claimed before it is queued,
# so restarts and replicas never send the same day's nudge twice.
daily_claims = Table(
    "daily_claims",
    metadata,
    Column("kind", String(32), primary_key=True),
    Column("subject", String(ID_LENGTH), primary_key=True),
    Column("local_date", String(10), primary_key=True),
    Column("claimed_at", UTCDateTime, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(100), nullable=False),
    Column("payload", Text, nullable=False),
    Column("run_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("locked_by", String(ID_LENGTH), nullable=True),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("done_at", UTCDateTime, nullable=True),
    Column("failed_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # A job that must exist once (one DM per owner per resolve): a second one with the key is not stored.
    Column("dedupe_key", String(ID_LENGTH), nullable=True),
    # Put back to wait for a rate limit: the call (method and channel) whose moment the next run has
    # booked; the wait is no attempt.
    Column("paced_for", String(200), nullable=True),
    # The order in which workers take due jobs (bot/storage/jobs.py: incident work, then fan-out that
    # booked its turn, then the rest of the fan-out; finished jobs in a lane of their own), kept as a
    # column so that a claim is a short walk of ix_jobs_lane however many reminders are queued.
    Column("lane", SmallInteger, nullable=False, server_default="0"),
    UniqueConstraint("dedupe_key", name="uq_jobs_dedupe_key"),
    # Counting unfinished jobs, oldest due first (the queue's state and metrics).
    Index("ix_jobs_due", "done_at", "failed_at", "run_at"),
    # The worker's claim: the jobs of a lane, oldest due first.
    Index("ix_jobs_lane", "lane", "run_at", "id"),
)
