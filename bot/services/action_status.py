"""Marking action items done or in progress, in the bot and in the RCA."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.core.access import may_change_item, refusal
from bot.core.errors import IncidentNotFound, InvalidInput, NotAllowed
from bot.core.jobs import ItemStatusNotice, UpdateRcaRow
from bot.core.models import ActionStatus, Reply, TimelineEntry, TimelineKind
from bot.services import home
from bot.services.context import ServiceContext
from bot.services.incidents import load, require_incident_in_room


@dataclass(frozen=True)
class ItemRef:
    """An action item: by incident when the bot knows it, else by its hand-written RCA file.

    It comes from a button, so nothing else in it is trusted: the item, its owner and its incident
    are looked up again before anything changes.
    """

    number: int
    incident_id: int | None = None
    rca_path: str | None = None


# The owner of row `number` of a hand-written RCA as the file says it (matched to a chat user).
HandWrittenOwner = Callable[[str, int], str | None]


@dataclass(frozen=True)
class StatusChange:
    title: str
    number: int
    action: str
    status: ActionStatus
    unchanged: bool = False


def change_status(
    ctx: ServiceContext, *, ref: ItemRef, status: ActionStatus, by: str, hand_written_owner: HandWrittenOwner
) -> StatusChange:
    """Change an item's status; the RCA row is rewritten and pushed after the ack."""
    if ref.incident_id is None:
        return _change_hand_written(ctx, ref=ref, status=status, by=by, owner_of=hand_written_owner)
    now = ctx.clock.now()
    with ctx.reader() as uow:
        found = uow.incidents.get(ref.incident_id)
        stored = uow.actions.get(ref.incident_id, ref.number)
    if found is None or stored is None:
        raise IncidentNotFound(f"There is no action item #{ref.number} on that incident.")
    if by != stored.owner_id and not may_change_item(found, stored.owner_id, ctx.actor(by, found)):
        raise NotAllowed(refusal(found, doing=f"change action item #{ref.number}", owner_id=stored.owner_id))
    with ctx.uow() as uow:
        incident = load(uow, ref.incident_id)
        item = uow.actions.get(ref.incident_id, ref.number)
        if item is None:
            raise IncidentNotFound(f"There is no action item #{ref.number} on that incident.")
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
                UpdateRcaRow(
                    path=incident.rca_path,
                    number=item.number,
                    status=status,
                    title=incident.title,
                    by=by,
                    asked_by=Reply(user_id=by),
                )
            )
        uow.jobs.enqueue(
            ItemStatusNotice(incident_id=ref.incident_id, number=item.number, by=by, asked_by=Reply(user_id=by))
        )
        if item.owner_id and item.owner_id != by:
            home.publish_soon(uow, item.owner_id, now)  # the owner's Home tab follows
        uow.commit()
    return StatusChange(incident.title, item.number, item.action, status)


def _change_hand_written(
    ctx: ServiceContext, *, ref: ItemRef, status: ActionStatus, by: str, owner_of: HandWrittenOwner
) -> StatusChange:
    if not ref.rca_path:
        raise InvalidInput("That button no longer points at an action item.")
    owner_id = owner_of(ref.rca_path, ref.number)
    if by != owner_id and by not in ctx.policy.admins:
        raise NotAllowed(
            f"You can't change action item #{ref.number} of `{ref.rca_path}`: only its owner "
            f"({f'<@{owner_id}>' if owner_id else 'nobody the bot can match'}) or an incident admin "
            "(`INCIDENT_ADMINS`) can. Anyone can edit the RCA in the docs repo."
        )
    with ctx.uow() as uow:
        uow.jobs.enqueue(
            UpdateRcaRow(
                path=ref.rca_path,
                number=ref.number,
                status=status,
                title=ref.rca_path,
                by=by,
                asked_by=Reply(user_id=by),
            )
        )
        uow.commit()
    return StatusChange(ref.rca_path, ref.number, "", status)


def item_in_room(ctx: ServiceContext, *, room_id: str | None, number: int) -> ItemRef:
    """`/incident done <n>` names an item of the channel's incident."""
    with ctx.reader() as uow:
        incident = require_incident_in_room(uow, room_id, doing="done")
        assert incident.id is not None
        if uow.actions.get(incident.id, number) is None:
            known = ", ".join(f"#{i.number}" for i in uow.actions.for_incident(incident.id)) or "none yet"
            raise InvalidInput(f"This incident has no action item #{number} (its items: {known}).")
    return ItemRef(number=number, incident_id=incident.id)
