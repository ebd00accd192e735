"""The clock the tests give the bot and the fake Slack: a fixed start that runs at real speed."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

# A Wednesday mid-morning in UTC: far from midnight, so no test straddles a change of date; in winter
# time (New York is UTC-5, Berlin UTC+1, as the time-zone tests say); well after the fixture RCAs.
START = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
# The day every end-to-end test's incidents are declared on (the clock runs for seconds, not hours).
TODAY = START.strftime("%Y-%m-%d")


class RunningClock:
    """Starts at `start` and runs with real time, so leases expire and retries come due; a test may move
    it forward (never back: work scheduled for a later moment would wait)."""

    def __init__(self, start: datetime = START) -> None:
        self._lock = threading.Lock()
        self._start = start
        self._started = time.monotonic()

    def now(self) -> datetime:
        with self._lock:
            return self._start + timedelta(seconds=time.monotonic() - self._started)

    def timestamp(self) -> float:
        """The same moment in seconds since the epoch (Slack's clock in the fake Web API)."""
        return self.now().timestamp()

    def set(self, moment: datetime) -> None:
        """Jump to `moment`, which must not be in this clock's past."""
        with self._lock:
            now = self._start + timedelta(seconds=time.monotonic() - self._started)
            if moment < now:
                raise ValueError(f"the clock only moves forward: {moment} is before {now}")
            self._start, self._started = moment, time.monotonic()

    def catch_up(self, moment: datetime) -> None:
        """Jump to `moment` unless the clock is already there (it runs on while the caller decides)."""
        with self._lock:
            if moment > self._start + timedelta(seconds=time.monotonic() - self._started):
                self._start, self._started = moment, time.monotonic()

    def advance(self, delta: timedelta) -> None:
        self.set(self.now() + delta)

    def today(self) -> str:
        """Today's date at this clock, as RCA file names and fleet-status lines write it."""
        return self.now().strftime("%Y-%m-%d")


class FixedClock:
    """A clock that always says `moment`, for tests of code that only stamps what it writes."""

    def __init__(self, moment: datetime) -> None:
        self._moment = moment

    def now(self) -> datetime:
        return self._moment
