"""Use cases that build an incident's timeline from chat."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core import lifecycle
from bot.core.access import may_change, refusal
from bot.core.errors import InvalidTransition
from bot.core.jobs import CaptureMessage, Tell, UnconfirmRecorded
from bot.core.models import Incident, Reply, TimelineEntry, TimelineKind
from bot.core.ports import UnitOfWork
from bot.core.requests import guarded_by_own_key
from bot.services.context import ServiceContext
from bot.services.incidents import (
    find_incident_for_room,
    incident_for_change,
    load,
    lock,
    require_id,
    require_incident_in_room,
    require_visible,
)


def add_note(ctx: ServiceContext, *, room_id: str | None, text: str, by: str) -> TimelineEntry:
    """Write a note straight onto the timeline."""
    known = ctx.rooms.get(room_id)
    if known is not None and may_change(known, ctx.actor(by, known)):
        # The room's incident as last read here: the decision stands if the locked row agrees.
        entry = lifecycle.note_entry(known, text, by=by, now=ctx.clock.now())
        with ctx.uow() as uow:
            added = uow.timeline.add_if_access_unchanged(entry, known)
            if added is not None:
                uow.commit()
                return added
        ctx.rooms.forget(room_id)
    found = incident_for_change(ctx, by=by, doing="add to this incident's timeline", room_id=room_id, command="note")
    ctx.rooms.remember(found)
    entry = lifecycle.note_entry(found, text, by=by, now=ctx.clock.now())
    with ctx.uow() as uow:
        # A note depends on no field of the incident, so the write only holds its row (no second full read).
        lock(uow, entry.incident_id)
        entry = uow.timeline.add(entry)
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
    pin = _Pin(event_id=event_id, room_id=room_id, message_id=message_id, user_id=user_id)
    known = ctx.rooms.get(room_id)
    if known is not None and may_change(known, ctx.actor(user_id, known)):
        # The room's incident as last read here: the decision stands if the locked row agrees. The row is
        # locked last, just before the commit, so that pins of one busy incident hold it for one statement
        # each rather than queue behind each other's every write (on PostgreSQL, each a round trip).
        # Two people pinning one message at once may then both queue its capture: the capture finds the
        # other's entry (or the unique source keeps one) and the confirmation is keyed, so it shows once.
        with ctx.uow() as uow:
            if _record_pin(uow, known, pin, allowed=True, still=lambda: uow.incidents.lock_if_access_unchanged(known)):
                return
        ctx.rooms.forget(room_id)
    incident = find_incident_for_room(ctx, room_id)
    if incident is None:
        return
    ctx.rooms.remember(incident)
    allowed = may_change(incident, ctx.actor(user_id, incident))
    with ctx.uow() as uow:
        _record_pin(uow, incident, pin, allowed=allowed)


@dataclass(frozen=True)
class _Pin:
    event_id: str
    room_id: str
    message_id: str
    user_id: str


def _record_pin(
    uow: UnitOfWork, incident: Incident, pin: _Pin, *, allowed: bool, still: Callable[[], bool] = lambda: True
) -> bool:
    """Record the pin (or tell a refusal), committed; False, committing nothing, when `still()` (asked last,
    just before the commit) says the decision no longer holds."""
    if not uow.events.first_delivery(pin.event_id):
        return True
    guarded_by_own_key()
    if not allowed:
        # Told privately, once (the event id is recorded with the refusal).
        uow.jobs.enqueue(
            Tell(
                text=refusal(incident, doing="add to this incident's timeline"),
                asked_by=Reply(user_id=pin.user_id, room_id=pin.room_id),
            )
        )
        uow.commit()
        return True
    incident_id = require_id(incident)
    newly_pinned = uow.pins.add(incident_id, pin.room_id, pin.message_id, pin.user_id)
    if newly_pinned and uow.pins.count(incident_id, pin.room_id, pin.message_id) == 1:
        uow.jobs.enqueue(
            CaptureMessage(
                incident_id=incident_id, room_id=pin.room_id, message_id=pin.message_id, by=pin.user_id, via_pin=True
            )
        )
    if not still():
        return False  # the unit of work ends without a commit: nothing of this is kept
    uow.commit()
    return True


def unpin_message(ctx: ServiceContext, *, event_id: str, room_id: str, message_id: str, user_id: str) -> None:
    """A timeline reaction was removed: with the last one gone, so is the entry."""
    with ctx.uow() as uow:
        incident = uow.incidents.by_room(room_id)
        if incident is None or incident.id is None or not uow.events.first_delivery(event_id):
            return
        guarded_by_own_key()
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
