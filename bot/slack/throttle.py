"""Client-side pacing of Web API calls to Slack's published rate tiers, so fan-out rarely meets a 429.

`reserve()` books the next free moment and says how far away it is, without waiting: a job then
reschedules itself for that moment (no worker sleeps); only callers outside jobs wait (`wait()`).
"""

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
# chat.postMessage: about one message a second per channel, with short bursts allowed, and a
# workspace-wide limit of "several hundred a minute" (fan-out of DMs meets that one).
MESSAGES_PER_SECOND_PER_CHANNEL = 1.0
MESSAGE_BURST = 5
WORKSPACE_MESSAGES_PER_MINUTE = 240
WORKSPACE_MESSAGE_BURST = 20
# Fan-out (reminder and resolve DMs to many owners) books its turns in a lane of its own: were it to
# book the workspace's turns, a morning's 2,000 reminders would book the next eight minutes and an
# incident's summary would wait behind them. Together the two stay within "several hundred a minute";
# a 429 beyond that is answered with its Retry-After.
FAN_OUT_MESSAGES_PER_MINUTE = 180
FAN_OUT_BURST = 10
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
        delay = self.reserve(method, channel)
        if delay > 0:
            self._sleep(delay)
        return delay

    def limited(self, method: str) -> bool:
        """Whether `method` is paced at all."""
        return bool(self._limits(method, None, fan_out=False))

    @staticmethod
    def key(method: str, channel: str | None = None, *, fan_out: bool = False) -> str:
        """What a booking is for: the method, and for chat.postMessage (paced per channel) the channel."""
        if method != "chat.postMessage":
            return method
        return f"{method}:{channel}:fan-out" if fan_out else f"{method}:{channel}"

    def reserve(self, method: str, channel: str | None = None, *, fan_out: bool = False) -> float:
        """Book the next moment `method` may be called; returns how many seconds from now that is.

        `fan_out`: the call is one of many alike (a DM to each owner), paced in the fan-out lane.
        """
        limits = self._limits(method, channel, fan_out=fan_out)
        if not limits:
            return 0.0
        with self._lock:
            now = self._clock()
            delays = []
            for key, rate, capacity in limits:
                bucket = self._buckets.setdefault(key, _Bucket(rate, capacity, capacity, now))
                delays.append(bucket.delay(now))
        return max(delays)

    @staticmethod
    def _limits(method: str, channel: str | None, *, fan_out: bool) -> list[tuple[str, float, float]]:
        if method == "chat.postMessage":
            workspace = (
                (f"{method}:fan-out", FAN_OUT_MESSAGES_PER_MINUTE / 60, float(FAN_OUT_BURST))
                if fan_out
                else (f"{method}:*", WORKSPACE_MESSAGES_PER_MINUTE / 60, float(WORKSPACE_MESSAGE_BURST))
            )
            return [(f"{method}:{channel}", MESSAGES_PER_SECOND_PER_CHANNEL, float(MESSAGE_BURST)), workspace]
        tier = METHOD_TIERS.get(method)
        if tier is None:
            return []
        per_second = TIER_PER_MINUTE[tier] / 60
        return [(method, per_second, max(1.0, per_second * BURST_SECONDS))]
