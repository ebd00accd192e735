"""The SQL unit of work: one transaction shared by all repositories."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, delete, select, update

from bot.core.errors import Duplicate
from bot.core.jobs import Job
from bot.core.models import ActionStatus
from bot.core.ports import (
    ActionItemRepo,
    Clock,
    DailyClaims,
    EventLog,
    HomeTabs,
    IncidentRepo,
    JobQueue,
    PinRepo,
    TimelineRepo,
    UnitOfWork,
)
from bot.core.requests import take_pending_request
from bot.storage.engine import READ_ONLY
from bot.storage.incident_repos import (
    ConnectionSource,
    SqlActionItemRepo,
    SqlIncidentRepo,
    SqlPinRepo,
    SqlTimelineRepo,
)
from bot.storage.jobs import insert_job, insert_jobs
from bot.storage.sql import insert_if_absent, insert_ignoring_conflicts
from bot.storage.tables import daily_claims, home_tabs, processed_events
from bot.storage.tables import jobs as jobs_table

log = logging.getLogger(__name__)


class SqlEventLog:
    """Ids of chat events already handled, so that redeliveries are ignored."""

    def __init__(self, connection: ConnectionSource, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock

    def first_delivery(self, event_id: str) -> bool:
        """Record an event id; False when it was seen before (a retry or duplicate)."""
        values = {"event_id": event_id, "received_at": self._clock.now()}
        # One atomic statement, so two processes receiving the same event cannot both get True.
        return insert_if_absent(self._conn(), processed_events, values)

    def forget_before(self, cutoff: datetime) -> int:
        """Delete event ids received before `cutoff` (housekeeping); returns how many."""
        result = self._conn().execute(delete(processed_events).where(processed_events.c.received_at < cutoff))
        return result.rowcount


class SqlDailyClaims:
    """Daily nudges already claimed, per kind, subject and local date."""

    def __init__(self, connection: ConnectionSource, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock

    def claim(self, kind: str, subject: str, day: date) -> bool:
        """Claim today's nudge; False when this or another process already did."""
        values = {"kind": kind, "subject": subject, "local_date": day.isoformat(), "claimed_at": self._clock.now()}
        return insert_if_absent(self._conn(), daily_claims, values)

    def claim_many(self, kind: str, wanted: Sequence[tuple[str, date]]) -> set[tuple[str, date]]:
        if not wanted:
            return set()
        now = self._clock.now()
        rows = [{"kind": kind, "subject": s, "local_date": d.isoformat(), "claimed_at": now} for s, d in wanted]
        # One INSERT … ON CONFLICT DO NOTHING for all of them (SQLAlchemy sends the rows as one multi-row
        # statement); RETURNING names the rows that went in, so a claim another process holds is skipped.
        conn = self._conn()
        stmt = insert_ignoring_conflicts(conn, daily_claims, returning=("subject", "local_date"))
        inserted = conn.execute(stmt, rows).all()
        return {(subject, date.fromisoformat(day)) for subject, day in inserted}

    def release(self, kind: str, subject: str, day: date) -> None:
        """Give a claim back: the nudge could not be sent, so a later check sends it."""
        self._conn().execute(
            delete(daily_claims).where(
                daily_claims.c.kind == kind,
                daily_claims.c.subject == subject,
                daily_claims.c.local_date == day.isoformat(),
            )
        )

    def claimed(self, kind: str, subject: str, day: date) -> bool:
        row = self._conn().execute(
            select(daily_claims.c.kind).where(
                daily_claims.c.kind == kind,
                daily_claims.c.subject == subject,
                daily_claims.c.local_date == day.isoformat(),
            )
        )
        return row.first() is not None


class SqlHomeTabs:
    """The page of the Home tab each person last asked for."""

    def __init__(self, connection: ConnectionSource, clock: Clock) -> None:
        self._conn = connection
        self._clock = clock

    def looked_at(self, user_id: str, page: int) -> None:
        values = {"page": page, "seen_at": self._clock.now()}
        conn = self._conn()
        change = update(home_tabs).where(home_tabs.c.user_id == user_id).values(values)
        # A person's first look inserts their row; two first looks at once: the loser updates it.
        if conn.execute(change).rowcount == 0 and not insert_if_absent(conn, home_tabs, {"user_id": user_id, **values}):
            conn.execute(change)

    def page_of(self, user_id: str) -> int:
        page = self._conn().execute(select(home_tabs.c.page).where(home_tabs.c.user_id == user_id)).scalar()
        return int(page) if page is not None else 0

    def recent(self, since: datetime, *, limit: int) -> list[str]:
        rows = self._conn().execute(
            select(home_tabs.c.user_id)
            .where(home_tabs.c.seen_at >= since)
            .order_by(home_tabs.c.seen_at.desc(), home_tabs.c.user_id)
            .limit(limit)
        )
        return [user for (user,) in rows]


