"""The worker's side of the job queue: claim due jobs under a lease, then finish them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, and_, delete, func, or_, select, update

from bot.core.ports import Job, JobStore
from bot.storage.engine import READ_ONLY
from bot.storage.tables import jobs

# Tracebacks can be long; the newest lines matter most and a row should stay small.
_MAX_ERROR_CHARS = 8000

# When a competing worker takes the candidate between our SELECT and UPDATE, try the next one.
_MAX_CLAIM_ATTEMPTS = 5


class SqlJobStore:
    """Durable jobs claimed exactly once per lease by any number of threads and processes."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, worker_id: str, now: datetime, lease_seconds: float) -> Job | None:
        """Lease the oldest due job to `worker_id`, counting the attempt; None when nothing is due."""
        lease_until = now + timedelta(seconds=lease_seconds)
        with self._engine.begin() as conn:
            for _ in range(_MAX_CLAIM_ATTEMPTS):
                job_id = conn.execute(
                    select(jobs.c.id)
                    .where(_claimable(now))
                    .order_by(jobs.c.run_at, jobs.c.id)
                    .limit(1)
                    # PostgreSQL: lock the row and let other workers skip to the next one.
                    # SQLite ignores this; its BEGIN IMMEDIATE already makes claims take turns.
                    .with_for_update(skip_locked=True)
                ).scalar_one_or_none()
                if job_id is None:
                    return None
                # Re-checking the conditions makes the claim safe even without row locks.
                claimed = conn.execute(
                    update(jobs)
                    .where(jobs.c.id == job_id, _claimable(now))
                    .values(locked_by=worker_id, locked_until=lease_until, attempts=jobs.c.attempts + 1)
                )
                if claimed.rowcount == 1:
                    return _load(conn, job_id)
        return None

    def complete(self, job_id: int, now: datetime) -> None:
        """Mark the job done; it will not run again."""
        self._finish(job_id, done_at=now)

    def retry(self, job_id: int, error: str, run_at: datetime) -> None:
        """Release the job to run again at `run_at`, remembering why this attempt failed."""
        self._finish(job_id, run_at=run_at, last_error=error[-_MAX_ERROR_CHARS:])

    def fail(self, job_id: int, error: str, now: datetime) -> None:
        """Give up on the job for good, remembering why."""
        self._finish(job_id, failed_at=now, last_error=error[-_MAX_ERROR_CHARS:])

    def pending(self) -> int:
        """How many jobs are neither done nor failed (due or not, leased or not)."""
        with self._engine.connect() as conn, conn.execution_options(**READ_ONLY).begin():
            return conn.execute(
                select(func.count()).select_from(jobs).where(jobs.c.done_at.is_(None), jobs.c.failed_at.is_(None))
            ).scalar_one()

    def reschedule(self, kind: str, now: datetime) -> int:
        """Make every unfinished or failed job of `kind` due now (an operator's "retry now"); returns how many."""
        with self._engine.begin() as conn:
            result = conn.execute(
                update(jobs)
                .where(jobs.c.kind == kind, jobs.c.done_at.is_(None))
                .values(run_at=now, failed_at=None, locked_by=None, locked_until=None)
            )
            return result.rowcount

    def unfinished(self, kind: str) -> list[tuple[int, str | None]]:
        """Jobs of `kind` not done yet (pending or failed), with their last error."""
        with self._engine.connect() as conn, conn.execution_options(**READ_ONLY).begin():
            rows = conn.execute(
                select(jobs.c.id, jobs.c.last_error).where(jobs.c.kind == kind, jobs.c.done_at.is_(None))
            )
            return [(row.id, row.last_error) for row in rows]

    def purge_finished(self, before: datetime) -> int:
        """Delete jobs that were done or failed before `before` (housekeeping); returns how many."""
        with self._engine.begin() as conn:
            result = conn.execute(delete(jobs).where(or_(jobs.c.done_at < before, jobs.c.failed_at < before)))
            return result.rowcount

    def _finish(self, job_id: int, **values: Any) -> None:
        # Every outcome releases the lease so that the job's row says plainly who holds it.
        with self._engine.begin() as conn:
            conn.execute(update(jobs).where(jobs.c.id == job_id).values(locked_by=None, locked_until=None, **values))


def _claimable(now: datetime) -> Any:
    return and_(
        jobs.c.done_at.is_(None),
        jobs.c.failed_at.is_(None),
        jobs.c.run_at <= now,
        or_(jobs.c.locked_until.is_(None), jobs.c.locked_until <= now),
    )


def _load(conn: Connection, job_id: int) -> Job:
    row = conn.execute(select(jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts).where(jobs.c.id == job_id)).one()
    payload = json.loads(row.payload)
    return Job(id=row.id, kind=row.kind, payload=payload, attempts=row.attempts)


if TYPE_CHECKING:

    def _conforms(engine: Engine) -> JobStore:
        # mypy checks here that SqlJobStore satisfies the core's protocol.
        return SqlJobStore(engine)
