"""Client-side pacing of Web API calls to Slack's published rate tiers, so fan-out rarely meets a 429.

`reserve()` books the next free moment and says how far away it is, without waiting: a job then
reschedules itself for that moment (no worker sleeps); only callers outside jobs wait (`wait()`).

The buckets live in memory (`MemoryBuckets`) or, so that every process of a host paces together
(`serve` and a `remind` from cron, or several replicas on one machine), in a small file under an
exclusive lock (`HostBuckets`), keyed by workspace.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

log = logging.getLogger(__name__)

# Calls per minute of each tier (Slack's documentation); t5 methods are paced per channel instead.
TIER_PER_MINUTE = {"t1": 1, "t2": 20, "t3": 50, "t4": 100}
METHOD_TIERS = {
    "conversations.create": "t2",
    "conversations.setTopic": "t2",
    "conversations.archive": "t2",
    "conversations.unarchive": "t2",
    "bookmarks.add": "t2",
    "bookmarks.list": "t3",
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
    "views.publish": "t4",
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
FAN_OUT_LANE = "chat.postMessage:fan-out"
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

    def free_in(self, now: float) -> float:
        """How long until a token is there (0: now), taking none."""
        tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        return 0.0 if tokens >= 1 else (1 - tokens) / self.rate


Limit = tuple[str, float, float]  # bucket key, tokens per second, capacity


class Buckets(Protocol):
    def take(self, limits: Sequence[Limit], now: float) -> float:
        """Take one token from each bucket; returns the longest wait among them."""
        ...

    def free_in(self, key: str, now: float) -> float:
        """How long until the bucket `key` has a token (0: now, or no such bucket), taking none."""
        ...


class MemoryBuckets:
    """Buckets of one process, shared by its threads."""

    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, limits: Sequence[Limit], now: float) -> float:
        with self._lock:
            return max(
                [0.0]
                + [
                    self._buckets.setdefault(key, _Bucket(rate, capacity, capacity, now)).delay(now)
                    for key, rate, capacity in limits
                ]
            )

    def free_in(self, key: str, now: float) -> float:
        with self._lock:
            bucket = self._buckets.get(key)
            return 0.0 if bucket is None else bucket.free_in(now)


class HostBuckets:
    """Buckets in a file, shared by every process of the host that paces calls to the same workspace.

    Each booking reads and rewrites the file under `flock`; `time.monotonic()` is the host's boot
    clock, the same in every process. A bucket that has refilled is dropped, so the file stays small.
    A file that cannot be read (a crash mid-write) counts as full buckets: one burst, never a lost call.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @classmethod
    def for_workspace(cls, directory: Path, *, token: str, api_url: str) -> HostBuckets:
        """The buckets' file for the workspace a token calls."""
        return cls(workspace_file(directory, token=token, api_url=api_url, suffix=".json"))

    def take(self, limits: Sequence[Limit], now: float) -> float:
        with self._lock, open(self.path, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
            handle.seek(0)
            state = _read_state(handle.read())
            delays = [0.0]
            for key, rate, capacity in limits:
                bucket = state.get(key) or _Bucket(rate, capacity, capacity, now)
                bucket.rate, bucket.capacity = rate, capacity
                delays.append(bucket.delay(now))
                state[key] = bucket
            kept = {
                key: [bucket.tokens, bucket.updated, bucket.rate, bucket.capacity]
                for key, bucket in state.items()
                if bucket.tokens + (now - bucket.updated) * bucket.rate < bucket.capacity
            }
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(kept, separators=(",", ":")))
            return max(delays)

    def free_in(self, key: str, now: float) -> float:
        try:
            with self._lock, open(self.path, encoding="utf-8") as handle:
                fcntl.flock(handle, fcntl.LOCK_SH)
                bucket = _read_state(handle.read()).get(key)
        except FileNotFoundError:
            return 0.0
        return 0.0 if bucket is None else bucket.free_in(now)


def _read_state(text: str) -> dict[str, _Bucket]:
    try:
        raw = json.loads(text) if text else {}
        return {
            str(key): _Bucket(rate=float(rate), capacity=float(capacity), tokens=float(tokens), updated=float(updated))
            for key, (tokens, updated, rate, capacity) in raw.items()
        }
    except (ValueError, TypeError, AttributeError):
        return {}


def workspace_file(folder: Path, *, token: str, api_url: str, suffix: str) -> Path:
    """A file for the workspace a token calls, named by a hash, so no secret is on disk."""
    digest = hashlib.sha256("\n".join((api_url, token)).encode()).hexdigest()[:32]
    return folder / f"{digest}{suffix}"


def private_folder(directory: str | None) -> Path | None:
    """`directory` (default: a folder of this user's in the system's temp dir), made if need be, when
    no other user may write in it; else None (logged)."""
    folder = Path(directory) if directory else Path(tempfile.gettempdir()) / f"incident-bot-pacing-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = folder.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            raise PermissionError(f"{folder} is writable by other users")
    except OSError as error:
        log.warning("PACING_DIR: pacing in this process only (%s)", error)
        return None
    return folder


def host_buckets(folder: Path | None, *, token: str, api_url: str) -> Buckets:
    """`HostBuckets` in `folder`, or, without one (or when its file cannot be used), this process's own."""
    if folder is None:
        return MemoryBuckets()
    buckets = HostBuckets.for_workspace(folder, token=token, api_url=api_url)
    try:
        with contextlib.suppress(FileNotFoundError):
            if buckets.path.stat().st_uid != os.getuid():
                raise PermissionError(f"{buckets.path} belongs to another user")
        buckets.take([], time.monotonic())
    except OSError as error:
        log.warning("PACING_DIR: pacing in this process only (%s)", error)
        return MemoryBuckets()
    return buckets


class Throttle:
    """Token buckets per method (and per channel for chat.postMessage), shared by every thread."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        buckets: Buckets | None = None,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._buckets = buckets or MemoryBuckets()

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

    def fan_out_free_in(self) -> float:
        """How long until the fan-out lane has a turn free (0: now), booking none: job runners claim no
        fan-out job before then, so that a morning's 2,000 reminders are not each claimed once only to
        book a turn minutes ahead (and built, and put back) and then claimed again to be sent."""
        return self._buckets.free_in(FAN_OUT_LANE, self._clock())

    def reserve(self, method: str, channel: str | None = None, *, fan_out: bool = False) -> float:
        """Book the next moment `method` may be called; returns how many seconds from now that is.

        `fan_out`: the call is one of many alike (a DM to each owner), paced in the fan-out lane.
        """
        limits = self._limits(method, channel, fan_out=fan_out)
        if not limits:
            return 0.0
        return self._buckets.take(limits, self._clock())

    @staticmethod
    def _limits(method: str, channel: str | None, *, fan_out: bool) -> list[Limit]:
        if method == "chat.postMessage":
            workspace = (
                (FAN_OUT_LANE, FAN_OUT_MESSAGES_PER_MINUTE / 60, float(FAN_OUT_BURST))
                if fan_out
                else (f"{method}:*", WORKSPACE_MESSAGES_PER_MINUTE / 60, float(WORKSPACE_MESSAGE_BURST))
            )
            return [(f"{method}:{channel}", MESSAGES_PER_SECOND_PER_CHANNEL, float(MESSAGE_BURST)), workspace]
        tier = METHOD_TIERS.get(method)
        if tier is None:
            return []
        per_second = TIER_PER_MINUTE[tier] / 60
        return [(method, per_second, max(1.0, per_second * BURST_SECONDS))]
