"""Status updates: `/incident update` records one and queues its posts; the cadence jobs nudge for the next.

The update is on the timeline before the answer to Slack; posting it in the channel and in the
announcement's thread are jobs of their own, keyed by the update. The nudges for missed updates are
queued by `bot.services.cadence`; each checks, when it runs, that no update came meanwhile.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.core import jobs as j
from bot.core.errors import Duplicate, RetryLater
from bot.core.models import Incident, Reply, TimelineEntry, TimelineKind
from bot.core.ports import Chat, UnitOfWork
from bot.core.status_updates import CADENCE_KINDS, nudge_target, require_open_for_updates, step, update_entry
from bot.services.cadence import current_cadence
from bot.services.context import ServiceContext
from bot.services.incidents import incident_for_change, load, require_id

log = logging.getLogger(__name__)

DOING = "post a status update for this incident"
# A channel still being made, or an announcement not posted yet, is looked for again this often.
WAIT_SECONDS = 2.0
# An update posted before the incident's announcement waits this long for it, then goes to the
# announce channel on its own (an incident announced before the bot recorded announcements has none).
ANNOUNCEMENT_WAIT = timedelta(minutes=2)


@dataclass(frozen=True)
class PostedUpdate:
    """An update on the timeline, with where it is being posted."""

    incident: Incident
    entry: TimelineEntry
    announced_in: str | None


def announce_channel_for(ctx: ServiceContext, incident: Incident) -> str | None:
    """Where the incident's updates are also posted: the announce channel, for levels that say so.

    Never for a private incident: its announcement names no title, and its updates stay in its channel.
    """
    channel = ctx.policy.announce_channel
    if not channel or incident.private or not ctx.policy.level(incident.severity).announce_updates:
        return None
    return channel


def incident_for_update_form(ctx: ServiceContext, *, room_id: str | None, by: str) -> Incident:
    """The active incident of this channel whose update form opens, once `by` may post its updates."""
    incident = incident_for_change(ctx, by=by, doing=DOING, room_id=room_id, command="update")
    require_open_for_updates(incident)
    return incident


def post_status_update(
    ctx: ServiceContext,
    *,
    text: str,
    by: str,
    reply: Reply,
    room_id: str | None = None,
    incident_id: int | None = None,
    once: str | None = None,
) -> PostedUpdate:
    """Record a status update now; it is posted after the ack (the cadence counts from it at once)."""
    found = incident_for_change(ctx, by=by, doing=DOING, room_id=room_id, incident_id=incident_id, command="update")
    with ctx.uow() as uow:
        if once is not None and not uow.events.first_delivery(once):
            raise Duplicate("That form was already submitted.")
        incident = load(uow, require_id(found))
        entry = uow.timeline.add(update_entry(incident, text, by=by, now=ctx.clock.now()))
        posted = PostedUpdate(incident=incident, entry=entry, announced_in=announce_channel_for(ctx, incident))
        _queue_posts(uow, posted, reply)
        uow.commit()
    return posted


def _queue_posts(uow: UnitOfWork, posted: PostedUpdate, reply: Reply) -> None:
    incident_id, entry_id = require_id(posted.incident), posted.entry.id
    assert entry_id is not None
    uow.jobs.enqueue(
        j.PostStatusUpdate(incident_id=incident_id, entry_id=entry_id, asked_by=reply),
        key=f"status-update:{entry_id}",
    )
    if posted.announced_in is not None:
        uow.jobs.enqueue(
            j.AnnounceStatusUpdate(incident_id=incident_id, entry_id=entry_id, asked_by=reply),
            key=f"announce-status-update:{entry_id}",
        )


class StatusUpdateJobs:
    """The jobs of status updates and their cadence, against the chat platform and the database."""

    def __init__(self, ctx: ServiceContext, chat: Chat) -> None:
        self._ctx = ctx
        self._chat = chat

    def record_announcement(self, incident_id: int, channel: str, message_id: str) -> None:
        """Remember the announcement as the source of the incident's "declared" entry (updates thread under it)."""
        with self._ctx.uow() as uow:
            declared = _declared(uow.timeline.of_kinds(incident_id, {TimelineKind.DECLARED}))
            if declared is not None and declared.source_message_id is None:
                where = {"source_room_id": channel, "source_message_id": message_id}
                uow.timeline.update(declared.model_copy(update=where))
                uow.commit()

    def post(self, job: j.PostStatusUpdate) -> None:
        """Post the update in the incident's channel."""
        found = self._update(job.incident_id, job.entry_id)
        if found is None:
            return
        incident, entry = found
        if incident.room_id is None:
            raise RetryLater("the incident's channel is not created yet", delay_seconds=WAIT_SECONDS, max_attempts=60)
        every = self._ctx.policy.level(incident.severity).update_every
        self._chat.post_status_update(incident, entry, every=every)

    def announce(self, job: j.AnnounceStatusUpdate) -> None:
        """Post the update in the thread of the incident's announcement."""
        channel = self._ctx.policy.announce_channel
        found = self._update(job.incident_id, job.entry_id)
        if channel is None or found is None:
            return
        incident, entry = found
        with self._ctx.reader() as uow:
            declared = _declared(uow.timeline.of_kinds(job.incident_id, {TimelineKind.DECLARED}))
        thread = declared.source_message_id if declared and declared.source_room_id == channel else None
        if thread is None and incident.age(self._ctx.clock.now()) < ANNOUNCEMENT_WAIT:
            raise RetryLater("the incident's announcement is not posted yet", delay_seconds=WAIT_SECONDS)
        self._chat.announce_status_update(channel, thread, incident, entry)

    def nudge(self, job: j.NudgeForUpdate) -> None:
        """Ask for the update due at `due_at`, unless one came meanwhile (or a later nudge is on its way)."""
        incident, timeline = self._incident(job.incident_id)
        cadence = current_cadence(self._ctx, incident, timeline) if incident is not None else None
        if incident is None or cadence is None:
            return
        if step(cadence, max(self._ctx.clock.now(), job.due_at)).nudge_due != job.due_at:
            return
        if incident.room_id is None:
            raise RetryLater("the incident's channel is not created yet", delay_seconds=WAIT_SECONDS, max_attempts=60)
        self._chat.nudge_for_update(
            incident, target=nudge_target(incident), every=cadence.every, silent_for=job.due_at - cadence.anchor
        )
        log.info("asked for a status update in incident #%s (due %s)", job.incident_id, job.due_at.isoformat())

    def _incident(self, incident_id: int) -> tuple[Incident | None, list[TimelineEntry]]:
        """The incident and the entries its cadence is computed from."""
        with self._ctx.reader() as uow:
            incident = uow.incidents.get(incident_id)
            return incident, uow.timeline.of_kinds(incident_id, CADENCE_KINDS) if incident is not None else []

    def _update(self, incident_id: int, entry_id: int) -> tuple[Incident, TimelineEntry] | None:
        with self._ctx.reader() as uow:
            incident = uow.incidents.get(incident_id)
            entry = uow.timeline.get(entry_id)
        if incident is None or entry is None or entry.incident_id != incident_id:
            return None
        return (incident, entry) if entry.kind is TimelineKind.STATUS_UPDATE else None


def _declared(timeline: Sequence[TimelineEntry]) -> TimelineEntry | None:
    return next((entry for entry in timeline if entry.kind is TimelineKind.DECLARED), None)
