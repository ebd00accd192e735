"""Who may see and change what: one rule, checked on the server for every way in (command, button,
modal, message shortcut), whatever a button value or a form's metadata claims.

- Anyone may declare an incident.
- People in the incident's channel, its commander and the incident admins (INCIDENT_ADMINS) may
  change it: severity, notes, pins, commander, action items, resolve and reopen.
- An action item's owner may also change that item's status.
- A private incident is invisible to everyone else: it is not listed, offered or shown to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import NotAllowed
from bot.core.models import Incident


@dataclass(frozen=True)
class Actor:
    """Someone asking for something, with what the rule needs to know about them."""

    user_id: str
    is_admin: bool = False
    in_room: bool = False


def may_change(incident: Incident, actor: Actor) -> bool:
    """Whether `actor` may change `incident` (and add to it)."""
    return actor.is_admin or actor.in_room or actor.user_id == incident.commander_id


def may_see(incident: Incident, actor: Actor) -> bool:
    """Whether `actor` may know that `incident` exists: anyone for a public one, else those who may change it."""
    return not incident.private or may_change(incident, actor)


def may_change_item(incident: Incident, owner_id: str | None, actor: Actor) -> bool:
    """Whether `actor` may change the status of an action item of `incident` owned by `owner_id`."""
    return (owner_id is not None and actor.user_id == owner_id) or may_change(incident, actor)


def require_change(incident: Incident, actor: Actor, *, doing: str) -> None:
    """Refuse, naming who may, unless `actor` may change `incident`."""
    if not may_change(incident, actor):
        raise NotAllowed(refusal(incident, doing=doing))


def refusal(incident: Incident, *, doing: str, owner_id: str | None = None) -> str:
    """The sentence a refused person reads: what they tried and who may do it (a private title stays hidden)."""
    owner = f"the item's owner <@{owner_id}>, " if owner_id else ""
    where = "its channel" if incident.private or not incident.room_id else f"<#{incident.room_id}>"
    return (
        f"You can't {doing}: only {owner}people in {where}, the incident commander <@{incident.commander_id}> "
        "or an incident admin (`INCIDENT_ADMINS`) can."
    )
