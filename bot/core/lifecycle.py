"""Explicit transitions of an incident; each returns what goes on the timeline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.core.errors import InvalidInput, InvalidTransition
from bot.core.models import ActionItem, Incident, IncidentStatus, Severity, TimelineEntry, TimelineKind
from bot.core.roles import COMMANDER, DEFAULT_ROLES, Role, require_role


def clean_title(title: str) -> str:
    """Keep the title as written, but refuse one that is only white space."""
    cleaned = " ".join(title.split())
    if not cleaned:
        raise InvalidInput("An incident needs a title, e.g. `/incident sev2 Checkout API returns 500s`.", field="title")
    return cleaned


def declare(
    *,
    title: str,
    severity: Severity,
    declared_by: str,
    now: datetime,
    summary: str = "",
    private: bool = False,
    origin_room_id: str | None = None,
    commander_id: str | None = None,
) -> Incident:
    """A new active incident; its commander is the one picked, else the declarer."""
    return Incident(
        title=clean_title(title),
        severity=severity,
        commander_id=commander_id or declared_by,
        declared_by=declared_by,
        declared_at=now,
        summary=summary.strip(),
        private=private,
        origin_room_id=origin_room_id,
    )


def declared_entry(incident: Incident) -> TimelineEntry:
    assert incident.id is not None
    return TimelineEntry(
        incident_id=incident.id,
        kind=TimelineKind.DECLARED,
        occurred_at=incident.declared_at,
        author_id=incident.declared_by,
        text=f"Incident declared as {incident.severity}: {incident.title}"
        + ("" if incident.commander_id == incident.declared_by else f" (commander: <@{incident.commander_id}>)"),
    )


def change_severity(incident: Incident, new: Severity, *, by: str, now: datetime) -> TimelineEntry:
    """Set a new severity; the returned entry records the change."""
    if incident.status is not IncidentStatus.ACTIVE:
        raise InvalidTransition("This incident is resolved; reopen it before changing its severity.")
    if incident.severity == new:
        raise InvalidTransition(f"This incident is already {new}.")
    previous = incident.severity
    incident.severity = new
    assert incident.id is not None
    return TimelineEntry(
        incident_id=incident.id,
        kind=TimelineKind.SEVERITY_CHANGED,
        occurred_at=now,
        author_id=by,
        text=f"Severity changed from {previous} to {new}",
    )


def note_entry(incident: Incident, text: str, *, by: str, now: datetime) -> TimelineEntry:
    if not text.strip():
        raise InvalidInput("A note needs text: `/incident note <text>`.")
    assert incident.id is not None
    return TimelineEntry(
        incident_id=incident.id, kind=TimelineKind.NOTE, occurred_at=now, author_id=by, text=text.strip()
    )


def topic_for(incident: Incident) -> str:
    """The channel topic: severity and title, within the platform's 250 characters."""
    topic = f"{incident.severity} · {incident.title}"
    return topic if len(topic) <= 250 else topic[:249] + "…"


def resolve(
    incident: Incident,
    *,
    by: str,
    now: datetime,
    summary: str,
    root_causes: str,
    resolution: str,
    lessons: str,
    rca_wanted: bool = False,
) -> TimelineEntry:
    """Mark the incident resolved with what the resolve form captured."""
    if incident.status is not IncidentStatus.ACTIVE:
        raise InvalidTransition("This incident is already resolved. `/incident reopen` reopens it.")
    if not summary.strip():
        raise InvalidInput("Write a one or two sentence summary; it goes into fleet-status.", field="summary")
    incident.status = IncidentStatus.RESOLVED
    incident.resolved_at = now
    incident.summary = " ".join(summary.split())
    incident.root_causes = root_causes.strip()
    incident.resolution = resolution.strip()
    incident.lessons = lessons.strip()
    incident.rca_wanted = rca_wanted
    assert incident.id is not None
    return TimelineEntry(
        incident_id=incident.id, kind=TimelineKind.RESOLVED, occurred_at=now, author_id=by, text="Incident resolved"
    )


def reopen(incident: Incident, *, by: str, now: datetime) -> TimelineEntry:
    """Make a resolved incident active again; its RCA will be updated when it is resolved again."""
    if incident.status is not IncidentStatus.RESOLVED:
        raise InvalidTransition("This incident is still active; there is nothing to reopen.")
    incident.status = IncidentStatus.ACTIVE
    incident.resolved_at = None
    assert incident.id is not None
    return TimelineEntry(
        incident_id=incident.id, kind=TimelineKind.REOPENED, occurred_at=now, author_id=by, text="Incident reopened"
    )


