"""Marking action items done or in progress, in the bot and in the RCA."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import IncidentBotError, IncidentNotFound, InvalidInput
from bot.core.models import ActionStatus, TimelineEntry, TimelineKind
from bot.core.ports import Chat
from bot.services.context import ServiceContext
from bot.services.incidents import require_incident_in_room
from bot.services.jobkinds import ANNOUNCE_ITEM_STATUS, UPDATE_RCA_ROW


class NotAllowed(IncidentBotError):
    """Someone who is neither owner, commander nor in the incident channel."""


@dataclass(frozen=True)
class ItemRef:
    """An action item: by incident when the bot knows it, else by its hand-written RCA file."""

    number: int
    incident_id: int | None = None
    rca_path: str | None = None
    owner_id: str | None = None


@dataclass(frozen=True)
class StatusChange:
    title: str
    number: int
    action: str
    status: ActionStatus
    unchanged: bool = False


def change_status(ctx: ServiceContext, chat: Chat, *, ref: ItemRef, status: ActionStatus, by: str) -> StatusChange:
    """Change an item's status; the RCA row is rewritten and pushed after the ack."""
    if ref.incident_id is None:
        return _change_hand_written(ctx, ref=ref, status=status, by=by)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        incident = uow.incidents.get(ref.incident_id)
        item = uow.actions.get(ref.incident_id, ref.number)
        if incident is None or item is None:
            raise IncidentNotFound(f"There is no action item #{ref.number} on that incident.")
        allowed = by in {item.owner_id, incident.commander_id} or (
            incident.room_id is not None and chat.is_member(incident.room_id, by)
        )
        if not allowed:
            raise NotAllowed(
                f"Only the owner of action item #{ref.number}, the incident commander or people in the incident "
                "channel can change it."
            )
        if item.status is status:
            return StatusChange(incident.title, item.number, item.action, status, unchanged=True)
        uow.actions.save(item.model_copy(update={"status": status, "updated_at": now}))
        uow.timeline.add(
            TimelineEntry(
                incident_id=ref.incident_id,
                kind=TimelineKind.ACTION_ITEM,
                occurred_at=now,
                author_id=by,
                text=f"Action item #{item.number} marked {status.value}: {item.action}",
            )
        )
        if incident.rca_path:
            uow.jobs.enqueue(
                UPDATE_RCA_ROW,
                {
                    "path": incident.rca_path,
                    "number": item.number,
                    "status": status.value,
                    "title": incident.title,
                    "by": by,
                },
            )
        uow.jobs.enqueue(
            ANNOUNCE_ITEM_STATUS,
            {"incident_id": incident.id, "number": item.number, "status": status.value, "by": by},
        )
        uow.commit()
    return StatusChange(incident.title, item.number, item.action, status)


def _change_hand_written(ctx: ServiceContext, *, ref: ItemRef, status: ActionStatus, by: str) -> StatusChange:
    if not ref.rca_path:
        raise InvalidInput("That button no longer points at an action item.")
    if ref.owner_id and by != ref.owner_id:
        raise NotAllowed(f"Only the owner of action item #{ref.number} can change it from here.")
    with ctx.uow() as uow:
        uow.jobs.enqueue(
            UPDATE_RCA_ROW,
            {"path": ref.rca_path, "number": ref.number, "status": status.value, "title": ref.rca_path, "by": by},
        )
        uow.commit()
    return StatusChange(ref.rca_path, ref.number, "", status)


def item_in_room(ctx: ServiceContext, *, room_id: str | None, number: int) -> ItemRef:
    """`/incident done <n>` names an item of the channel's incident."""
    with ctx.uow() as uow:
        incident = require_incident_in_room(uow, room_id, doing="done")
        assert incident.id is not None
        if uow.actions.get(incident.id, number) is None:
            known = ", ".join(f"#{i.number}" for i in uow.actions.for_incident(incident.id)) or "none yet"
            raise InvalidInput(f"This incident has no action item #{number} (its items: {known}).")
    return ItemRef(number=number, incident_id=incident.id)
