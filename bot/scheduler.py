"""The daily jobs inside `serve`: reminders, the briefing and the weekly digest; claims in the database make
them exactly-once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from bot.core.ports import Clock
from bot.services.reminders import Reminders

log = logging.getLogger(__name__)


class DailyJobs:
    """Checks every `interval` seconds who is due; any number of replicas may run one."""

    def __init__(
        self,
        reminders: Reminders,
        clock: Clock,
        *,
        interval: float = 300.0,
        housekeeping: Callable[[datetime], object] | None = None,
        weekly: Callable[[datetime], object] | None = None,
    ) -> None:
        self._reminders = reminders
        self._housekeeping = housekeeping
        self._weekly = weekly
        self._clock = clock
        self._interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.checks = 0

    def tick(self) -> None:
        now = self._clock.now()
        jobs: list[tuple[str, Callable[[datetime], object]]] = [
            ("reminders", self._reminders.remind),
            ("briefing", self._reminders.post_briefing),
        ]
        if self._weekly is not None:
            jobs.append(("weekly digest", self._weekly))
        if self._housekeeping is not None:
            jobs.append(("housekeeping", self._housekeeping))
        for name, run in jobs:
            try:
                run(now)
            except Exception:
                log.exception("daily %s failed; trying again in %.0fs", name, self._interval)
        self.checks += 1

    def start(self) -> None:
        if self._interval <= 0:
            return
        self._thread = threading.Thread(target=self._loop, name="daily-jobs", daemon=True)
        self._thread.start()

    def halt(self) -> None:
        """Ask the thread to stop after what it is doing now, without waiting for it."""
        self._stopping.set()

    def stop(self, timeout: float = 10.0) -> None:
        self.halt()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stopping.is_set():
            self.tick()
            self._stopping.wait(self._interval)
