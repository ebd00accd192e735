"""Use cases that resolve and reopen incidents; the RCA is published after the ack."""

from __future__ import annotations

from bot.core import lifecycle
from bot.core.errors import InvalidTransition
from bot.core.models import Incident, IncidentStatus
from bot.core.ports import Reply
from bot.services.context import ServiceContext
from bot.services.incidents import (
    incident_for_change,
    load,
    reply_payload,
    require_id,
    require_incident_in_room,
    require_visible,
)
from bot.services.jobkinds import ANNOUNCE_REOPENED, ANNOUNCE_RESOLVED, PREVIEW_RCA, PUBLISH_RCA


def incident_to_resolve(
    ctx: ServiceContext, *, by: str, room_id: str | None = None, incident_id: int | None = None
) -> Incident:
    """The active incident the resolve form is for, once the access rule lets `by` resolve it."""
    incident = incident_for_change(
        ctx, by=by, doing="resolve this incident", room_id=room_id, incident_id=incident_id, command="resolve"
    )
    if not incident.is_active:
        raise InvalidTransition("This incident is already resolved. `/incident reopen` reopens it.")
    return incident


def resolve_incident(
    ctx: ServiceContext,
    *,
    incident_id: int,
    by: str,
    reply: Reply,
    summary: str,
    root_causes: str,
    resolution: str,
    lessons: str,
    rca_wanted: bool = False,
) -> Incident:
    """Resolve once, even when two people submit at the same moment; publishing follows the ack."""
    incident_for_change(ctx, by=by, doing="resolve this incident", incident_id=incident_id)
    with ctx.uow() as uow:
        incident = load(uow, incident_id)
        entry = lifecycle.resolve(
            incident,
            by=by,
            now=ctx.clock.now(),
            summary=summary,
            root_causes=root_causes,
            resolution=resolution,
            lessons=lessons,
            rca_wanted=rca_wanted,
        )
        if not uow.incidents.save_if_status(incident, IncidentStatus.ACTIVE):
            raise InvalidTransition("Someone else resolved this incident a moment ago.")
        uow.timeline.add(entry)
        uow.jobs.enqueue(PUBLISH_RCA, {"incident_id": incident_id, "reply": reply_payload(reply)})
        uow.jobs.enqueue(ANNOUNCE_RESOLVED, {"incident_id": incident_id, "by": by})
        uow.commit()
    return incident


def reopen_incident(ctx: ServiceContext, *, room_id: str | None, by: str) -> Incident:
    """Reopen a resolved incident; resolving it again updates the same RCA file."""
    found = incident_for_change(ctx, by=by, doing="reopen this incident", room_id=room_id, command="reopen")
    with ctx.uow() as uow:
        incident = load(uow, require_id(found))
        entry = lifecycle.reopen(incident, by=by, now=ctx.clock.now())
        if not uow.incidents.save_if_status(incident, IncidentStatus.RESOLVED):
            raise InvalidTransition("This incident was reopened a moment ago.")
        uow.timeline.add(entry)
        uow.jobs.enqueue(ANNOUNCE_REOPENED, {"incident_id": incident.id, "by": by})
        uow.commit()
    return incident


def request_rca_preview(ctx: ServiceContext, *, room_id: str | None, reply: Reply) -> Incident:
    """Queue a render of the current RCA draft for the person who asked."""
    with ctx.uow() as uow:
        incident = require_incident_in_room(uow, room_id, doing="rca")
    require_visible(ctx, incident, to=reply.user_id)
    with ctx.uow() as uow:
        uow.jobs.enqueue(PREVIEW_RCA, {"incident_id": incident.id, "reply": reply_payload(reply)})
        uow.commit()
    return incident
