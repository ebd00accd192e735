"""Prometheus metrics (`GET /metrics`), in a registry of the bot's own (never the process-wide one,
so several bots in one process, as in the tests, count apart). No label ever holds a secret or a
person's text: request kinds, event types, job kinds, Slack method names and status classes only."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Slack wants its answer within 3 s; the buckets resolve the part that matters.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)


class BotMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._ack = Histogram(
            "incident_bot_ack_seconds",
            "Time from a Slack request's arrival to the bot's answer, by request kind.",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self._events = Counter(
            "incident_bot_events", "Slack Events API events received, by type.", ["type"], registry=self.registry
        )
        self._jobs = Counter(
            "incident_bot_jobs",
            "Jobs run, by kind and outcome (done, retry, deferred, failed, dropped).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self._publishes = Counter(
            "incident_bot_publishes", "RCA publishes to the docs repo, by outcome.", ["outcome"], registry=self.registry
        )
        self._reminders = Counter(
            "incident_bot_reminders_sent", "Action-item DMs sent, by reason.", ["reason"], registry=self.registry
        )
        self._slack = Counter(
            "incident_bot_slack_api_calls",
            "Slack Web API calls, by method and status (ok, an error code, 429, 5xx, unreachable).",
            ["method", "status"],
            registry=self.registry,
        )
        self._depth = Gauge("incident_bot_job_queue_depth", "Jobs neither done nor failed.", registry=self.registry)
        self._oldest = Gauge(
            "incident_bot_job_oldest_pending_seconds",
            "Age of the oldest job that is due and not done.",
            registry=self.registry,
        )
        self._queue: Callable[[], tuple[int, float]] | None = None

    def ack(self, kind: str, seconds: float) -> None:
        self._ack.labels(kind=kind).observe(seconds)

    def event(self, event_type: str) -> None:
        self._events.labels(type=event_type[:64] or "unknown").inc()

    def job(self, kind: str, outcome: str) -> None:
        self._jobs.labels(kind=kind[:64], outcome=outcome).inc()

    def published(self, *, ok: bool) -> None:
        self._publishes.labels(outcome="pushed" if ok else "failed").inc()

    def reminder_sent(self, reason: str) -> None:
        self._reminders.labels(reason=reason).inc()

    def slack_call(self, method: str, status: str) -> None:
        self._slack.labels(method=method[:64] or "unknown", status=status[:64]).inc()

    def watch_queue(self, stats: Callable[[], tuple[int, float]]) -> None:
        """`stats`: (jobs pending, seconds the oldest due one has waited), read at each scrape."""
        self._queue = stats

    def render(self) -> bytes:
        if self._queue is not None:
            try:
                depth, oldest = self._queue()
            except Exception:  # noqa: BLE001 - a scrape while the database is away shows the last figures
                pass
            else:
                self._depth.set(depth)
                self._oldest.set(oldest)
        return generate_latest(self.registry)
