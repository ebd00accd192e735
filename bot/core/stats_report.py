"""The numbers as typed models: what `incident-bot stats --json` prints (schema_version 1, documented in
the README), what the charts, the weekly digest and the Home tab are drawn from.

Keys are only ever added, never renamed or dropped, within a schema version. A value that could not
be determined is `null`, never a guess. A private incident's title is never part of it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

SCHEMA_VERSION = 1
Source = Literal["bot", "rca", "history", "fleet_status"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LevelStats(_Out):
    count: int
    resolved: int  # with a known resolve time
    resolve_minutes_median: float | None
    resolve_minutes_p90: float | None
    first_update: int  # with a known first status update
    first_update_minutes_median: float | None
    first_update_minutes_p90: float | None
    missing_rca: int


class PeriodCounts(_Out):
    period: str  # `2026-W47` (ISO week) or `2026-11`
    start: date
    levels: dict[str, int]
    total: int


class ResolvePeriod(_Out):
    period: str
    start: date
    resolve_minutes_median: dict[str, float | None]


class OpenItemsPoint(_Out):
    period: str  # ISO week
    start: date
    open: int  # open at the end of that week


class ActionItemStats(_Out):
    opened: int
    done: int
    in_progress: int
    open: int  # not done: `Open` and `In progress`
    completion_rate: float | None  # done / opened
    median_open_age_days: float | None
    open_age_unknown: int


class OverdueItem(_Out):
    level: str | None
    number: int
    rca: str | None
    incident_id: int | None
    age_days: float


class OverdueOwner(_Out):
    owner: str
    owner_id: str | None
    count: int
    oldest_days: float
    items: list[OverdueItem]


class IncidentOut(_Out):
    id: int | None
    level: str | None
    title: str | None
    private: bool
    declared: datetime | None
    declared_on: date | None
    resolved: datetime | None
    active: bool
    resolve_minutes: float | None
    first_update_minutes: float | None
    rca: str | None  # None when private (its file name says its title)
    has_rca: bool
    source: Source
    action_items: int
    open_action_items: int
    unknown: list[str]

    @model_serializer(mode="wrap")
    def _without_private_title(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.private:
            data.pop("title", None)  # counted, never titled
        return data


class Totals(_Out):
    incidents: int
    private: int
    from_bot: int
    only_in_git: int
    no_level: int
    no_date: int


class StatsReport(_Out):
    schema_version: int = SCHEMA_VERSION
    generated_at: datetime
    timezone: str
    since: date | None
    until: date | None
    totals: Totals
    levels: list[str]
    by_level: dict[str, LevelStats]
    by_week: list[PeriodCounts]
    by_month: list[PeriodCounts]
    resolve_by_month: list[ResolvePeriod]
    open_items_by_week: list[OpenItemsPoint]
    action_items: ActionItemStats
    overdue: list[OverdueOwner]
    missing_rca: list[IncidentOut]
    incidents: list[IncidentOut]
    notes: list[str]
