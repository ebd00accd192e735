"""The worker's side of the job queue: claim due jobs under a short lease, renew it, then finish them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import Connection, Engine, Row, and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.sql.dml import Update
from sqlalchemy.sql.elements import ColumnElement

from bot.core.jobs import FAN_OUT_KINDS, JOBS, ClaimedJob, Job, Next
from bot.core.ports import JobStore
from bot.storage.engine import READ_ONLY
from bot.storage.sql import insert_ignoring_conflicts
from bot.storage.tables import jobs

# Tracebacks can be long; the newest lines matter most and a row should stay small.
_MAX_ERROR_CHARS = 8000

# The lanes (jobs.lane), in the order workers take due jobs: incident work (never behind a morning's
# reminders), fan-out that booked its turn of the lane when it was put back, then the rest of the fan-out.
# A job done or failed for good moves to a lane of its own, which no claim reads, so that ix_jobs_lane
# (lane, run_at, id) leads a claim straight to the unfinished jobs of a lane, with no partial index
# (whose dialect options would load SQLAlchemy's PostgreSQL dialect into a bot that runs on SQLite).
LANE_WORK, LANE_BOOKED, LANE_FAN_OUT, LANE_FINISHED = 0, 1, 2, 9
_EVERY_LANE = (LANE_WORK, LANE_BOOKED, LANE_FAN_OUT)
_NO_FAN_OUT_TURN = (LANE_WORK, LANE_BOOKED)  # the fan-out lane has no turn free now


def lane_of(kind: str) -> int:
    """The lane a new job of `kind` waits in."""
    return LANE_FAN_OUT if kind in FAN_OUT_KINDS else LANE_WORK


def insert_job(
    conn: Connection, job: Job, *, now: datetime, run_at: datetime | None = None, key: str | None = None
) -> None:
    """Store `job` in the caller's transaction; with a `key` already stored, store nothing."""
    values = {
        "kind": job.kind,
        # Serialising here, not in the worker, makes a bad job fail the request (or job) that made it.
        "payload": job.model_dump_json(),
        "run_at": run_at or now,
        "attempts": 0,
        "created_at": now,
        "dedupe_key": key,
        "lane": lane_of(job.kind),
    }
    conn.execute(insert_ignoring_conflicts(conn, jobs), values)


def insert_jobs(conn: Connection, batch: Sequence[Job], *, now: datetime) -> None:
    """Store these jobs, due now, in the caller's transaction, in one statement."""
    rows = [
        {
            "kind": job.kind,
            "payload": job.model_dump_json(),
            "run_at": now,
            "attempts": 0,
            "created_at": now,
            "lane": lane_of(job.kind),
        }
        for job in batch
    ]
    conn.execute(jobs.insert(), rows)


@dataclass(frozen=True)
class QueueState:
    pending: int
    running: int
    next_run_at: datetime | None


@dataclass(frozen=True)
class QueueStats:
    """What /metrics shows of the queue."""

    due: int  # neither done nor failed, due now (running ones included)
    later: int  # neither done nor failed, dated later
    oldest_due_seconds: float  # how long the oldest due one has waited


