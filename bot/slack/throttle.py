"""Client-side pacing of Web API calls to Slack's published rate tiers, so fan-out rarely meets a 429."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Calls per minute of each tier (Slack's documentation); t5 methods are paced per channel instead.
TIER_PER_MINUTE = {"t1": 1, "t2": 20, "t3": 50, "t4": 100}
METHOD_TIERS = {
    "conversations.create": "t2",
    "conversations.setTopic": "t2",
    "users.list": "t2",
    "conversations.invite": "t3",
    "conversations.open": "t3",
    "conversations.history": "t3",
    "conversations.replies": "t3",
    "chat.update": "t3",
    "reactions.add": "t3",
    "conversations.members": "t4",
    "users.info": "t4",
    "chat.postEphemeral": "t4",
    "views.open": "t4",
}
# chat.postMessage: about one message a second per channel, with short bursts allowed.
MESSAGES_PER_SECOND_PER_CHANNEL = 1.0
MESSAGE_BURST = 5
# A burst of up to ten seconds' worth of a tier's calls goes out at once; after that, calls are spaced.
BURST_SECONDS = 10.0


@dataclass
class _Bucket:
    rate: float
    capacity: float
    tokens: float
    updated: float

    def delay(self, now: float) -> float:
        """Take one token; returns how long to wait for it (0 if one was there)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class Throttle:
    """Token buckets per method (and per channel for chat.postMessage), shared by every thread."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def wait(self, method: str, channel: str | None = None) -> float:
        """Block until `method` may be called now; returns the seconds waited."""
        key, rate, capacity = self._limits(method, channel)
        if rate is None:
            return 0.0
        with self._lock:
            now = self._clock()
            bucket = self._buckets.setdefault(key, _Bucket(rate, capacity, capacity, now))
            delay = bucket.delay(now)
        if delay > 0:
            self._sleep(delay)
        return delay

    @staticmethod
    def _limits(method: str, channel: str | None) -> tuple[str, float | None, float]:
        if method == "chat.postMessage":
            return f"{method}:{channel}", MESSAGES_PER_SECOND_PER_CHANNEL, float(MESSAGE_BURST)
        tier = METHOD_TIERS.get(method)
        if tier is None:
            return method, None, 0.0
        per_second = TIER_PER_MINUTE[tier] / 60
        return method, per_second, max(1.0, per_second * BURST_SECONDS)
