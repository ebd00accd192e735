"""An incident's channel made under its naming scheme, once, even across crashes and rate-limit waits."""

from __future__ import annotations

from bot.core.models import Incident
from bot.core.naming import incident_channel_name
from bot.core.ports import Chat, ChatError, Room, RoomNameTaken
from bot.services.context import ServiceContext

MAX_NAME_ATTEMPTS = 50


def open_room(ctx: ServiceContext, chat: Chat, incident: Incident) -> Room:
    """A channel for the incident (`inc-…`, then `-2`, `-3` … when taken), recorded as its room."""
    assert incident.id is not None
    names = [
        incident_channel_name(incident.title, incident.declared_at.date(), attempt)
        for attempt in range(1, MAX_NAME_ATTEMPTS + 1)
    ]
    # The name is recorded before the channel is made: a run after a crash between the two finds the
    # channel the bot made under it instead of making another, and a run after a rate-limit wait goes on
    # from the name it had reached (each name found taken is a rate-limited call not to repeat).
    room = unclaimed(ctx, chat.find_own_room(incident.room_name)) if incident.room_name else None
    attempt = names.index(incident.room_name) if incident.room_name in names else 0
    while room is None:
        if attempt >= MAX_NAME_ATTEMPTS:
            raise ChatError("every channel name for this incident is taken")
        name = names[attempt]
        attempt += 1
        with ctx.uow() as uow:
            uow.incidents.set_room_name(incident.id, name)
            uow.commit()
        try:
            room = chat.create_room(name, private=incident.private)
        except RoomNameTaken:
            room = unclaimed(ctx, chat.find_own_room(name))
    with ctx.uow() as uow:
        uow.incidents.set_room(incident.id, room.id, room.name)
        uow.commit()
    return room


def unclaimed(ctx: ServiceContext, room: Room | None) -> Room | None:
    """The room, if no incident has it yet (the bot made it for this one, then crashed)."""
    if room is None:
        return None
    with ctx.reader() as uow:
        return room if uow.incidents.by_room(room.id) is None else None
