"""The typed facts the numbers are computed from, and the arithmetic they share: percentiles, weeks."""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.core.models import ActionStatus, Severity
from bot.core.stats_report import Source

DAY = 86400.0


@dataclass(frozen=True)
class ItemFacts:
    """An action item: `opened` and `done` are None when nothing says when (a hand-written row's done)."""

    number: int
    owner: str
    owner_id: str | None
    status: ActionStatus
    opened: datetime | None
    done: datetime | None = None


@dataclass(frozen=True)
class IncidentFacts:
    """One incident as far as it is known, from the bot's database, the docs repo, or both.

    `unknown` names what could not be determined (`level`, `declared`, `declared_on`, `resolved`,
    `first_update`); moments are UTC.
    """

    level: Severity | None
    title: str
    source: Source
    declared: datetime | None = None
    declared_on: date | None = None
    resolved: datetime | None = None
    active: bool = False
    private: bool = False
    first_update: datetime | None = None
    rca: str | None = None
    incident_id: int | None = None
    rca_wanted: bool = False
    items: tuple[ItemFacts, ...] = ()
    unknown: frozenset[str] = field(default_factory=frozenset)

    @property
    def needs_rca(self) -> bool:
        return self.level is not None and (self.level.info.rca_required or self.rca_wanted)

    @property
    def resolve_minutes(self) -> float | None:
        if self.declared is None or self.resolved is None:
            return None
        return (self.resolved - self.declared).total_seconds() / 60

    @property
    def first_update_minutes(self) -> float | None:
        if self.declared is None or self.first_update is None:
            return None
        return max(0.0, (self.first_update - self.declared).total_seconds() / 60)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The `q` quantile (0 ≤ q ≤ 1), linear between the nearest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def format_minutes(minutes: float | None) -> str:
    """`45m`, `2h 05m`, `3d 4h`; `—` when unknown."""
    if minutes is None:
        return "—"
    whole = round(minutes)
    if whole < 60:
        return f"{whole}m"
    hours, rest = divmod(whole, 60)
    if hours < 48:
        return f"{hours}h {rest:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


@functools.cache
def iso_week(day: date) -> tuple[str, date]:
    """`2026-W47` and the Monday it starts on."""
    year, week, weekday = day.isocalendar()
    return f"{year}-W{week:02d}", day - timedelta(days=weekday - 1)


def period_of(day: date, *, weekly: bool) -> tuple[str, date]:
    """The ISO week (or month) a day is in, and its first day."""
    return iso_week(day) if weekly else (f"{day:%Y-%m}", day.replace(day=1))


def span(first: date | None, last: date | None, *, weekly: bool) -> list[tuple[str, date]]:
    """Every week (or month) from `first`'s to `last`'s, empty ones included, so a chart's gaps show."""
    if first is None or last is None or last < first:
        return []
    periods = []
    _, start = period_of(first, weekly=weekly)
    while start <= last:
        periods.append(period_of(start, weekly=weekly))
        start = start + timedelta(days=7) if weekly else (start + timedelta(days=32)).replace(day=1)
    return periods
