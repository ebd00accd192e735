"""Use cases for action items: the follow-ups the runbook says must get done."""

from __future__ import annotations

from bot.core import lifecycle
from bot.core.errors import Duplicate
from bot.core.jobs import ActionAddedNotice
from bot.core.models import ActionItem, Incident, Reply
from bot.services import home
from bot.services.context import ServiceContext
from bot.services.incidents import incident_for_change, load, require_id


def add_action_item(
    ctx: ServiceContext,
    *,
    action: str,
    owner_id: str | None,
    owner_label: str,
    by: str,
    room_id: str | None = None,
    incident_id: int | None = None,
    once: str | None = None,
) -> tuple[Incident, ActionItem]:
    """Add an open action item, numbered within its incident, and note it on the timeline."""
    found = incident_for_change(
        ctx,
        by=by,
        doing="add action items to this incident",
        room_id=room_id,
        incident_id=incident_id,
        command="action",
    )
    now = ctx.clock.now()
    with ctx.uow() as uow:
        if once is not None and not uow.events.first_delivery(once):
            raise Duplicate("That form was already submitted.")
        incident = load(uow, require_id(found))
        item = uow.actions.add(
            lifecycle.new_action_item(incident, action=action, owner_id=owner_id, owner_label=owner_label, now=now)
        )
        uow.timeline.add(lifecycle.action_item_entry(item, by=by, now=now))
        asked_by = Reply(user_id=by, room_id=incident.room_id)
        uow.jobs.enqueue(
            ActionAddedNotice(incident_id=require_id(incident), number=item.number, by=by, asked_by=asked_by)
        )
        if item.owner_id:
            home.publish_soon(uow, item.owner_id, now)  # their Home tab lists it
        uow.commit()
    return incident, item
