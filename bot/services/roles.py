"""Use cases for incident roles: who commands, who talks to stakeholders, who keeps the notes."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core import jobs, lifecycle
from bot.core.errors import Duplicate
from bot.core.models import Incident, Reply
from bot.core.roles import COMMANDER, Role, require_role
from bot.services.context import ServiceContext
from bot.services.incidents import incident_for_change, load, require_id


@dataclass(frozen=True)
class RoleAssigned:
    incident: Incident
    role: Role
    user_id: str | None  # None: the role was cleared


def assign_role(
    ctx: ServiceContext,
    *,
    role: str,
    user_id: str,
    by: str,
    room_id: str | None = None,
    incident_id: int | None = None,
    once: str | None = None,
) -> RoleAssigned:
    """Give `role` (key, label or short name) to `user_id`: on the timeline now, in Slack after the ack."""
    return _change_role(ctx, role, user_id, by=by, room_id=room_id, incident_id=incident_id, once=once)


def unassign_role(ctx: ServiceContext, *, role: str, by: str, room_id: str | None = None) -> RoleAssigned:
    """Leave `role` without a holder (never the commander's): on the timeline now, in Slack after the ack."""
    return _change_role(ctx, role, None, by=by, room_id=room_id)


def _change_role(
    ctx: ServiceContext,
    role: str,
    user_id: str | None,
    *,
    by: str,
    room_id: str | None = None,
    incident_id: int | None = None,
    once: str | None = None,
) -> RoleAssigned:
    chosen = require_role(ctx.policy.roles, role)
    found = incident_for_change(
        ctx, by=by, doing="assign roles in this incident", room_id=room_id, incident_id=incident_id, command="role"
    )
    with ctx.uow() as uow:
        if once is not None and not uow.events.first_delivery(once):
            raise Duplicate("That form was already submitted.")
        incident = load(uow, require_id(found))
        now, roles = ctx.clock.now(), ctx.policy.roles
        entry = (
            lifecycle.unassign_role(incident, chosen, by=by, now=now, roles=roles)
            if user_id is None
            else lifecycle.assign_role(incident, chosen, user_id, by=by, now=now, roles=roles)
        )
        uow.incidents.save(incident)
        uow.timeline.add(entry)
        assigned = require_id(incident)
        asked_by = Reply(user_id=by, room_id=incident.room_id)
        notice: jobs.Job = (
            jobs.CommanderNotice(incident_id=assigned, by=by, asked_by=asked_by)
            if chosen.key == COMMANDER.key
            else jobs.RoleNotice(incident_id=assigned, role=chosen.key, label=chosen.label, by=by, asked_by=asked_by)
        )
        if user_id is not None:
            uow.jobs.enqueue(jobs.InviteToRoom(incident_id=assigned, user_ids=(user_id,), asked_by=asked_by))
        uow.jobs.enqueue(jobs.UpdateSummary(incident_id=assigned, asked_by=asked_by))
        uow.jobs.enqueue(notice)
        uow.commit()
    return RoleAssigned(incident=incident, role=chosen, user_id=user_id)
