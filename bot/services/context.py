"""What every use case is handed: the database, the clock, the team's policy and who is where."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.access import Actor
from bot.core.models import Incident, Severity
from bot.core.ports import Clock, Membership, Metrics, NoMetrics, UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True)
class Policy:
    """The team's choices from configuration that change what the bot does."""

    announce_channel: str | None = None
    escalation_users: tuple[str, ...] = field(default_factory=tuple)
    # INCIDENT_ADMINS: may change any incident, wherever they are.
    admins: frozenset[str] = field(default_factory=frozenset)
    # The paging services configured (by name), and the levels that page.
    pagers: tuple[str, ...] = ()
    paged_levels: frozenset[Severity] = frozenset({Severity.SEV1})

    def pages(self, severity: Severity) -> bool:
        return bool(self.pagers) and severity in self.paged_levels


class NobodyIsAMember:
    """Membership when no chat platform is wired in (scripts, unit tests): only the rule's other parts apply."""

    def is_member(self, room_id: str, user_id: str) -> bool:
        return False


@dataclass(frozen=True)
class ServiceContext:
    uow: UnitOfWorkFactory
    clock: Clock
    policy: Policy = field(default_factory=Policy)
    members: Membership = field(default_factory=NobodyIsAMember)
    # Units of work that only read: they never wait for writers (lookups on the path Slack waits on).
    read: UnitOfWorkFactory | None = None
    metrics: Metrics = field(default_factory=NoMetrics)

    def reader(self) -> UnitOfWork:
        return self.read() if self.read is not None else self.uow()

    def actor(self, user_id: str, incident: Incident) -> Actor:
        """`user_id` as the access rule sees them for `incident` (asks about membership only when it matters)."""
        if user_id in self.policy.admins:
            return Actor(user_id, is_admin=True)
        if user_id == incident.commander_id or incident.room_id is None:
            return Actor(user_id)
        return Actor(user_id, in_room=self.members.is_member(incident.room_id, user_id))