class SqlJobStore:
    """Durable jobs claimed exactly once per lease by any number of threads and processes."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def claim(self, worker_id: str, now: datetime, lease_seconds: float, *, fan_out: bool = True) -> ClaimedJob | None:
        """Lease the oldest due job to `worker_id`, counting the attempt; None when nothing is due.

        `fan_out=False` (the fan-out lane has no turn free now): a job of another kind, or a fan-out job
        that booked its turn when it was put back."""
        lease_until = now + timedelta(seconds=lease_seconds)
        lanes = _EVERY_LANE if fan_out else _NO_FAN_OUT_TURN
        # Idle workers poll: looking costs no write lock, so only a worker that sees a due job takes one.
        # Each look reads the first few entries of one lane in ix_jobs_lane.
        with self._engine.connect() as peek, peek.execution_options(**READ_ONLY).begin():
            due = next((lane for lane in lanes if peek.execute(_ANY_DUE, {"now": now, "in_lane": lane}).first()), None)
        if due is None:
            return None
        params = {"now": now, "worker_id": worker_id, "lease_until": lease_until}
        with self._engine.begin() as conn:
            # Another worker may take the job seen meanwhile: then the next lane's, if one is due.
            for lane in lanes[lanes.index(due) :]:
                row = conn.execute(_CLAIM, {**params, "in_lane": lane}).first()
                if row is not None:
                    return _claimed(row)
            return None

    def complete(self, job_id: int, now: datetime, *, then: Sequence[Next] = (), holder: str | None = None) -> bool:
        """Mark the job done and store what follows from it, in one transaction.

        `holder` (here and below): only while this worker still holds the job's lease; False when it
        does not (its lease ran out and another worker took the job, or it gave the lease back).
        """
        return self._finish(job_id, now, then, holder, done_at=now, paced_for=None, lane=LANE_FINISHED)

    def defer(self, job_id: int, run_at: datetime, *, booked_for: str, holder: str | None = None) -> bool:
        """Put the job back until `run_at` to wait for a rate limit; the wait does not count as an attempt.

        `booked_for` names the call whose moment is booked: the next run makes that call without taking
        another turn (the calls before it, which are not limited or have turns free, take theirs as usual).
        """
        return self._finish(
            job_id,
            run_at,
            (),
            holder,
            run_at=run_at,
            paced_for=booked_for[:200],
            attempts=_ONE_ATTEMPT_BACK,
            lane=_BOOKED_IF_FAN_OUT,
        )

    def retry(
        self,
        job_id: int,
        error: str,
        run_at: datetime,
        *,
        now: datetime | None = None,
        then: Sequence[Next] = (),
        holder: str | None = None,
    ) -> bool:
        """Release the job to run again at `run_at`, remembering why; `then` is stored to run from `now`."""
        return self._finish(
            job_id,
            now or run_at,
            then,
            holder,
            run_at=run_at,
            paced_for=None,
            last_error=error[-_MAX_ERROR_CHARS:],
            lane=_UNBOOKED_IF_FAN_OUT,
        )

    def fail(
        self, job_id: int, error: str, now: datetime, *, then: Sequence[Next] = (), holder: str | None = None
    ) -> bool:
        """Give up on the job for good, remembering why; `then` (what follows from the failure) is stored with it."""
        return self._finish(
            job_id, now, then, holder, failed_at=now, last_error=error[-_MAX_ERROR_CHARS:], lane=LANE_FINISHED
        )

    def renew(self, job_ids: Sequence[int], worker_id: str, until: datetime) -> None:
        """Extend the leases `worker_id` still holds on these jobs."""
        if not job_ids:
            return
        with self._engine.begin() as conn:
            conn.execute(
                update(jobs)
                .where(jobs.c.id.in_(list(job_ids)), jobs.c.locked_by == worker_id, jobs.c.done_at.is_(None))
                .values(locked_until=until)
            )

    def release(self, job_ids: Sequence[int], worker_id: str) -> None:
        """Give up `worker_id`'s leases on these jobs, so another worker takes them now."""
        if not job_ids:
            return
        with self._engine.begin() as conn:
            conn.execute(
                update(jobs)
                .where(jobs.c.id.in_(list(job_ids)), jobs.c.locked_by == worker_id)
                .values(locked_by=None, locked_until=None)
            )

    def queue_stats(self, now: datetime) -> QueueStats:
        """Jobs due and not done, jobs dated later (an archive a week out, a paced post's turn), and how
        long the oldest due one has waited (s)."""
        waiting = and_(jobs.c.done_at.is_(None), jobs.c.failed_at.is_(None))
        with self._engine.connect() as conn, conn.execution_options(**READ_ONLY).begin():
            due, oldest = conn.execute(
                select(func.count(), func.min(jobs.c.run_at)).where(waiting, jobs.c.run_at <= now)
            ).one()
            later = conn.execute(
                select(func.count()).select_from(jobs).where(waiting, jobs.c.run_at > now)
            ).scalar_one()
        if oldest is None:
            return QueueStats(due=int(due), later=int(later), oldest_due_seconds=0.0)
        if oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=now.tzinfo)
        return QueueStats(due=int(due), later=int(later), oldest_due_seconds=max(0.0, (now - oldest).total_seconds()))

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

    def failed_since(self, since: datetime) -> list[tuple[ClaimedJob, str]]:
        """Jobs that failed for good at or after `since`, with why (for the CLI's report)."""
        with self._engine.connect() as conn, conn.execution_options(**READ_ONLY).begin():
            ids = list(conn.execute(select(jobs.c.id).where(jobs.c.failed_at >= since).order_by(jobs.c.id)).scalars())
            return [(_load(conn, job_id), _error(conn, job_id)) for job_id in ids]

    def queue_state(self, now: datetime) -> QueueState:
        """How many jobs are waiting, how many are being worked on now, and when the next one comes due."""
        unfinished = and_(jobs.c.done_at.is_(None), jobs.c.failed_at.is_(None))
        leased = and_(unfinished, jobs.c.locked_until.is_not(None), jobs.c.locked_until > now)
        with self._engine.connect() as conn, conn.execution_options(**READ_ONLY).begin():
            pending = conn.execute(select(func.count()).select_from(jobs).where(unfinished)).scalar_one()
            running = conn.execute(select(func.count()).select_from(jobs).where(leased)).scalar_one()
            next_run = conn.execute(select(func.min(jobs.c.run_at)).where(unfinished, ~leased)).scalar_one()
        return QueueState(pending=pending, running=running, next_run_at=next_run)

    def outstanding(self, kind: str) -> int:
        """Jobs of `kind` neither done nor failed (due now, leased, or waiting to be retried)."""
        with self._engine.connect() as conn, conn.execution_options(**READ_ONLY).begin():
            return conn.execute(
                select(func.count())
                .select_from(jobs)
                .where(jobs.c.kind == kind, jobs.c.done_at.is_(None), jobs.c.failed_at.is_(None))
            ).scalar_one()

    def purge_finished(self, before: datetime) -> int:
        """Delete jobs that were done or failed before `before` (housekeeping); returns how many."""
        with self._engine.begin() as conn:
            result = conn.execute(delete(jobs).where(or_(jobs.c.done_at < before, jobs.c.failed_at < before)))
            return result.rowcount

    def _finish(self, job_id: int, now: datetime, then: Sequence[Next], holder: str | None, **values: Any) -> bool:
        # Every outcome releases the lease so that the job's row says plainly who holds it.
        params = {"job_id": job_id, "holder": holder}
        params.update((f"v_{name}", value) for name, value in values.items() if not isinstance(value, ColumnElement))
        with self._engine.begin() as conn:
            changed = conn.execute(_finishing(values, by_holder=holder is not None), params)
            if changed.rowcount != 1:
                return False
            for follow in then:
                run_at = now + timedelta(seconds=follow.delay_seconds) if follow.delay_seconds else now
                insert_job(conn, follow.job, now=now, run_at=run_at, key=follow.key)
        return True


