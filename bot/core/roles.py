"""Incident roles: the commander, the communications lead, the scribe, or whatever the team configured."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.errors import InvalidInput


@dataclass(frozen=True)
class Role:
    """An incident role people can be given, such as the communications lead."""

    key: str
    label: str


COMMANDER = Role(key="commander", label="Incident commander")
COMMS = "comms"
DEFAULT_ROLES = (COMMANDER, Role(key=COMMS, label="Communications lead"), Role(key="scribe", label="Scribe"))
# Short names people type; a configured role whose key or label is the word itself wins over these.
_ALIASES = {
    "ic": "commander",
    "lead": "commander",
    "incident commander": "commander",
    "communications": "comms",
    "comms lead": "comms",
    "notes": "scribe",
    "note taker": "scribe",
    "notetaker": "scribe",
}


class UnknownRole(InvalidInput):
    """A role the team's configuration does not have; the message lists the ones it has."""


def commander_first(roles: Sequence[Role]) -> tuple[Role, ...]:
    """The roles in their order, with the commander (always a role) first."""
    commander = next((role for role in roles if role.key == COMMANDER.key), COMMANDER)
    return (commander, *(role for role in roles if role.key != COMMANDER.key))


def find_role(roles: Sequence[Role], key_or_alias: str) -> Role | None:
    """The role a person means by its key, its label or a common short name ("ic", "communications")."""
    wanted = " ".join(key_or_alias.strip().lstrip("@").lower().split())
    for candidate in (wanted, _ALIASES.get(wanted)):
        found = next((role for role in roles if candidate in (role.key.lower(), role.label.lower())), None)
        if found is not None:
            return found
    return next((role for role in roles if role.label.lower().split()[:1] == [wanted]), None)


def require_role(roles: Sequence[Role], key_or_alias: str) -> Role:
    """The role meant, or UnknownRole naming the roles there are."""
    found = find_role(roles, key_or_alias)
    if found is None:
        shown = " ".join(key_or_alias.replace("`", "'").split())[:40] or "(none)"
        raise UnknownRole(
            f"There is no role `{shown}`. The roles are {known_roles(roles)}. "
            "Usage: `/incident role <role> @someone`, e.g. `/incident role comms @bob`.",
            field="role",
        )
    return found


def known_roles(roles: Sequence[Role]) -> str:
    """`commander` (Incident commander), `comms` (Communications lead), … for messages."""
    return ", ".join(f"`{role.key}` ({role.label})" for role in commander_first(roles))
