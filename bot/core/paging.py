"""Paging on-call: the event a pager is sent, its stable key, and the line the person paged reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Protocol

# PagerDuty's limits; Opsgenie's alert message is shorter still.
DEDUP_KEY_LIMIT = 255
PAGERDUTY_SUMMARY_LIMIT = 1024
OPSGENIE_MESSAGE_LIMIT = 130

_SEVERITY = re.compile(r"SEV-(\d+)")
# The workspace ends up in every pager's alert key: keep it to characters that need no quoting anywhere.
_UNSAFE_IN_KEY = re.compile(r"[^A-Za-z0-9._-]+")
_WORKSPACE_LIMIT = 200


class PageAction(StrEnum):
    TRIGGER = "trigger"
    RESOLVE = "resolve"


@dataclass(frozen=True)
class PageEvent:
    """One page to send (or to resolve): everything a pager needs, nothing it must not see."""

    action: PageAction
    dedup_key: str
    incident_id: int
    severity: str
    title: str
    private: bool
    declared_by: str
    link: str | None
    source: str = "incident-bot"

    def __post_init__(self) -> None:
        # A malformed event is a bug on our side: refuse it here, not as a 400 from the pager at 3 a.m.
        severity_level(self.severity)
        if not self.dedup_key or len(self.dedup_key) > DEDUP_KEY_LIMIT:
            raise ValueError(f"dedup_key must be 1..{DEDUP_KEY_LIMIT} characters")


def severity_level(severity: str) -> int:
    """The number in "SEV-<n>" (1 is the most severe); ValueError for anything else."""
    match = _SEVERITY.fullmatch(severity)
    if match is None:
        raise ValueError(f"not a severity: {severity[:20]!r}")
    return int(match.group(1))


def dedup_key_for(*, incident_id: int, declared_at: datetime, workspace: str) -> str:
    """The key that ties every page of one incident together, the same on every replica and retry."""
    # An aware time is taken in UTC so replicas in different zones agree; a naive one is used as it is.
    moment = declared_at.astimezone(UTC) if declared_at.tzinfo is not None else declared_at
    place = _UNSAFE_IN_KEY.sub("-", workspace).strip("-")[:_WORKSPACE_LIMIT] or "workspace"
    return f"incident-bot/{place}/{incident_id}-{moment:%Y%m%d%H%M%S}"


def page_summary(event: PageEvent, *, limit: int = PAGERDUTY_SUMMARY_LIMIT) -> str:
    """What the on-call reads first; a private incident's title stays in Slack."""
    about = "private incident (details in Slack)" if event.private else event.title.strip()
    return _trim(f"{event.severity} #{event.incident_id}: {about}", limit=limit)


def _trim(text: str, *, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class PagingError(Exception):
    """A pager refused or could not be reached; `retryable` says whether trying again can help."""

    def __init__(self, message: str, *, service: str, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.service = service
        self.retryable = retryable
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"PagingError({self.message!r}, service={self.service!r}, retryable={self.retryable!r}, "
            f"retry_after={self.retry_after!r})"
        )


class Pager(Protocol):
    name: str

    def send(self, event: PageEvent) -> str:
        """Deliver the event; return a short receipt for the log, or raise PagingError."""
        ...
