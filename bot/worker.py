"""Background threads that run the durable jobs queued by the Slack handlers."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import timedelta

from bot.core.errors import IncidentBotError, RetryLater
from bot.core.ports import ChatError, Clock, Job, JobStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
LEASE_SECONDS = 120.0


class JobRunner:
    """Claims due jobs from the database and runs them; a crash leaves them for the next claim."""

    def __init__(
        self,
        store: JobStore,
        run: Callable[[Job], None],
        report_failure: Callable[[Job, Exception], None],
        clock: Clock,
        *,
        threads: int = 2,
        poll_seconds: float = 1.0,
    ) -> None:
        self._store = store
        self._run = run
        self._report_failure = report_failure
        self._clock = clock
        self._threads_wanted = threads
        self._poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._worker_id = f"{socket.gethostname()}:{os.getpid()}"

    def wake(self) -> None:
        """Called after a commit that queued jobs, so they run at once rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        for index in range(self._threads_wanted):
            thread = threading.Thread(target=self._loop, name=f"job-runner-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

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
                log.exception("job runner: could not claim a job")
                ran = False
            if not ran:
                self._wake.wait(self._poll_seconds)
                self._wake.clear()

    def _run_one(self) -> bool:
        job = self._store.claim(self._worker_id, self._clock.now(), LEASE_SECONDS)
        if job is None:
            return False
        try:
            self._run(job)
        except RetryLater as error:
            if job.attempts < error.max_attempts:
                log.warning("job %s (%s) will be retried in %.0fs: %s", job.id, job.kind, error.delay_seconds, error)
                self._store.retry(job.id, str(error), self._clock.now() + timedelta(seconds=error.delay_seconds))
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
            self._store.complete(job.id, self._clock.now())
        return True

    def _after_failure(self, job: Job, error: Exception, *, retryable: bool, retry_after: float | None) -> None:
        if retryable and job.attempts < MAX_ATTEMPTS:
            delay = retry_after if retry_after is not None else min(2.0**job.attempts, 300.0)
            log.warning("job %s (%s) will be retried in %.0fs: %s", job.id, job.kind, delay, error)
            self._store.retry(job.id, str(error), self._clock.now() + timedelta(seconds=delay))
            return
        log.error("job %s (%s) failed for good: %s", job.id, job.kind, error)
        self._store.fail(job.id, str(error), self._clock.now())
        try:
            self._report_failure(job, error)
        except ChatError:
            log.exception("could not report the failure of job %s", job.id)
