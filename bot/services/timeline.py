"""Use cases that build an incident's timeline from chat."""

from __future__ import annotations

from bot.core import lifecycle
from bot.core.access import may_change, refusal
from bot.core.errors import InvalidTransition
from bot.core.jobs import CaptureMessage, Tell, UnconfirmRecorded
from bot.core.models import Incident, Reply, TimelineEntry, TimelineKind
from bot.services.context import ServiceContext
from bot.services.incidents import (
    find_incident_for_room,
    incident_for_change,
    load,
    require_id,
    require_incident_in_room,
    require_visible,
)


def add_note(ctx: ServiceContext, *, room_id: str | None, text: str, by: str) -> TimelineEntry:
    """Write a note straight onto the timeline."""
    found = incident_for_change(ctx, by=by, doing="add to this incident's timeline", room_id=room_id, command="note")
    with ctx.uow() as uow:
        incident = load(uow, require_id(found))
        entry = uow.timeline.add(lifecycle.note_entry(incident, text, by=by, now=ctx.clock.now()))
        uow.commit()
    return entry


def timeline_of(ctx: ServiceContext, *, room_id: str | None, by: str) -> tuple[Incident, list[TimelineEntry]]:
    """The incident of this channel and its timeline, oldest first."""
    with ctx.reader() as uow:
        incident = require_incident_in_room(uow, room_id, doing="timeline")
        entries = uow.timeline.for_incident(require_id(incident))
    require_visible(ctx, incident, to=by)
    return incident, entries


def pin_message(ctx: ServiceContext, *, event_id: str, room_id: str, message_id: str, user_id: str) -> None:
    """Someone reacted with the timeline emoji: the message goes on the timeline once."""
    incident = find_incident_for_room(ctx, room_id)
    if incident is None:
        return
    allowed = may_change(incident, ctx.actor(user_id, incident))
    incident_id = require_id(incident)
    with ctx.uow() as uow:
        if not uow.events.first_delivery(event_id):
            return
        if not allowed:
            # Told privately, once (the event id is recorded with the refusal).
            uow.jobs.enqueue(
                Tell(
                    text=refusal(incident, doing="add to this incident's timeline"),
                    asked_by=Reply(user_id=user_id, room_id=room_id),
                )
            )
            uow.commit()
            return
        newly_pinned = uow.pins.add(incident_id, room_id, message_id, user_id)
        if newly_pinned and uow.pins.count(incident_id, room_id, message_id) == 1:
            uow.jobs.enqueue(
                CaptureMessage(
                    incident_id=incident_id, room_id=room_id, message_id=message_id, by=user_id, via_pin=True
                )
            )
        uow.commit()


def unpin_message(ctx: ServiceContext, *, event_id: str, room_id: str, message_id: str, user_id: str) -> None:
    """A timeline reaction was removed: with the last one gone, so is the entry."""
    with ctx.uow() as uow:
        incident = uow.incidents.by_room(room_id)
        if incident is None or incident.id is None or not uow.events.first_delivery(event_id):
            return
        uow.pins.remove(incident.id, room_id, message_id, user_id)
        if uow.pins.count(incident.id, room_id, message_id) == 0:
            entry = uow.timeline.by_source(incident.id, room_id, message_id)
            if entry is not None and entry.id is not None:
                uow.timeline.delete(entry.id)
                uow.jobs.enqueue(UnconfirmRecorded(room_id=room_id, message_id=message_id))
        uow.commit()


def add_message_by_shortcut(
    ctx: ServiceContext, *, incident_id: int, room_id: str, message_id: str, by: str, reply: Reply
) -> Incident:
    """The message shortcut: put any message on an open incident's timeline."""
    found = incident_for_change(ctx, by=by, doing="add to that incident's timeline", incident_id=incident_id)
    with ctx.uow() as uow:
        incident = load(uow, require_id(found))
        if not incident.is_active:
            raise InvalidTransition(f"{incident.title} is resolved; reopen it to add to its timeline.")
        uow.jobs.enqueue(
            CaptureMessage(
                incident_id=incident_id,
                room_id=room_id,
                message_id=message_id,
                by=by,
                via_pin=False,
                asked_by=reply,
            )
        )
        uow.commit()
    return incident


def message_edited(ctx: ServiceContext, *, room_id: str, message_id: str, text: str) -> None:
    """A recorded message was edited: its timeline entries follow (idempotent, so retries are harmless)."""
    with ctx.reader() as uow:
        if not _recorded_messages(uow.timeline.by_message(room_id, message_id)):
            return  # most edits are of messages nobody pinned: no write for them
    with ctx.uow() as uow:
        for entry in _recorded_messages(uow.timeline.by_message(room_id, message_id)):
            uow.timeline.update(entry.model_copy(update={"text": text}))
        uow.commit()


def message_deleted(ctx: ServiceContext, *, room_id: str, message_id: str) -> None:
    """A recorded message was deleted: so are its timeline entries."""
    with ctx.reader() as uow:
        if not _recorded_messages(uow.timeline.by_message(room_id, message_id)):
            return
    with ctx.uow() as uow:
        for entry in _recorded_messages(uow.timeline.by_message(room_id, message_id)):
            if entry.id is not None:
                uow.timeline.delete(entry.id)
        uow.commit()


def _recorded_messages(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    # Only messages people put on the timeline follow their edits: the "declared" entry's source is
    # the bot's own announcement, and its text stays what the bot recorded.
    return [entry for entry in entries if entry.kind is TimelineKind.MESSAGE]
