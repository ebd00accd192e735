"""Use cases that declare incidents and change their severity."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from bot.core import lifecycle
from bot.core.errors import IncidentNotFound, NotInIncidentChannel
from bot.core.models import Incident, Severity
from bot.core.ports import Reply, UnitOfWork
from bot.services.context import ServiceContext
from bot.services.jobkinds import ANNOUNCE_SEVERITY, COMMANDER_CHANGED, OPEN_ROOM


def reply_payload(reply: Reply) -> dict[str, Any]:
    return asdict(reply)


def declare_incident(
    ctx: ServiceContext,
    *,
    title: str,
    severity: Severity,
    declared_by: str,
    reply: Reply,
    summary: str = "",
    private: bool = False,
) -> Incident:
    """Record a new incident now; its channel, announcement and escalation follow after the ack."""
    incident = lifecycle.declare(
        title=title,
        severity=severity,
        declared_by=declared_by,
        now=ctx.clock.now(),
        summary=summary,
        private=private,
        origin_room_id=reply.room_id,
    )
    with ctx.uow() as uow:
        incident = uow.incidents.add(incident)
        uow.timeline.add(lifecycle.declared_entry(incident))
        uow.jobs.enqueue(OPEN_ROOM, {"incident_id": incident.id, "reply": reply_payload(reply)})
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
    word = severity.name.lower()
    refusal = (
        f"`/incident {word}` needs a title to declare an incident, e.g. `/incident {word} Checkout API "
        "returns 500s`. Inside an incident channel it changes that incident's severity."
    )
    with ctx.uow() as uow:
        found = uow.incidents.get(incident_id) if incident_id is not None else None
        incident = found or require_incident_in_room(uow, room_id, doing=word, refusal=refusal)
        previous = incident.severity
        entry = lifecycle.change_severity(incident, severity, by=by, now=ctx.clock.now())
        uow.incidents.save(incident)
        uow.timeline.add(entry)
        uow.jobs.enqueue(
            ANNOUNCE_SEVERITY,
            {"incident_id": incident.id, "previous": previous.value, "by": by, "reply": reply_payload(reply)},
        )
        uow.commit()
    return incident


def get_incident(ctx: ServiceContext, incident_id: int) -> Incident:
    with ctx.uow() as uow:
        incident = uow.incidents.get(incident_id)
    if incident is None:
        raise IncidentNotFound(f"There is no incident #{incident_id}.")
    return incident


def find_incident_for_room(ctx: ServiceContext, room_id: str) -> Incident | None:
    """The incident whose channel this is, if any."""
    with ctx.uow() as uow:
        return uow.incidents.by_room(room_id)


@dataclass(frozen=True)
class IncidentStatusView:
    incident: Incident
    timeline_count: int


def incident_status(ctx: ServiceContext, *, room_id: str | None) -> IncidentStatusView:
    """Title, severity, commander, age and how much is on the timeline."""
    with ctx.uow() as uow:
        incident = require_incident_in_room(uow, room_id, doing="status")
        assert incident.id is not None
        return IncidentStatusView(incident=incident, timeline_count=uow.timeline.count(incident.id))


def active_incidents(ctx: ServiceContext) -> list[Incident]:
    with ctx.uow() as uow:
        return uow.incidents.list_active()


def change_commander(ctx: ServiceContext, *, room_id: str | None, commander_id: str, by: str) -> Incident:
    """Hand the incident to a new commander; Slack is updated after the ack."""
    with ctx.uow() as uow:
        incident = require_incident_in_room(uow, room_id, doing="lead")
        entry = lifecycle.change_commander(incident, commander_id, by=by, now=ctx.clock.now())
        uow.incidents.save(incident)
        uow.timeline.add(entry)
        uow.jobs.enqueue(COMMANDER_CHANGED, {"incident_id": incident.id, "by": by})
        uow.commit()
    return incident
