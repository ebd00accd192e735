"""The action items' numbers: done and open, their ages, the overdue ones per owner, open ones over time."""

from __future__ import annotations

import functools
from datetime import date, datetime

from bot.core.models import ActionStatus
from bot.core.reminders import zone_or_utc
from bot.core.stats_facts import DAY, IncidentFacts, ItemFacts, percentile, span
from bot.core.stats_report import ActionItemStats, OpenItemsPoint, OverdueItem, OverdueOwner

# Overdue items listed per owner, oldest first (`count` is all of them).
OVERDUE_LISTED = 20


def _local_day(moment: datetime, tz: str) -> date:
    return moment.astimezone(zone_or_utc(tz)).date()


def open_items_by_week(
    items: list[ItemFacts], now: datetime, tz: str, first: date | None, until: date | None
) -> list[OpenItemsPoint]:
    """Items open at the end of each week: opened by then, and not done by then (a sweep, not a loop per week)."""
    tracked = [i for i in items if i.opened is not None and (i.status is not ActionStatus.DONE or i.done is not None)]
    if not tracked:
        return []
    zone = zone_or_utc(tz)
    days: dict[datetime, date] = {}  # the items of one incident share their start: each is placed once

    def day_of(moment: datetime) -> date:
        found = days.get(moment)
        if found is None:
            found = days[moment] = moment.astimezone(zone).date()
        return found

    opened_days = [day_of(i.opened) for i in tracked if i.opened is not None]
    start_day = first or min(opened_days)
    weeks = span(start_day, until or _local_day(now, tz), weekly=True)
    if not weeks:
        return []
    first_monday = weeks[0][1]
    changes = [0] * (len(weeks) + 1)

    def index(day: date) -> int:
        # The week the day falls in (before the first week: 0; after the last: past the end).
        return max(0, min(len(weeks), (day - first_monday).days // 7))

    for item, day in zip(tracked, opened_days, strict=True):
        changes[index(day)] += 1
        if item.status is ActionStatus.DONE and item.done is not None:
            changes[index(day_of(item.done))] -= 1
    points, running = [], 0
    for position, (label, start) in enumerate(weeks):
        running += changes[position]
        points.append(OpenItemsPoint(period=label, start=start, open=running))
    return points


def action_item_stats(items: list[ItemFacts], now: datetime) -> ActionItemStats:
    """Opened, done, in progress and open, the completion rate and the open ones' median age at `now`."""
    done = sum(1 for i in items if i.status is ActionStatus.DONE)
    open_items = [i for i in items if i.status is not ActionStatus.DONE]
    ages = [(now - i.opened).total_seconds() / DAY for i in open_items if i.opened is not None]
    median_age = percentile(ages, 0.5)
    return ActionItemStats(
        opened=len(items),
        done=done,
        in_progress=sum(1 for i in items if i.status is ActionStatus.IN_PROGRESS),
        open=len(open_items),
        completion_rate=round(done / len(items), 4) if items else None,
        median_open_age_days=None if median_age is None else round(median_age, 2),
        open_age_unknown=len(open_items) - len(ages),
    )


def overdue_by_owner(chosen: list[IncidentFacts], now: datetime) -> list[OverdueOwner]:
    """Open items older than their level's response time, per owner (most first), each owner's oldest listed."""
    # Per owner: their label, id, and (age in days, incident, item) of each overdue item.
    owners: dict[str, tuple[str, str | None, list[tuple[float, IncidentFacts, ItemFacts]]]] = {}
    for incident in chosen:
        if incident.level is None:
            continue
        window = incident.level.info.response_window
        for item in incident.items:
            if item.status is ActionStatus.DONE or item.opened is None or now - item.opened <= window:
                continue
            key = item.owner_id or _owner_key(item.owner)
            label = item.owner or (f"<@{item.owner_id}>" if item.owner_id else "(no owner)")
            entry = owners.setdefault(key, (label, item.owner_id, []))
            entry[2].append(((now - item.opened).total_seconds() / DAY, incident, item))
    result = []
    for label, owner_id, found in owners.values():
        found.sort(key=lambda f: (-f[0], f[1].rca or "", f[1].incident_id or 0, f[2].number))
        result.append(
            OverdueOwner(
                owner=label,
                owner_id=owner_id,
                count=len(found),
                oldest_days=round(found[0][0], 2),
                items=[
                    OverdueItem(
                        level=str(incident.level),
                        number=item.number,
                        rca=None if incident.private else incident.rca,  # its file name is its title's slug
                        incident_id=incident.incident_id,
                        age_days=round(age, 2),
                    )
                    for age, incident, item in found[:OVERDUE_LISTED]
                ],
            )
        )
    return sorted(result, key=lambda o: (-o.count, -o.oldest_days, o.owner))


@functools.cache
def _owner_key(owner: str) -> str:
    return " ".join(owner.strip().lstrip("@").split()).casefold()