class SqlJobQueue:
    """The services' side of the durable job queue: jobs are stored in the same transaction."""

    def __init__(self, connection: ConnectionSource, clock: Clock, on_enqueue: Callable[[], None]) -> None:
        self._conn = connection
        self._clock = clock
        self._on_enqueue = on_enqueue

    def rows_being_written(self) -> dict[tuple[str, int], ActionStatus]:
        rows = self._conn().execute(
            select(jobs_table.c.payload)
            .where(
                jobs_table.c.kind == "update_rca_row", jobs_table.c.done_at.is_(None), jobs_table.c.failed_at.is_(None)
            )
            .order_by(jobs_table.c.id)
        )
        found: dict[tuple[str, int], ActionStatus] = {}
        for (payload,) in rows:
            try:
                job = json.loads(payload)
                found[(str(job["path"]), int(job["number"]))] = ActionStatus(job["status"])
            except (ValueError, KeyError, TypeError):
                continue
        return found

    def enqueue(self, job: Job, *, run_at: datetime | None = None, key: str | None = None) -> None:
        """Store a job to run at `run_at` (default now) once the transaction commits; a known `key` is skipped."""
        insert_job(self._conn(), job, now=self._clock.now(), run_at=run_at, key=key)
        self._on_enqueue()

    def enqueue_many(self, jobs: Sequence[Job]) -> None:
        if jobs:
            insert_jobs(self._conn(), jobs, now=self._clock.now())
            self._on_enqueue()


class SqlUnitOfWork:
    """A UnitOfWork on one database connection; use it in a `with` block and call commit()."""

    incidents: IncidentRepo
    timeline: TimelineRepo
    pins: PinRepo
    actions: ActionItemRepo
    events: EventLog
    claims: DailyClaims
    jobs: JobQueue
    home_tabs: HomeTabs

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock,
        on_jobs_enqueued: Callable[[], None] | None = None,
        read_only: bool = False,
    ) -> None:
        """`read_only` units never wait for (or take) SQLite's write lock; they must not write."""
        self._engine = engine
        self._read_only = read_only
        self._on_jobs_enqueued = on_jobs_enqueued
        self._connection: Connection | None = None
        self._jobs_enqueued = False
        self.incidents = SqlIncidentRepo(self._conn)
        self.timeline = SqlTimelineRepo(self._conn)
        self.pins = SqlPinRepo(self._conn)
        self.actions = SqlActionItemRepo(self._conn)
        self.events = SqlEventLog(self._conn, clock)
        self.claims = SqlDailyClaims(self._conn, clock)
        self.jobs = SqlJobQueue(self._conn, clock, self._note_enqueued)
        self.home_tabs = SqlHomeTabs(self._conn, clock)

    def __enter__(self) -> SqlUnitOfWork:
        if self._connection is not None:
            raise RuntimeError("this unit of work is already in use; make a new one")
        # The transaction itself begins with the first statement (SQLAlchemy's autobegin), so a
        # request that never touches the database never takes SQLite's write lock.
        connection = self._engine.connect()
        self._connection = connection.execution_options(**READ_ONLY) if self._read_only else connection
        self._jobs_enqueued = False
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        connection, self._connection = self._connection, None
        self._jobs_enqueued = False
        if connection is None:
            return
        try:
            if connection.in_transaction():
                connection.rollback()
        finally:
            connection.close()

    def commit(self) -> None:
        """Commit everything done so far; the unit of work stays usable for a new transaction.

        The first commit while a request is handled (`bot.core.requests`) records the request too;
        when it was recorded before (a replay), nothing is committed and `Duplicate` is raised.
        """
        connection = self._conn()
        if not self._read_only and connection.in_transaction():
            key = take_pending_request()
            if key is not None and not self.events.first_delivery(key):
                connection.rollback()
                raise Duplicate("this request was applied before")
        connection.commit()
        if self._jobs_enqueued:
            self._jobs_enqueued = False
            self._wake_worker()

    def _conn(self) -> Connection:
        if self._connection is None:
            raise RuntimeError("use SqlUnitOfWork inside a `with` block")
        return self._connection

    def _note_enqueued(self) -> None:
        self._jobs_enqueued = True

    def _wake_worker(self) -> None:
        if self._on_jobs_enqueued is None:
            return
        try:
            self._on_jobs_enqueued()
        except Exception:
            # The jobs are committed and the worker polls anyway; a failed wake-up only delays them.
            log.exception("on_jobs_enqueued callback failed")


if TYPE_CHECKING:

    def _conforms(engine: Engine, clock: Clock) -> UnitOfWork:
        # mypy checks here that SqlUnitOfWork satisfies the core's protocol.
        return SqlUnitOfWork(engine, clock=clock)
