"""The incident numbers, computed from typed facts: counts by level per week and month, time to resolve
and to the first status update, action items done and open, overdue items per owner, missing RCAs.

Definitions (the README's *Incident numbers* repeats them):
- an incident belongs to the local day (TIMEZONE) it was declared on; `since`/`until` include both days;
- time to resolve: resolved minus declared, for incidents whose both moments are known;
- median and 90th percentile: linear between the two nearest ranks (numpy's default), so the p90 of
  10, 20, …, 100 minutes is 91;
- completion rate: done items / all items of the incidents counted; open = not done (`Open` and
  `In progress`); ages are measured at `now`;
- overdue: an open item older than its incident level's response time (the Severity Guide); each owner's
  oldest 20 are listed;
- missing RCA: a resolved incident whose level requires one (or that asked for one), with no RCA file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from bot.core.models import ActionStatus, Severity
from bot.core.stats_facts import IncidentFacts, ItemFacts, format_minutes, iso_week, percentile, period_of, span
from bot.core.stats_items import action_item_stats, open_items_by_week, overdue_by_owner
from bot.core.stats_report import (
    IncidentOut,
    LevelStats,
    PeriodCounts,
    ResolvePeriod,
    StatsReport,
    Totals,
)

__all__ = ["IncidentFacts", "ItemFacts", "compute_stats", "format_minutes", "iso_week", "percentile"]


def compute_stats(
    incidents: Sequence[IncidentFacts],
    *,
    now: datetime,
    tz: str = "UTC",
    since: date | None = None,
    until: date | None = None,
    levels: Iterable[Severity] = (),
) -> StatsReport:
    """The numbers of the incidents declared from `since` to `until` (local days, both included)."""
    windowed = since is not None or until is not None
    chosen = [i for i in incidents if _in_window(i, since, until)] if windowed else list(incidents)
    undated_left_out = sum(1 for i in incidents if i.declared_on is None) if windowed else 0
    shown = sorted({*levels, *(i.level for i in chosen if i.level is not None)}, key=lambda s: s.level)
    names = [str(level) for level in shown]
    items = [item for incident in chosen for item in incident.items]
    missing = [i for i in chosen if i.needs_rca and not i.active and i.rca is None]
    outs = {id(i): _out(i) for i in chosen}
    dated = sorted((i for i in chosen if i.declared_on is not None), key=_order)
    first_day = since or (dated[0].declared_on if dated else None)
    last_day = until or (dated[-1].declared_on if dated else None)
    return StatsReport(
        generated_at=now,
        timezone=tz,
        since=since,
        until=until,
        totals=Totals(
            incidents=len(chosen),
            private=sum(1 for i in chosen if i.private),
            from_bot=sum(1 for i in chosen if i.source == "bot"),
            only_in_git=sum(1 for i in chosen if i.source != "bot"),
            no_level=sum(1 for i in chosen if i.level is None),
            no_date=sum(1 for i in chosen if i.declared_on is None),
        ),
        levels=names,
        by_level={str(level): _level_stats([i for i in chosen if i.level is level], missing) for level in shown},
        by_week=_periods(dated, names, first_day, last_day, weekly=True),
        by_month=_periods(dated, names, first_day, last_day, weekly=False),
        resolve_by_month=_resolve_by_month(dated, names, first_day, last_day),
        open_items_by_week=open_items_by_week(items, now, tz, first_day, until),
        action_items=action_item_stats(items, now),
        overdue=overdue_by_owner(chosen, now),
        missing_rca=[outs[id(i)] for i in sorted(missing, key=_order)],
        incidents=[outs[id(i)] for i in sorted(chosen, key=_order)],
        notes=_notes(chosen, items, undated_left_out),
    )


def _in_window(incident: IncidentFacts, since: date | None, until: date | None) -> bool:
    day = incident.declared_on
    return day is not None and (since is None or day >= since) and (until is None or day <= until)


def _order(incident: IncidentFacts) -> tuple[date, datetime, int, str]:
    return (
        incident.declared_on or date.max,
        incident.declared or datetime.max.replace(tzinfo=UTC),
        incident.incident_id or 0,
        incident.rca or incident.title,
    )


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _level_stats(group: list[IncidentFacts], missing: list[IncidentFacts]) -> LevelStats:
    resolves = [m for i in group if (m := i.resolve_minutes) is not None]
    updates = [m for i in group if (m := i.first_update_minutes) is not None]
    ids = {id(i) for i in group}
    return LevelStats(
        count=len(group),
        resolved=len(resolves),
        resolve_minutes_median=_minutes(percentile(resolves, 0.5)),
        resolve_minutes_p90=_minutes(percentile(resolves, 0.9)),
        first_update=len(updates),
        first_update_minutes_median=_minutes(percentile(updates, 0.5)),
        first_update_minutes_p90=_minutes(percentile(updates, 0.9)),
        missing_rca=sum(1 for i in missing if id(i) in ids),
    )


def _periods(
    dated: list[IncidentFacts], names: list[str], first: date | None, last: date | None, *, weekly: bool
) -> list[PeriodCounts]:
    counts: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for incident in dated:
        assert incident.declared_on is not None
        label, _ = period_of(incident.declared_on, weekly=weekly)
        totals[label] = totals.get(label, 0) + 1
        if incident.level is not None:
            bucket = counts.setdefault(label, {})
            bucket[str(incident.level)] = bucket.get(str(incident.level), 0) + 1
    return [
        PeriodCounts(
            period=label,
            start=start,
            levels={name: counts.get(label, {}).get(name, 0) for name in names},
            total=totals.get(label, 0),
        )
        for label, start in span(first, last, weekly=weekly)
    ]


def _resolve_by_month(
    dated: list[IncidentFacts], names: list[str], first: date | None, last: date | None
) -> list[ResolvePeriod]:
    minutes: dict[tuple[str, str], list[float]] = {}
    for incident in dated:
        value = incident.resolve_minutes
        if value is None or incident.level is None or incident.declared_on is None:
            continue
        label, _ = period_of(incident.declared_on, weekly=False)
        minutes.setdefault((label, str(incident.level)), []).append(value)
    return [
        ResolvePeriod(
            period=label,
            start=start,
            resolve_minutes_median={name: _minutes(percentile(minutes.get((label, name), []), 0.5)) for name in names},
        )
        for label, start in span(first, last, weekly=False)
    ]


def _out(incident: IncidentFacts) -> IncidentOut:
    return IncidentOut(
        id=incident.incident_id,
        level=str(incident.level) if incident.level is not None else None,
        title=None if incident.private else incident.title,
        private=incident.private,
        declared=incident.declared,
        declared_on=incident.declared_on,
        resolved=incident.resolved,
        active=incident.active,
        resolve_minutes=_minutes(incident.resolve_minutes),
        first_update_minutes=_minutes(incident.first_update_minutes),
        # An RCA's file name is its title's slug: a private incident's is said to exist, not named.
        rca=None if incident.private else incident.rca,
        has_rca=incident.rca is not None,
        source=incident.source,
        action_items=len(incident.items),
        open_action_items=sum(1 for i in incident.items if i.status is not ActionStatus.DONE),
        unknown=sorted(incident.unknown),
    )


def _notes(chosen: list[IncidentFacts], items: list[ItemFacts], undated_left_out: int) -> list[str]:
    """What could not be determined, in words."""
    notes: list[str] = []
    git_only = [i for i in chosen if i.source != "bot"]
    if git_only:
        unknown = {
            "resolve time": sum(1 for i in git_only if "resolved" in i.unknown),
            "declare time (only the day)": sum(1 for i in git_only if "declared" in i.unknown and i.declared_on),
            "date": sum(1 for i in git_only if "declared_on" in i.unknown),
            "level": sum(1 for i in git_only if "level" in i.unknown),
        }
        said = ", ".join(f"{what} for {count}" for what, count in unknown.items() if count)
        notes.append(
            f"{len(git_only)} incident(s) are known only from the docs repo (hand-written RCAs, the runbook's "
            "Incident History, fleet-status entries): their first status update is unknown"
            + (f", and so is the {said}." if said else ".")
        )
    if any("first_update" in i.unknown for i in chosen if i.source == "bot"):
        notes.append("The bot records no status updates yet, so time to first status update is null.")
    if undated_left_out:
        notes.append(f"{undated_left_out} incident(s) with no date are left out by --since/--until.")
    no_level = sum(1 for i in chosen if i.level is None)
    if no_level:
        notes.append(f"{no_level} incident(s) state no level: they count in the totals, not per level.")
    undated_done = sum(1 for i in items if i.status is ActionStatus.DONE and i.done is None)
    if undated_done:
        notes.append(
            f"{undated_done} done action item(s) (marked done in an RCA by hand) have no done date: "
            "they are left out of the open items over time."
        )
    unknown_age = sum(1 for i in items if i.status is not ActionStatus.DONE and i.opened is None)
    if unknown_age:
        notes.append(f"{unknown_age} open action item(s) have no known start: left out of ages and overdue.")
    return notes
