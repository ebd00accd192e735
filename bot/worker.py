"""Background threads that run the durable jobs queued by the Slack handlers.

Leases are short and renewed by a heartbeat while a job runs, so the jobs of a process that died are
taken up by another within seconds; a stopping process gives its leases back at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta

from bot.core.errors import IncidentBotError, Paced, RetryLater
from bot.core.jobs import ClaimedJob, Next, RunningJob, current_job
from bot.core.ports import ChatError, Clock, JobStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
# A worker that stops renewing (killed, frozen) loses its jobs this long after its last heartbeat.
LEASE_SECONDS = 6.0
HEARTBEAT_SECONDS = 2.0
# An idle thread waiting for the fan-out lane's next turn looks again no sooner than this; a thread that
# may take the lane's turn keeps the others from claiming fan-out for this long (about one turn).
MIN_LANE_WAIT = 0.02
LANE_TURN_GUARD = 0.25

RunJob = Callable[[ClaimedJob], Sequence[Next]]
AfterFailure = Callable[[ClaimedJob, Exception], None]
# The jobs that follow from a job's failing for good (telling the person who asked, a warning that must
# reach a channel not created yet): stored in the transaction that records the failure, so they are
# neither lost nor doubled. AfterFailure runs after that transaction, for what is not a message (giving
# back a daily claim).
FailureJobs = Callable[[ClaimedJob, Exception], Sequence[Next]]


class JobRunner:
    """Claims due jobs from the database and runs them; a crash leaves them for the next claim."""

    def __init__(
        self,
        store: JobStore,
        run: RunJob,
        after_failure: AfterFailure,
        clock: Clock,
        *,
        threads: int = 2,
        poll_seconds: float = 1.0,
        lease_seconds: float = LEASE_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        on_outcome: Callable[[str, str], None] | None = None,
        failure_jobs: FailureJobs | None = None,
        fan_out_free_in: Callable[[], float] | None = None,
    ) -> None:
        """`on_outcome(kind, outcome)`: told how each run ended (done, retry, deferred, failed, dropped).

        `fan_out_free_in()`: seconds until the fan-out lane of the pacer has a turn free; until then no
        fan-out job is claimed (but one that booked its turn earlier is, when it is due).
        """
        self._on_outcome = on_outcome
        self._fan_out_free_in = fan_out_free_in
        # The lane only fills up by others' bookings, never empties early: it is not asked again before this.
        self._lane_closed_until = 0.0
        self._lane_guard_until = 0.0
        self._lane_lock = threading.Lock()
        self._store = store
        self._run = run
        self._after_failure_hook = after_failure
        self._failure_jobs = failure_jobs
        self._clock = clock
        self._threads_wanted = threads
        self._poll_seconds = poll_seconds
        self._lease_seconds = lease_seconds
        self._heartbeat_seconds = heartbeat_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._running: set[int] = set()
        self._running_lock = threading.Lock()
        # Unique per runner, so that leases of an earlier process with the same pid are never mistaken for ours.
        self._worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def alive(self) -> bool:
        """Whether the runner takes jobs: started, not stopping, and every thread running."""
        if self._threads_wanted == 0:
            return not self._stopping.is_set()
        return bool(self._threads) and not self._stopping.is_set() and all(t.is_alive() for t in self._threads)

    def wake(self) -> None:
        """Called after a commit that queued jobs, so they run at once rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        for index in range(self._threads_wanted):
            thread = threading.Thread(target=self._loop, name=f"job-runner-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if self._threads_wanted:
            heartbeat = threading.Thread(target=self._heartbeat, name="job-heartbeat", daemon=True)
            heartbeat.start()
            self._threads.append(heartbeat)

    def stop(self, timeout: float = 10.0, *, on_unfinished: Callable[[], int] | None = None) -> list[int]:
        """Stop taking jobs, let running ones finish for up to `timeout`, then give back the leases left.

        `on_unfinished` runs after the leases are given back (e.g. it ends git child processes so the
        threads still in a job get out of it); returns the ids of the jobs given back.
        """
        self._stopping.set()
        self._wake.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._running_lock:
            unfinished = sorted(self._running)
        if unfinished:
            self._store.release(unfinished, self._worker_id)
            ended = on_unfinished() if on_unfinished is not None else 0
            log.warning(
                "stopping after %.0fs with jobs %s unfinished: their leases are given back for another worker%s",
                timeout,
                unfinished,
                f"; ended {ended} git process(es)" if ended else "",
            )
            deadline = time.monotonic() + 2.0  # they get out of their job now; what they did is not recorded
            for thread in self._threads:
                thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        return unfinished

    def run_pending(self) -> int:
        """Run every job that is due now in this thread; returns how many ran (for the CLI and tests)."""
        count = 0
        while self._run_one():
            count += 1
        return count

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                ran = self._run_one()
            except Exception:
                log.exception("job runner: could not claim or finish a job")
                ran = False
            if not ran:
                self._wake.wait(self._idle_seconds())
                self._wake.clear()

    def _heartbeat(self) -> None:
        while not self._stopping.wait(self._heartbeat_seconds):
            with self._running_lock:
                running = sorted(self._running)
            if not running:
                continue
            try:
                until = self._clock.now() + timedelta(seconds=self._lease_seconds)
                self._store.renew(running, self._worker_id, until)
            except Exception:
                log.exception("job runner: could not renew leases of jobs %s", running)

    def _lane_free_in(self) -> float:
        """Seconds until the fan-out lane has a turn free (0: now, or no lane)."""
        if self._fan_out_free_in is None:
            return 0.0
        now = time.monotonic()
        if now < self._lane_closed_until:
            return self._lane_closed_until - now
        wait = self._fan_out_free_in()
        self._lane_closed_until = now + wait
        return wait

    def _idle_seconds(self) -> float:
        """How long an idle thread waits before it looks again: at the next turn of the fan-out lane, if
        that comes before the next poll (fan-out jobs may be due and waiting for it)."""
        lane = max(self._lane_free_in(), self._lane_guard_until - time.monotonic())
        return min(self._poll_seconds, max(lane, MIN_LANE_WAIT)) if lane > 0 else self._poll_seconds

    def _run_one(self) -> bool:
        with self._lane_lock:
            lane_open = time.monotonic() >= self._lane_guard_until and self._lane_free_in() <= 0
            if lane_open and self._fan_out_free_in is not None:
                # This thread may take the lane's turn: the others wait a moment, rather than each claim a
                # fan-out job of which all but one would only book a later turn.
                self._lane_guard_until = time.monotonic() + LANE_TURN_GUARD
        job = self._store.claim(self._worker_id, self._clock.now(), self._lease_seconds, fan_out=lane_open)
        if job is None:
            return False
        with self._running_lock:
            self._running.add(job.id)
        try:
            self._attempt(job)
        finally:
            with self._running_lock:
                self._running.discard(job.id)
        return True

    def _attempt(self, job: ClaimedJob) -> None:
        if job.job is None:
            log.error("job %s (%s) cannot be read and is dropped: %s", job.id, job.kind, job.problem)
            self._store.fail(job.id, f"unreadable job: {job.problem}", self._clock.now(), holder=self._worker_id)
            return
        token = current_job.set(
            RunningJob(
                id=job.id,
                attempts=job.attempts,
                paced_for=job.paced_for,
                fan_out=job.job.fan_out,
                incident_id=getattr(job.job, "incident_id", None),
            )
        )
        try:
            then = self._run(job)
        except Paced as error:
            run_at = self._clock.now() + timedelta(seconds=error.delay_seconds)
            self._held(
                job, self._store.defer(job.id, run_at, booked_for=error.call, holder=self._worker_id), "deferred"
            )
        except RetryLater as error:
            if job.attempts < error.max_attempts:
                log.warning("job %s (%s) will be retried in %.0fs: %s", job.id, job.kind, error.delay_seconds, error)
                now = self._clock.now()
                run_at = now + timedelta(seconds=error.delay_seconds)
                self._held(
                    job,
                    self._store.retry(job.id, str(error), run_at, now=now, then=error.then, holder=self._worker_id),
                    "retry",
                )
            else:
                self._after_failure(job, error, retryable=False, retry_after=None)
        except ChatError as error:
            self._after_failure(job, error, retryable=error.retryable, retry_after=error.retry_after)
        except IncidentBotError as error:
            self._after_failure(job, error, retryable=False, retry_after=None)
        except Exception as error:
            log.exception("job %s (%s) failed", job.id, job.kind)
            self._after_failure(job, error, retryable=True, retry_after=None)
        else:
            self._held(job, self._store.complete(job.id, self._clock.now(), then=then, holder=self._worker_id), "done")
        finally:
            current_job.reset(token)

    def _held(self, job: ClaimedJob, recorded: bool, outcome: str) -> bool:
        if self._on_outcome is not None:
            self._on_outcome(job.kind, outcome if recorded else "dropped")
        if not recorded:
            log.warning(
                "job %s (%s): another worker holds it now (this one gave its lease back or let it run out); "
                "this run's outcome is not recorded",
                job.id,
                job.kind,
            )
        return recorded

    def _after_failure(self, job: ClaimedJob, error: Exception, *, retryable: bool, retry_after: float | None) -> None:
        if retryable and job.attempts < MAX_ATTEMPTS:
            delay = retry_after if retry_after is not None else min(2.0**job.attempts, 300.0)
            log.warning("job %s (%s) will be retried in %.0fs: %s", job.id, job.kind, delay, error)
            run_at = self._clock.now() + timedelta(seconds=delay)
            self._held(job, self._store.retry(job.id, str(error), run_at, holder=self._worker_id), "retry")
            return
        log.error("job %s (%s) failed for good: %s", job.id, job.kind, error)
        then = self._failure_jobs(job, error) if self._failure_jobs is not None else ()
        if not self._held(
            job, self._store.fail(job.id, str(error), self._clock.now(), then=then, holder=self._worker_id), "failed"
        ):
            return
        try:
            self._after_failure_hook(job, error)
        except Exception:
            log.exception("job %s: what follows its failure could not be done", job.id)
