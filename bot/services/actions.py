"""Use cases for action items: the follow-ups the runbook says must get done."""

from __future__ import annotations

from bot.core import lifecycle
from bot.core.errors import IncidentNotFound
from bot.core.models import ActionItem, Incident
from bot.core.ports import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.incidents import require_incident_in_room
from bot.services.jobkinds import ACTION_ADDED


def _incident(uow: UnitOfWork, room_id: str | None, incident_id: int | None) -> Incident:
    if incident_id is not None:
        found = uow.incidents.get(incident_id)
        if found is None:
            raise IncidentNotFound(f"There is no incident #{incident_id}.")
        return found
    return require_incident_in_room(uow, room_id, doing="action")


def add_action_item(
    ctx: ServiceContext,
    *,
    action: str,
    owner_id: str | None,
    owner_label: str,
    by: str,
    room_id: str | None = None,
    incident_id: int | None = None,
) -> tuple[Incident, ActionItem]:
    """Add an open action item, numbered within its incident, and note it on the timeline."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        incident = _incident(uow, room_id, incident_id)
        item = uow.actions.add(
            lifecycle.new_action_item(incident, action=action, owner_id=owner_id, owner_label=owner_label, now=now)
        )
        uow.timeline.add(lifecycle.action_item_entry(item, by=by, now=now))
        uow.jobs.enqueue(ACTION_ADDED, {"incident_id": incident.id, "number": item.number, "by": by})
        uow.commit()
    return incident, item
