"""What every use case is handed: the database, the clock and the team's policy."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.ports import Clock, UnitOfWorkFactory


@dataclass(frozen=True)
class Policy:
    """The team's choices from configuration that change what the bot does."""

    announce_channel: str | None = None
    escalation_users: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ServiceContext:
    uow: UnitOfWorkFactory
    clock: Clock
    policy: Policy = field(default_factory=Policy)