def _claimable(now: Any) -> Any:
    # Not finished, spelled as one expression that no index serves: with `done_at IS NULL AND failed_at IS
    # NULL`, PostgreSQL picks ix_jobs_due whenever its statistics are stale (as after a morning's 2,000
    # reminders were queued) and sorts every due job of the lane, 12 ms a claim; ix_jobs_lane gives them
    # in order. It still keeps out a job finished but left in its lane (by a replica older than the lanes).
    return and_(
        func.coalesce(jobs.c.done_at, jobs.c.failed_at).is_(None),
        jobs.c.run_at <= now,
        or_(jobs.c.locked_until.is_(None), jobs.c.locked_until <= now),
    )


# Built once: the worker runs these for every job (and polls with the first).
_DUE_NOW = _claimable(bindparam("now", type_=jobs.c.run_at.type))
# The jobs of one lane (ix_jobs_lane: finished ones are in a lane of their own).
_IN_LANE = jobs.c.lane == bindparam("in_lane")
_ANY_DUE = select(jobs.c.id).where(_IN_LANE, _DUE_NOW).order_by(jobs.c.run_at, jobs.c.id).limit(1)
_LOADED = (jobs.c.id, jobs.c.kind, jobs.c.payload, jobs.c.attempts, jobs.c.paced_for)
# A fan-out job put back for its turn of the lane has booked it; one put back for another reason has not.
_BOOKED_IF_FAN_OUT = case((jobs.c.lane == LANE_WORK, LANE_WORK), else_=LANE_BOOKED)
_UNBOOKED_IF_FAN_OUT = case((jobs.c.lane == LANE_WORK, LANE_WORK), else_=LANE_FAN_OUT)


