"""The incident domain: severities as the runbook defines them, incidents, their timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


@dataclass(frozen=True)
class SeverityInfo:
    criteria: str
    meaning: str
    response_time: str
    response_window: timedelta
    rca_required: bool


class Severity(StrEnum):
    SEV1 = "SEV-1"
    SEV2 = "SEV-2"
    SEV3 = "SEV-3"

    @property
    def level(self) -> int:
        return int(self.value[-1])

    @property
    def info(self) -> SeverityInfo:
        return _SEVERITY_INFO[self]

    @property
    def is_escalation(self) -> bool:
        """SEV-1 is the runbook's immediate escalation."""
        return self is Severity.SEV1

    def outranks(self, other: Severity) -> bool:
        return self.level < other.level


_SEVERITY_INFO: dict[Severity, SeverityInfo] = {
    Severity.SEV1: SeverityInfo(
        criteria="Security breach, out-of-scope agent action, data exposure",
        meaning="Immediate escalation",
        response_time="Immediate",
        response_window=timedelta(hours=1),
        rca_required=True,
    ),
    Severity.SEV2: SeverityInfo(
        criteria="Pipeline stall, multiple agents down, auth/infra failure",
        meaning="RCA required",
        response_time="Same day",
        response_window=timedelta(days=1),
        rca_required=True,
    ),
    Severity.SEV3: SeverityInfo(
        criteria="Single agent failure, minor config drift",
        meaning="Fix and note in fleet-status",
        response_time="Next run",
        response_window=timedelta(days=2),
        rca_required=False,
    ),
}


@dataclass(frozen=True)
class Reply:
    """Who asked for something, and where to answer them (privately)."""

    user_id: str
    room_id: str | None = None
    response_url: str | None = None


class IncidentStatus(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"


class TimelineKind(StrEnum):
    DECLARED = "declared"
    SEVERITY_CHANGED = "severity_changed"
    MESSAGE = "message"
    NOTE = "note"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    ACTION_ITEM = "action_item"


class ActionStatus(StrEnum):
    OPEN = "Open"
    IN_PROGRESS = "In progress"
    DONE = "✅ DONE"


class Incident(BaseModel):
    """One incident; room fields are opaque references to its chat channel."""

    model_config = ConfigDict(validate_assignment=True)

    id: int | None = None
    title: str = Field(min_length=1)
    severity: Severity
    status: IncidentStatus = IncidentStatus.ACTIVE
    commander_id: str
    declared_by: str
    declared_at: datetime
    resolved_at: datetime | None = None
    summary: str = ""
    private: bool = False
    room_id: str | None = None
    room_name: str | None = None
    summary_message_id: str | None = None
    origin_room_id: str | None = None
    root_causes: str = ""
    resolution: str = ""
    lessons: str = ""
    rca_wanted: bool = False
    rca_path: str | None = None
    rca_commit: str | None = None

    @property
    def needs_rca(self) -> bool:
        """SEV-1 and SEV-2 always get an RCA; a SEV-3 only when someone asks for one."""
        return self.severity.info.rca_required or self.rca_wanted

    @property
    def is_active(self) -> bool:
        return self.status is IncidentStatus.ACTIVE

    def age(self, now: datetime) -> timedelta:
        end = self.resolved_at or now
        return end - self.declared_at


class TimelineEntry(BaseModel):
    """Something that happened during an incident, in the order it happened.

    `text` is chat text as the chat platform sends it: people are written `<@ID>`, which the RCA
    renders as names.
    """

    id: int | None = None
    incident_id: int
    kind: TimelineKind
    occurred_at: datetime
    author_id: str | None = None
    text: str
    source_room_id: str | None = None
    source_message_id: str | None = None
    permalink: str | None = None


class ActionItem(BaseModel):
    """A follow-up the runbook says must get done, numbered within its incident."""

    id: int | None = None
    incident_id: int
    number: int
    action: str
    owner_id: str | None = None
    owner_label: str = ""
    status: ActionStatus = ActionStatus.OPEN
    created_at: datetime
    updated_at: datetime
