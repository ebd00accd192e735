"""Status updates: what `/incident update` records, and the cadence that asks for the next one.

The cadence is counted from the last update (or the declare, or a reopen): interval n ends at
`anchor + n × every`, and each interval that ends with no update in it gets one nudge. A new update
moves the anchor, a new severity brings its level's `every`, a resolve ends the cadence. Everything
here is pure: the incident, its timeline, the level's interval and the time come in; moments,
numbers and keys go out, so every replica computes the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.errors import InvalidInput, InvalidTransition
from bot.core.models import Incident, TimelineEntry, TimelineKind, TimelineLine
from bot.core.roles import COMMS

UPDATE_LIMIT = 3000
USAGE = "A status update needs text: `/incident update <what is happening>` (or `/incident update` for a form)."
# What restarts the interval: an update, and a reopen (a reopened incident starts counting afresh). A
# cadence is computed from these entries alone, so a look reads only them.
CADENCE_KINDS = frozenset({TimelineKind.STATUS_UPDATE, TimelineKind.REOPENED})


@dataclass(frozen=True)
class Cadence:
    """When status updates are due: one every `every`, counted from `anchor`."""

    anchor: datetime
    every: timedelta

    def due(self, number: int) -> datetime:
        """The moment interval `number` (1, 2, …) ends."""
        return self.anchor + self.every * number

    def missed(self, now: datetime) -> int:
        """How many whole intervals have passed since the anchor (each one without an update)."""
        if now <= self.anchor:
            return 0
        # timedelta // timedelta is exact (whole microseconds), so replicas agree on the boundary.
        return (now - self.anchor) // self.every


@dataclass(frozen=True)
class CadenceStep:
    """What a look at the cadence at some moment finds: the interval to nudge for, and when to look next."""

    number: int
    nudge_due: datetime | None
    next_check: datetime


def cadence_for(incident: Incident, timeline: Sequence[TimelineEntry], every: timedelta | None) -> Cadence | None:
    """The incident's cadence now; None when it is resolved or its level has none."""
    if not incident.is_active or every is None:
        return None
    restarts = [entry.occurred_at for entry in timeline if entry.kind in CADENCE_KINDS]
    return Cadence(anchor=max([incident.declared_at, *restarts]), every=every)


def step(cadence: Cadence, now: datetime) -> CadenceStep:
    """At `now`: the latest interval that ended without an update (nudged once), and the next look.

    Only the latest missed interval is nudged: a bot that was down for three intervals says it once.
    """
    number = cadence.missed(now)
    return CadenceStep(
        number=number,
        nudge_due=cadence.due(number) if number >= 1 else None,
        next_check=cadence.due(number + 1),
    )


def nudge_key(incident_id: int, due: datetime) -> str:
    """One nudge per incident and missed moment, whichever replica (or restart) queues it."""
    return f"update-nudge:{incident_id}:{_stamp(due)}"


def nudge_target(incident: Incident) -> str:
    """Who is asked for the next status update: the communications lead, else the commander."""
    return incident.holder(COMMS) or incident.commander_id


def require_open_for_updates(incident: Incident) -> None:
    """Refuse updates to a resolved incident, saying how to reopen it."""
    if not incident.is_active:
        raise InvalidTransition(
            "This incident is resolved, so it takes no more status updates. `/incident reopen` reopens it."
        )


def update_entry(incident: Incident, text: str, *, by: str, now: datetime) -> TimelineEntry:
    """The timeline entry of a status update; InvalidInput when there is nothing to say."""
    require_open_for_updates(incident)
    cleaned = text.strip()
    if not cleaned:
        raise InvalidInput(USAGE, field="update")
    if len(cleaned) > UPDATE_LIMIT:
        raise InvalidInput(f"A status update can be at most {UPDATE_LIMIT} characters.", field="update")
    assert incident.id is not None
    return TimelineEntry(
        incident_id=incident.id, kind=TimelineKind.STATUS_UPDATE, occurred_at=now, author_id=by, text=cleaned
    )


def timeline_text(entry: TimelineEntry | TimelineLine) -> str:
    """How an entry reads on the timeline (in Slack and the RCA): updates are labelled as such."""
    return f"Status update: {entry.text}" if entry.kind is TimelineKind.STATUS_UPDATE else entry.text


def describe_interval(interval: timedelta) -> str:
    """`30 minutes`, `2 hours`, `90 minutes`, `3 seconds`: an interval as people say it."""
    seconds = round(interval.total_seconds())
    if seconds >= 3600 and seconds % 3600 == 0:
        return _plural(seconds // 3600, "hour")
    if seconds >= 60 and seconds % 60 == 0:
        return _plural(seconds // 60, "minute")
    return _plural(max(seconds, 1), "second")


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _stamp(moment: datetime) -> str:
    # Keys name moments in UTC, so two replicas in different zones write the same key.
    return moment.astimezone(UTC).isoformat()