def _claim() -> Any:
    """One statement that picks the oldest due job of a lane, leases it and returns it. PostgreSQL: the
    row is locked and other workers skip to the next one; SQLite ignores that, its BEGIN IMMEDIATE already
    makes claims take turns. The conditions are checked again on the row being updated, so a claim is safe
    even without row locks."""
    return (
        update(jobs)
        .where(
            jobs.c.id
            == select(jobs.c.id)
            .where(_IN_LANE, _DUE_NOW)
            .order_by(jobs.c.run_at, jobs.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery(),
            _DUE_NOW,
        )
        .values(
            locked_by=bindparam("worker_id"),
            locked_until=bindparam("lease_until", type_=jobs.c.locked_until.type),
            attempts=jobs.c.attempts + 1,
        )
        .returning(*_LOADED)
    )


_CLAIM = _claim()


_ONE_ATTEMPT_BACK = jobs.c.attempts - 1
# How a job's outcome is written, per set of columns written (and whether only its holder may): built once.
_FINISHING: dict[tuple[Any, ...], Update] = {}


def _finishing(values: dict[str, Any], *, by_holder: bool) -> Update:
    """An UPDATE releasing the job's lease and writing `values` (bound as `v_<column>`; an SQL expression
    is written as it is)."""
    # Expressions are module constants (_ONE_ATTEMPT_BACK), told apart by identity: comparing SQL
    # expressions with == builds another expression.
    key = (*((name, id(value) if isinstance(value, ColumnElement) else 0) for name, value in values.items()), by_holder)
    stmt = _FINISHING.get(key)
    if stmt is None:
        mine = jobs.c.id == bindparam("job_id")
        if by_holder:
            mine = and_(mine, jobs.c.locked_by == bindparam("holder"))
        written = {
            name: value if isinstance(value, ColumnElement) else bindparam(f"v_{name}", type_=jobs.c[name].type)
            for name, value in values.items()
        }
        stmt = _FINISHING[key] = update(jobs).where(mine).values(locked_by=None, locked_until=None, **written)
    return stmt


def _error(conn: Connection, job_id: int) -> str:
    return str(conn.execute(select(jobs.c.last_error).where(jobs.c.id == job_id)).scalar_one() or "")


def _load(conn: Connection, job_id: int) -> ClaimedJob:
    return _claimed(conn.execute(select(*_LOADED).where(jobs.c.id == job_id)).one())


def _claimed(row: Row[Any, Any, Any, Any, Any]) -> ClaimedJob:
    try:
        job = JOBS.validate_json(row.payload)
    except ValidationError as error:
        # A job stored by an older version that this one no longer reads: reported, never run.
        return ClaimedJob(id=row.id, attempts=row.attempts, kind=row.kind, job=None, problem=str(error))
    return ClaimedJob(id=row.id, attempts=row.attempts, kind=row.kind, job=job, paced_for=row.paced_for)


if TYPE_CHECKING:

    def _conforms(engine: Engine) -> JobStore:
        # mypy checks here that SqlJobStore satisfies the core's protocol.
        return SqlJobStore(engine)
