"""The status-update cadence: finding the intervals that ended without an update, and queueing their nudges.

Nothing is scheduled ahead: each look works from the incidents as they are (the last update, the
level in force, resolved or not), so an update, a severity change or a resolve needs no bookkeeping.
A nudge is a job keyed by its incident and missed moment, so every replica may look, as often as it
likes, and each missed interval is still nudged once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.jobs import NudgeForUpdate
from bot.core.models import Incident, TimelineEntry, known_severities
from bot.core.status_updates import CADENCE_KINDS, Cadence, cadence_for, nudge_key, step
from bot.services.context import ServiceContext

# Looks come often enough that a nudge is late by a tenth of the shortest cadence at most, and never
# more than this (a new incident, or a cadence changed by a pull of the runbook, is seen by then).
MAX_LOOK_SECONDS = 15.0
MIN_LOOK_SECONDS = 0.25


def current_cadence(ctx: ServiceContext, incident: Incident, timeline: Sequence[TimelineEntry]) -> Cadence | None:
    """The incident's cadence under the policy in force (None: resolved, or its level has none).

    `timeline` needs only the entries of `CADENCE_KINDS` (`TimelineRepo.of_kinds`)."""
    return cadence_for(incident, timeline, ctx.policy.level(incident.severity).update_every)


class UpdateCadence:
    """Looks for missed status updates and queues one nudge per missed interval."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx
        # The last nudge this process queued per incident: a look finds it again until an update
        # comes, and need not write to the database to learn that it is queued.
        self._queued: dict[int, str] = {}

    def look_every(self) -> float:
        """Seconds between looks: a tenth of the shortest cadence in force, within bounds."""
        cadences = [
            every.total_seconds()
            for severity in known_severities()
            if (every := self._ctx.policy.level(severity).update_every) is not None
        ]
        if not cadences:
            return MAX_LOOK_SECONDS
        return min(MAX_LOOK_SECONDS, max(MIN_LOOK_SECONDS, min(cadences) / 10))

    def queue_due_nudges(self, now: datetime) -> int:
        """Queue the nudge for each open incident whose latest interval ended without an update."""
        due: list[tuple[int, datetime, str]] = []
        with self._ctx.reader() as uow:
            active = uow.incidents.list_active()
            for incident in active:
                if incident.id is None or self._ctx.policy.level(incident.severity).update_every is None:
                    continue
                cadence = current_cadence(self._ctx, incident, uow.timeline.of_kinds(incident.id, CADENCE_KINDS))
                moment = step(cadence, now).nudge_due if cadence is not None else None
                if moment is not None and self._queued.get(incident.id) != nudge_key(incident.id, moment):
                    due.append((incident.id, moment, nudge_key(incident.id, moment)))
        if due:
            with self._ctx.uow() as uow:
                for incident_id, moment, key in due:
                    uow.jobs.enqueue(NudgeForUpdate(incident_id=incident_id, due_at=moment), key=key)
                uow.commit()
        open_ids = {incident.id for incident in active}
        self._queued = {key: value for key, value in self._queued.items() if key in open_ids}
        self._queued.update({incident_id: key for incident_id, _, key in due})
        return len(due)
