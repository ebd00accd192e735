"""The status-update cadence inside `serve`: a thread that looks for missed updates; keys make it exactly-once."""

from __future__ import annotations

import logging
import threading

from bot.core.ports import Clock
from bot.services.cadence import UpdateCadence

log = logging.getLogger(__name__)


class CadenceWatch:
    """Looks for intervals that ended without a status update; any number of replicas may run one."""

    def __init__(self, cadence: UpdateCadence, clock: Clock) -> None:
        self._cadence = cadence
        self._clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> int:
        """One look now; returns how many nudges it queued."""
        return self._cadence.queue_due_nudges(self._clock.now())

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="update-cadence", daemon=True)
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
            try:
                self.tick()
            except Exception:
                log.exception("looking for missed status updates failed; looking again shortly")
            # Asked each time: the runbook (and with it the cadences in force) can change while running.
            self._stopping.wait(self._cadence.look_every())
