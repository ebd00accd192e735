"""Use cases that resolve and reopen incidents; the RCA is published after the ack."""

from __future__ import annotations

from bot.core import jobs, lifecycle
from bot.core.errors import InvalidTransition
from bot.core.models import Incident, IncidentStatus, Reply
from bot.services.channel_upkeep import archive_later, revive_after_reopen
from bot.services.context import ServiceContext
from bot.services.incidents import (
    incident_for_change,
    load,
    require_id,
    require_incident_in_room,
    require_visible,
)
from bot.services.paging import page_jobs


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
        uow.jobs.enqueue(jobs.PublishRca(incident_id=incident_id, asked_by=reply))
        uow.jobs.enqueue(jobs.UpdateSummary(incident_id=incident_id, asked_by=reply))
        uow.jobs.enqueue(jobs.ResolvedNotice(incident_id=incident_id, by=by, asked_by=reply))
        uow.jobs.enqueue(jobs.AnnounceResolved(incident_id=incident_id, by=by, asked_by=reply))
        for page in page_jobs(ctx.policy, incident, before=incident.severity, resolved=True, asked_by=reply):
            uow.jobs.enqueue(page)
        archive = archive_later(ctx.policy, incident)
        if archive is not None:
            job, when, key = archive
            uow.jobs.enqueue(job, run_at=when, key=key)
        uow.commit()
    return incident


def reopen_incident(
    ctx: ServiceContext, *, room_id: str | None, by: str, reply: Reply | None = None, named: bool = False
) -> Incident:
    """Reopen a resolved incident; resolving it again updates the same RCA file.

    `room_id` is the incident's channel (`named`: the person named it, from another channel, say once it
    was archived); `reply`, where they asked. An archived channel is brought back, or replaced, before
    the notices.
    """
    refusal = f"<#{room_id}> is not an incident's channel." if named and room_id else None
    found = incident_for_change(
        ctx, by=by, doing="reopen this incident", room_id=room_id, command="reopen", refusal=refusal
    )
    with ctx.uow() as uow:
        incident = load(uow, require_id(found))
        entry = lifecycle.reopen(incident, by=by, now=ctx.clock.now())
        if not uow.incidents.save_if_status(incident, IncidentStatus.RESOLVED):
            raise InvalidTransition("This incident was reopened a moment ago.")
        uow.timeline.add(entry)
        asked_by = reply or Reply(user_id=by, room_id=incident.room_id)
        # The summary and the reopen notice follow once the channel works (unarchived, or a new one).
        uow.jobs.enqueue(revive_after_reopen(incident, by=by, asked_by=asked_by))
        for page in page_jobs(ctx.policy, incident, before=None, resolved=False, asked_by=asked_by):
            uow.jobs.enqueue(page)
        uow.commit()
    return incident


def request_rca_preview(ctx: ServiceContext, *, room_id: str | None, reply: Reply) -> Incident:
    """Queue a render of the current RCA draft for the person who asked."""
    with ctx.reader() as uow:
        incident = require_incident_in_room(uow, room_id, doing="rca")
    require_visible(ctx, incident, to=reply.user_id)
    with ctx.uow() as uow:
        uow.jobs.enqueue(jobs.PreviewRca(incident_id=require_id(incident), asked_by=reply))
        uow.commit()
    return incident
