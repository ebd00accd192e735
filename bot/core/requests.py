"""The request being applied, so that its first write records it: a replay then changes nothing.

A request's key (for a signed HTTP request, a hash of its signature) rides along in a context
variable while the request is handled; the first unit of work that commits stores it in the same
transaction as the change, so the change and the proof that it was made commit together (or not at
all), in one write instead of two. A request that writes nothing records nothing: replaying it can
only repeat an answer to the person who asked.
"""

from __future__ import annotations

from contextvars import ContextVar

_PENDING: ContextVar[list[str] | None] = ContextVar("incident_bot_pending_request", default=None)
# Which Slack request this thread is handling (its event id, or a short hash of its signature), for the logs.
current_request: ContextVar[str | None] = ContextVar("incident_bot_current_request", default=None)


def begin_request(key: str | None) -> None:
    """A new request is handled in this thread: its first committed write must record `key` (if any).

    Called first thing for every request (the web server's threads handle one request after
    another), so what one request left unclaimed never reaches the next.
    """
    _PENDING.set([key] if key else None)


def set_request_id(request_id: str | None) -> None:
    current_request.set(request_id)


def take_pending_request() -> str | None:
    """The key of the request being handled, if its first write is yet to commit (taken once)."""
    pending = _PENDING.get()
    return pending.pop() if pending else None


def guarded_by_own_key() -> None:
    """The change being made records a key of its own read from the request (a chat event's id), which a
    replay carries too: storing the request's key as well would be a second write guarding nothing more."""
    take_pending_request()
