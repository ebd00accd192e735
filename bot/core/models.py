"""The incident domain: severities as the runbook defines them, incidents, their timeline."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from threading import Lock
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from bot.core.roles import COMMANDER


@dataclass(frozen=True)
class SeverityInfo:
    criteria: str
    meaning: str
    response_time: str
    response_window: timedelta
    rca_required: bool


_LEVEL = re.compile(r"^\s*sev[-_ ]?([0-9]{1,2})\s*$", re.IGNORECASE)


_INTERNED: dict[str, Severity] = {}


class Severity(str):
    """A runbook level, always written `SEV-<n>`; SEV-1 is the most severe.

    Which levels exist and what they mean is the runbook's Severity Guide (see `use_severity_guide`),
    so a team that adds a SEV-4 row gets a SEV-4 without a code change.
    """

    SEV1: ClassVar[Severity]
    SEV2: ClassVar[Severity]
    SEV3: ClassVar[Severity]

    def __new__(cls, value: str) -> Severity:
        if isinstance(value, Severity):
            return value
        match = _LEVEL.match(str(value))
        if match is None or int(match.group(1)) < 1:
            raise ValueError(f"{value!r} is not a severity such as SEV-1")
        name = f"SEV-{int(match.group(1))}"
        # One object per level, so `is` compares levels as it did when they were an enum.
        found = _INTERNED.get(name)
        if found is None:
            found = _INTERNED.setdefault(name, super().__new__(cls, name))
        return found

    def __reduce__(self) -> tuple[type[Severity], tuple[str]]:
        return (Severity, (str(self),))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[Any], handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(), serialization=core_schema.to_string_ser_schema()
        )

    @property
    def value(self) -> str:
        return str.__str__(self)

    @property
    def level(self) -> int:
        return int(self[4:])

    @property
    def info(self) -> SeverityInfo:
        return _GUIDE.info(self)

    @property
    def is_escalation(self) -> bool:
        """SEV-1 is the runbook's immediate escalation."""
        return self.level == 1

    def outranks(self, other: Severity) -> bool:
        return self.level < other.level


Severity.SEV1 = Severity("SEV-1")
Severity.SEV2 = Severity("SEV-2")
Severity.SEV3 = Severity("SEV-3")

BUILT_IN_SEVERITIES: dict[Severity, SeverityInfo] = {
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

_NOT_IN_GUIDE = SeverityInfo(
    criteria="not in the runbook's Severity Guide",
    meaning="not in the runbook's Severity Guide",
    response_time="Next run",
    response_window=timedelta(days=2),
    rca_required=False,
)


class SeverityGuide:
    """The levels in force: the runbook's table once read, the built-in copy of it before."""

    def __init__(self, levels: Mapping[Severity, SeverityInfo]) -> None:
        self._lock = Lock()
        self._levels = dict(levels)

    def replace(self, levels: Mapping[Severity, SeverityInfo]) -> None:
        if not levels:
            raise ValueError("a severity guide needs at least one level")
        with self._lock:
            self._levels = dict(sorted(levels.items(), key=lambda pair: pair[0].level))

    def info(self, severity: Severity) -> SeverityInfo:
        return self._levels.get(severity, _NOT_IN_GUIDE)

    def levels(self) -> tuple[Severity, ...]:
        return tuple(self._levels)

    def knows(self, severity: Severity) -> bool:
        return severity in self._levels


_GUIDE = SeverityGuide(BUILT_IN_SEVERITIES)


def use_severity_guide(levels: Mapping[Severity, SeverityInfo]) -> None:
    """Make `levels` the ones in force for this process (the runbook was read or read again)."""
    _GUIDE.replace(levels)


def known_severities() -> tuple[Severity, ...]:
    """The levels in force, most severe first."""
    return _GUIDE.levels()


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
    ROLE_ASSIGNED = "role_assigned"
    STATUS_UPDATE = "status_update"


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
    # Who holds each role other than the commander (role key -> user id); a role not here is unassigned.
    roles: dict[str, str] = Field(default_factory=dict)

    def holder(self, role_key: str) -> str | None:
        """Who holds the role with this key now (the commander is `commander_id`); None when unassigned."""
        return self.commander_id if role_key == COMMANDER.key else self.roles.get(role_key)

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


@dataclass(frozen=True, slots=True)
class TimelineLine:
    """A timeline entry as the RCA shows it: what a render of a long timeline reads, and no more (turning
    10,000 rows into TimelineEntry models costs more than rendering them)."""

    id: int
    kind: TimelineKind
    occurred_at: datetime
    author_id: str | None
    text: str
    permalink: str | None


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
