"""Who is due a nudge today: daily reminders in each owner's time zone, and the briefing's groups."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.models import Incident, Severity
from bot.core.open_items import OpenItem


def zone_or_utc(tz: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a folder such as "America", or a name too long for the file system.
        return ZoneInfo("UTC")


def local_day_due(now: datetime, *, tz: str | None, at: time) -> date | None:
    """The local date whose daily nudge is due at `now` in `tz` (None before `at` that day)."""
    zone = zone_or_utc(tz)
    local = (now.replace(tzinfo=UTC) if now.tzinfo is None else now).astimezone(zone)
    wall = at.replace(tzinfo=None)
    if local.time() >= wall:
        return local.date()
    # When clocks go back the wall clock shows `at` twice; once it has been shown today it stays due.
    first = datetime.combine(local.date(), wall, tzinfo=zone)
    return local.date() if local.astimezone(UTC) >= first.astimezone(UTC) else None


@dataclass(frozen=True)
class BriefingGroup:
    incident_title: str
    source: str | None
    severity: Severity | None
    items: list[OpenItem]


def briefing_groups(items: Iterable[OpenItem], now: datetime) -> list[BriefingGroup]:
    """Open items grouped by incident; groups and items past their SEV's response time come first."""
    groups: dict[tuple[str | None, int | None, str], list[OpenItem]] = {}
    for item in items:
        groups.setdefault((item.source, item.incident_id, item.incident_title), []).append(item)
    result = []
    for (source, _, title), members in groups.items():
        members.sort(key=lambda i: (not i.overdue(now), i.since, i.number))
        result.append(BriefingGroup(title, source, members[0].severity, members))
    result.sort(key=lambda g: (not any(i.overdue(now) for i in g.items), min(i.since for i in g.items)))
    return result


def missing_rcas(incidents: Iterable[Incident], rca_paths: Iterable[str]) -> list[Incident]:
    """Resolved incidents the runbook says need an RCA, with none in the docs repo."""
    present = set(rca_paths)
    return [
        incident
        for incident in incidents
        if not incident.is_active and incident.needs_rca and (not incident.rca_path or incident.rca_path not in present)
    ]
