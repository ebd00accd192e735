"""What every use case is handed: the database, the clock, the team's policy and who is where."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from bot.core.access import Actor
from bot.core.models import Incident, Severity
from bot.core.policy import Escalation, LevelPolicy, build_policy
from bot.core.ports import Clock, Membership, Metrics, NoMetrics, UnitOfWork, UnitOfWorkFactory
from bot.core.roles import DEFAULT_ROLES, Role
from bot.services.known_rooms import KnownRooms


@dataclass(frozen=True)
class Policy:
    """The team's choices from configuration that change what the bot does."""

    announce_channel: str | None = None
    # SEV1_ESCALATION_USERS: the short form of INCIDENT_POLICY's SEV-1 `invite` and `dm`.
    escalation_users: tuple[str, ...] = field(default_factory=tuple)
    # INCIDENT_ADMINS: may change any incident, wherever they are.
    admins: frozenset[str] = field(default_factory=frozenset)
    # The paging services configured (by name).
    pagers: tuple[str, ...] = ()
    # INCIDENT_POLICY's levels (who is invited, DMed, paged; the update cadence) and STATUS_UPDATE_MINUTES.
    escalation: Mapping[str, Escalation] = field(default_factory=dict)
    update_minutes: Mapping[str, float] = field(default_factory=dict)
    # ARCHIVE_AFTER_DAYS: a resolved incident's channel is archived this long after the resolve (0: never).
    # Off unless configured here; the setting's own default is 7.
    archive_after_days: float = 0.0
    # INCIDENT_POLICY's roles (commander, communications lead and scribe unless it says otherwise).
    roles: tuple[Role, ...] = DEFAULT_ROLES

    def level(self, severity: Severity) -> LevelPolicy:
        """What a level means now: the runbook's row (in force) with this configuration's escalation."""
        info = severity.info
        row = LevelPolicy(
            name=str(severity),
            rank=severity.level,
            criteria=info.criteria,
            response_time=info.response_time,
            response_window=info.response_window,
            rca_required=info.rca_required,
        )
        built = build_policy(
            levels=[row],
            escalation=self.escalation,
            roles=None,
            sev1_escalation_users=self.escalation_users,
            update_minutes=self.update_minutes,
            source="configuration",
        )
        return built.levels[0]

    def pages(self, severity: Severity) -> bool:
        return bool(self.pagers) and self.level(severity).page


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
    # The incidents of rooms as last read through this context (see bot/services/known_rooms.py).
    rooms: KnownRooms = field(default_factory=KnownRooms)

    def reader(self) -> UnitOfWork:
        return self.read() if self.read is not None else self.uow()

    def existing_incident(self, incident_id: int, missing: Callable[[str], Exception]) -> Incident:
        """The incident alone (no timeline, no action items), read without the write lock; `missing`
        makes the error raised when it no longer exists (the job's own kind of failure)."""
        with self.reader() as uow:
            incident = uow.incidents.get(incident_id)
        if incident is None:
            raise missing(f"incident #{incident_id} no longer exists")
        return incident

    def actor(self, user_id: str, incident: Incident) -> Actor:
        """`user_id` as the access rule sees them for `incident` (asks about membership only when it matters)."""
        if user_id in self.policy.admins:
            return Actor(user_id, is_admin=True)
        if user_id == incident.commander_id or incident.room_id is None:
            return Actor(user_id)
        return Actor(user_id, in_room=self.members.is_member(incident.room_id, user_id))
