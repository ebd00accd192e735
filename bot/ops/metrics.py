"""Prometheus metrics (`GET /metrics`). The bot counts in plain memory and hands the figures to
`prometheus-client` when scraped, so a bot nobody scrapes never loads the library; every bot has
figures of its own (several bots in one process, as in the tests, count apart). No label ever holds a
secret or a person's text: request kinds, event types, job kinds, Slack method names and statuses."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.storage.jobs import QueueStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Slack wants its answer within 3 s; the buckets resolve the part that matters.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)

_COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "incident_bot_events": ("Slack Events API events received, by type.", ("type",)),
    "incident_bot_jobs": (
        "Jobs run, by kind and outcome (done, retry, deferred, failed, dropped).",
        ("kind", "outcome"),
    ),
    "incident_bot_publishes": ("RCA publishes to the docs repo, by outcome.", ("outcome",)),
    "incident_bot_reminders_sent": ("Action-item DMs sent, by reason.", ("reason",)),
    "incident_bot_rca_rows_ahead": (
        "RCA timeline rows made while a resolve form was open, by outcome (made, used, stale: the timeline "
        "changed and was read again, failed).",
        ("outcome",),
    ),
    "incident_bot_slack_api_calls": (
        "Slack Web API calls, by method and status (ok, an error code, 429, 5xx, unreachable).",
        ("method", "status"),
    ),
}


class BotMetrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, dict[tuple[str, ...], float]] = {name: defaultdict(float) for name in _COUNTERS}
        # per request kind: a count per bucket (the last one is +Inf), and the sum of the seconds
        self._acks: dict[str, tuple[list[int], list[float]]] = {}
        self._queue: Callable[[], QueueStats] | None = None

    def ack(self, kind: str, seconds: float) -> None:
        with self._lock:
            buckets, total = self._acks.setdefault(kind, ([0] * (len(ACK_BUCKETS) + 1), [0.0]))
            buckets[bisect.bisect_left(ACK_BUCKETS, seconds)] += 1
            total[0] += seconds

    def event(self, event_type: str) -> None:
        self._count("incident_bot_events", event_type[:64] or "unknown")

    def job(self, kind: str, outcome: str) -> None:
        self._count("incident_bot_jobs", kind[:64], outcome)

    def published(self, *, ok: bool) -> None:
        self._count("incident_bot_publishes", "pushed" if ok else "failed")

    def reminder_sent(self, reason: str) -> None:
        self._count("incident_bot_reminders_sent", reason)

    def rca_rows(self, outcome: str) -> None:
        self._count("incident_bot_rca_rows_ahead", outcome)

    def slack_call(self, method: str, status: str) -> None:
        self._count("incident_bot_slack_api_calls", method[:64] or "unknown", status[:64])

    def watch_queue(self, stats: Callable[[], QueueStats]) -> None:
        """`stats`: the queue's jobs due, dated later and the oldest due one's wait, read at each scrape."""
        self._queue = stats

    def render(self) -> bytes:
        from prometheus_client import CollectorRegistry, generate_latest

        registry = CollectorRegistry(auto_describe=False)
        registry.register(_Snapshot(self))
        return bytes(generate_latest(registry))

    def families(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

        with self._lock:
            counts = {name: dict(values) for name, values in self._counts.items()}
            acks = {kind: (list(buckets), total[0]) for kind, (buckets, total) in self._acks.items()}
        ack = HistogramMetricFamily(
            "incident_bot_ack_seconds", "Time from a Slack request's arrival to the bot's answer.", labels=["kind"]
        )
        for kind, (buckets, total) in sorted(acks.items()):
            running, cumulative = 0, []
            for bound, count in zip((*map(str, ACK_BUCKETS), "+Inf"), buckets, strict=True):
                running += count
                cumulative.append((bound, running))
            ack.add_metric([kind], cumulative, total)
        yield ack
        for name, (documentation, labels) in _COUNTERS.items():
            family = CounterMetricFamily(name, documentation, labels=list(labels))
            for values, value in sorted(counts[name].items()):
                family.add_metric(list(values), value)
            yield family
        if self._queue is not None:
            try:
                queue = self._queue()
            except Exception:  # noqa: BLE001 - the database is away: the scrape still answers, without these
                return
            yield GaugeMetricFamily(
                "incident_bot_job_queue_depth", "Jobs due and neither done nor failed.", value=queue.due
            )
            yield GaugeMetricFamily(
                "incident_bot_jobs_scheduled",
                "Jobs dated later (an archive days out, a post waiting for its rate-limit turn).",
                value=queue.later,
            )
            yield GaugeMetricFamily(
                "incident_bot_job_oldest_pending_seconds",
                "Age of the oldest job that is due and not done.",
                value=queue.oldest_due_seconds,
            )

    def _count(self, name: str, *values: str) -> None:
        with self._lock:
            self._counts[name][values] += 1


class _Snapshot:
    """A prometheus-client collector that reads the bot's figures at each scrape."""

    def __init__(self, metrics: BotMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Any]:
        return self._metrics.families()
