"""Typed domain errors; each carries the sentence the person who asked should read."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class IncidentBotError(Exception):
    """Base of every error a user is meant to see."""

    def __init__(self, user_message: str, *, field: str | None = None) -> None:
        super().__init__(user_message)
        self.user_message = user_message
        self.field = field


class InvalidCommand(IncidentBotError):
    """The text after /incident does not follow the grammar."""


class InvalidSeverity(IncidentBotError):
    """A severity other than SEV-1, SEV-2 or SEV-3."""


class InvalidInput(IncidentBotError):
    """A value that cannot be accepted, such as an empty title."""


class NotInIncidentChannel(IncidentBotError):
    """A subcommand that only works inside an incident's channel."""


class IncidentNotFound(IncidentBotError):
    """No incident matches."""


class InvalidTransition(IncidentBotError):
    """The incident is not in a state that allows this."""


class NotAllowed(IncidentBotError):
    """The person asking may not do this; the message says who may."""


class MalformedRequest(IncidentBotError):
    """A request of a shape the chat platform never sends; it is refused and changes nothing."""


class Duplicate(IncidentBotError):
    """The same request (a replay, a double submit) was already applied; it is acknowledged, not repeated."""


class RetryLater(Exception):
    """Work after the ack that should be tried again later (e.g. the docs repo is unreachable).

    `then` holds jobs (`bot.core.jobs.Next`) to store now, with the retry, such as telling people.
    """

    def __init__(
        self, message: str, *, delay_seconds: float, max_attempts: int = 100, then: Sequence[Any] = ()
    ) -> None:
        super().__init__(message)
        self.delay_seconds = delay_seconds
        self.max_attempts = max_attempts
        self.then = tuple(then)


class Paced(Exception):
    """A job's next call must wait for Slack's rate limit: the job is put back until then (no retry counted)."""

    def __init__(self, delay_seconds: float, call: str) -> None:
        super().__init__(f"{call} paced for {delay_seconds:.1f}s")
        self.delay_seconds = delay_seconds
        # The call whose moment was booked: the job's next run makes it without booking again.
        self.call = call
