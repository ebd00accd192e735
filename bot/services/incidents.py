"""Use cases that declare incidents, find them, and change their severity and commander.

Changes follow one shape: find the incident, let the access rule decide (which may ask the chat
platform who is in the channel, so it happens outside any write transaction), then change it.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import jobs, lifecycle
from bot.core.access import may_see, require_change
from bot.core.errors import Duplicate, IncidentNotFound, NotAllowed, NotInIncidentChannel
from bot.core.models import Incident, Reply, Severity
from bot.core.ports import UnitOfWork
from bot.services.context import ServiceContext
from bot.services.paging import page_jobs


def declare_incident(
    ctx: ServiceContext,
    *,
    title: str,
    severity: Severity,
    declared_by: str,
    reply: Reply,
    summary: str = "",
    private: bool = False,
    once: str | None = None,
    commander_id: str | None = None,
) -> Incident:
    """Record a new incident now; its channel, announcement and escalation follow after the ack.

    `once` names the request (a form's submission): the same one applied again declares nothing.
    `commander_id`: who leads it (the declare form's pick); the declarer when not given.
    """
    incident = lifecycle.declare(
        title=title,
        severity=severity,
        declared_by=declared_by,
        now=ctx.clock.now(),
        summary=summary,
        private=private,
        origin_room_id=reply.room_id,
        commander_id=commander_id,
    )
    with ctx.uow() as uow:
        if once is not None and not uow.events.first_delivery(once):
            raise Duplicate("That form was already submitted.")
        incident = uow.incidents.add(incident)
        uow.timeline.add(lifecycle.declared_entry(incident))
        uow.jobs.enqueue(jobs.CreateRoom(incident_id=require_id(incident), asked_by=reply))
        for page in page_jobs(ctx.policy, incident, before=None, resolved=False, asked_by=reply):
            uow.jobs.enqueue(page)
        uow.commit()
    return incident


def require_incident_in_room(
    uow: UnitOfWork, room_id: str | None, *, doing: str, refusal: str | None = None
) -> Incident:
    """The incident whose channel this is, or a clear refusal naming what needed one."""
    incident = uow.incidents.by_room(room_id) if room_id else None
    if incident is None:
        raise NotInIncidentChannel(
            refusal
            or f"`/incident {doing}` works inside an incident channel. "
            "Run it in the incident's channel, or declare one with `/incident sev2 <title>`."
        )
    return incident


def incident_for_change(
    ctx: ServiceContext,
    *,
    by: str,
    doing: str,
    room_id: str | None = None,
    incident_id: int | None = None,
    command: str = "",
    refusal: str | None = None,
) -> Incident:
    """The incident (by id, else the room's), once the access rule lets `by` change it."""
    with ctx.reader() as uow:
        if incident_id is not None:
            found = uow.incidents.get(incident_id)
            if found is None:
                raise IncidentNotFound(f"There is no incident #{incident_id}.")
            incident = found
        else:
            incident = require_incident_in_room(uow, room_id, doing=command or doing, refusal=refusal)
    require_change(incident, ctx.actor(by, incident), doing=doing)
    return incident


def require_id(incident: Incident) -> int:
    assert incident.id is not None, "a stored incident has an id"
    return incident.id


def load(uow: UnitOfWork, incident_id: int) -> Incident:
    """The incident, read again and locked inside the transaction that changes it, so that two changes
    made at the same moment (on two replicas, say) are applied one after the other, never from one stale read."""
    incident = uow.incidents.get(incident_id, for_update=True)
    if incident is None:
        raise IncidentNotFound(f"There is no incident #{incident_id}.")
    return incident


def lock(uow: UnitOfWork, incident_id: int) -> None:
    """`load` for a change that needs none of the incident's fields: its row is only locked."""
    if not uow.incidents.lock(incident_id):
        raise IncidentNotFound(f"There is no incident #{incident_id}.")


def change_severity(
    ctx: ServiceContext,
    *,
    severity: Severity,
    by: str,
    reply: Reply,
    room_id: str | None = None,
    incident_id: int | None = None,
) -> Incident:
    """Change an incident's severity, record it on the timeline, then update Slack after the ack."""
    word = f"sev{severity.level}"
    refusal = (
        f"`/incident {word}` needs a title to declare an incident, e.g. `/incident {word} Checkout API "
        "returns 500s`. Inside an incident channel it changes that incident's severity."
    )
    found = incident_for_change(
        ctx, by=by, doing="change this incident's severity", room_id=room_id, incident_id=incident_id, refusal=refusal
    )
    with ctx.uow() as uow:
        incident = load(uow, require_id(found))
        previous = incident.severity
        entry = lifecycle.change_severity(incident, severity, by=by, now=ctx.clock.now())
        uow.incidents.save(incident)
        uow.timeline.add(entry)
        incident_id = require_id(incident)
        for job in (
            jobs.SetTopic(incident_id=incident_id, asked_by=reply),
            jobs.UpdateSummary(incident_id=incident_id, asked_by=reply),
            jobs.SeverityNotice(incident_id=incident_id, previous=previous, by=by, asked_by=reply),
            jobs.AnnounceSeverity(incident_id=incident_id, previous=previous, asked_by=reply),
        ):
            uow.jobs.enqueue(job)
        for page in page_jobs(ctx.policy, incident, before=previous, resolved=False, asked_by=reply):
            uow.jobs.enqueue(page)
        if incident.severity.outranks(previous):
            # Raised: the new level's people are invited and DMed (once per incident each).
            level = ctx.policy.level(incident.severity)
            if level.invite:
                uow.jobs.enqueue(jobs.InviteToRoom(incident_id=incident_id, user_ids=level.invite, asked_by=reply))
            for user in level.dm:
                escalate = jobs.EscalateDm(incident_id=incident_id, user_id=user, asked_by=reply)
                uow.jobs.enqueue(escalate, key=f"escalate:{incident_id}:{user}")
        uow.commit()
    return incident


def get_incident(ctx: ServiceContext, incident_id: int) -> Incident:
    with ctx.reader() as uow:
        incident = uow.incidents.get(incident_id)
    if incident is None:
        raise IncidentNotFound(f"There is no incident #{incident_id}.")
    return incident


def find_incident_for_room(ctx: ServiceContext, room_id: str) -> Incident | None:
    """The incident whose channel this is, if any."""
    with ctx.reader() as uow:
        return uow.incidents.by_room(room_id)


def require_visible(ctx: ServiceContext, incident: Incident, *, to: str) -> None:
    """Refuse to show a private incident to someone who is not part of it (without naming it)."""
    if not may_see(incident, ctx.actor(to, incident)):
        raise NotAllowed("That incident is private: only the people in its channel can see it.")


@dataclass(frozen=True)
class IncidentStatusView:
    incident: Incident
    timeline_count: int


def incident_status(ctx: ServiceContext, *, room_id: str | None, by: str) -> IncidentStatusView:
    """Title, severity, commander, age and how much is on the timeline."""
    with ctx.reader() as uow:
        incident = require_incident_in_room(uow, room_id, doing="status")
        view = IncidentStatusView(incident=incident, timeline_count=uow.timeline.count(require_id(incident)))
    require_visible(ctx, incident, to=by)
    return view


def active_incidents(ctx: ServiceContext) -> list[Incident]:
    with ctx.reader() as uow:
        return uow.incidents.list_active()


def visible_incidents(ctx: ServiceContext, *, to: str) -> list[Incident]:
    """The open incidents `to` may know about: every public one, and the private ones they are part of."""
    return [incident for incident in active_incidents(ctx) if may_see(incident, ctx.actor(to, incident))]


def change_commander(ctx: ServiceContext, *, room_id: str | None, commander_id: str, by: str) -> Incident:
    """Hand the incident to a new commander; Slack is updated after the ack."""
    found = incident_for_change(ctx, by=by, doing="hand over this incident", room_id=room_id, command="lead")
    with ctx.uow() as uow:
        incident = load(uow, require_id(found))
        entry = lifecycle.change_commander(incident, commander_id, by=by, now=ctx.clock.now())
        uow.incidents.save(incident)
        uow.timeline.add(entry)
        incident_id = require_id(incident)
        asked_by = Reply(user_id=by, room_id=incident.room_id)
        uow.jobs.enqueue(jobs.InviteToRoom(incident_id=incident_id, user_ids=(commander_id,), asked_by=asked_by))
        uow.jobs.enqueue(jobs.UpdateSummary(incident_id=incident_id, asked_by=asked_by))
        uow.jobs.enqueue(jobs.CommanderNotice(incident_id=incident_id, by=by, asked_by=asked_by))
        uow.commit()
    return incident