def new_action_item(
    incident: Incident, *, action: str, owner_id: str | None, owner_label: str, now: datetime
) -> ActionItem:
    """An open action item for this incident; the repository gives it its number."""
    cleaned = " ".join(action.split())
    if not cleaned:
        raise InvalidInput("An action item needs a description of what needs doing.", field="action")
    if not owner_id and not owner_label.strip():
        raise InvalidInput("An action item needs an owner.", field="owner")
    assert incident.id is not None
    return ActionItem(
        incident_id=incident.id,
        number=0,
        action=cleaned,
        owner_id=owner_id,
        owner_label=owner_label.strip(),
        created_at=now,
        updated_at=now,
    )


def action_item_entry(item: ActionItem, *, by: str, now: datetime) -> TimelineEntry:
    owner = f"<@{item.owner_id}>" if item.owner_id else item.owner_label
    return TimelineEntry(
        incident_id=item.incident_id,
        kind=TimelineKind.ACTION_ITEM,
        occurred_at=now,
        author_id=by,
        text=f"Action item #{item.number} added: {item.action} (owner: {owner})",
    )


def change_commander(incident: Incident, new_commander: str, *, by: str, now: datetime) -> TimelineEntry:
    """Hand the commander role to someone else; the entry records the hand-over."""
    if incident.status is not IncidentStatus.ACTIVE:
        raise InvalidTransition("This incident is resolved; reopen it before handing over command.")
    if incident.commander_id == new_commander:
        raise InvalidTransition("They already lead this incident.")
    previous = incident.commander_id
    incident.commander_id = new_commander
    assert incident.id is not None
    return TimelineEntry(
        incident_id=incident.id,
        kind=TimelineKind.NOTE,
        occurred_at=now,
        author_id=by,
        text=f"Commander changed from <@{previous}> to <@{new_commander}>",
    )


def assign_role(
    incident: Incident,
    role: Role | str,
    user_id: str,
    *,
    by: str,
    now: datetime,
    roles: Sequence[Role] = DEFAULT_ROLES,
) -> TimelineEntry:
    """Give `role` (a role, or its key or short name among `roles`) to `user_id`; the commander is handed over."""
    chosen = role if isinstance(role, Role) else require_role(roles, role)
    if chosen.key == COMMANDER.key:
        return change_commander(incident, user_id, by=by, now=now)
    if incident.status is not IncidentStatus.ACTIVE:
        raise InvalidTransition("This incident is resolved; reopen it before changing its roles.")
    previous = incident.roles.get(chosen.key)
    if previous == user_id:
        raise InvalidTransition(f"<@{user_id}> is already the {chosen.label}.", field="user")
    # Assigned as a new dict: the model validates assignments, not changes made inside its fields.
    incident.roles = {**incident.roles, chosen.key: user_id}
    assert incident.id is not None
    was = f" (was <@{previous}>)" if previous else ""
    return TimelineEntry(
        incident_id=incident.id,
        kind=TimelineKind.ROLE_ASSIGNED,
        occurred_at=now,
        author_id=by,
        text=f"{chosen.label}: <@{user_id}>{was}",
    )


def unassign_role(
    incident: Incident, role: Role | str, *, by: str, now: datetime, roles: Sequence[Role] = DEFAULT_ROLES
) -> TimelineEntry:
    """Leave `role` without a holder; the commander's role is never empty (it is handed over instead)."""
    chosen = role if isinstance(role, Role) else require_role(roles, role)
    if chosen.key == COMMANDER.key:
        raise InvalidTransition(
            "An incident always has a commander: hand the role over with `/incident lead @someone`.", field="role"
        )
    if incident.status is not IncidentStatus.ACTIVE:
        raise InvalidTransition("This incident is resolved; reopen it before changing its roles.")
    previous = incident.roles.get(chosen.key)
    if previous is None:
        raise InvalidTransition(f"Nobody is the {chosen.label} of this incident.", field="role")
    incident.roles = {key: holder for key, holder in incident.roles.items() if key != chosen.key}
    assert incident.id is not None
    return TimelineEntry(
        incident_id=incident.id,
        kind=TimelineKind.ROLE_ASSIGNED,
        occurred_at=now,
        author_id=by,
        text=f"{chosen.label}: nobody (was <@{previous}>)",
    )
