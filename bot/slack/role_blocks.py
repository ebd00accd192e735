"""Block Kit for incident roles: the form that assigns one, and the channel's notice of it.

The summary message lists the holders itself (`blocks.summary_blocks`), with the "Assign role" button.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.core.models import Incident
from bot.core.roles import Role, commander_first
from bot.slack.blocks import form_modal, mrkdwn_section, plain
from bot.slack.text import as_mrkdwn, as_plain, clip, user

ROLE_VIEW = "assign_role"


def role_modal(incident: Incident, roles: Sequence[Role]) -> dict[str, Any]:
    """The form behind the summary message's "Assign role" button."""
    options = [{"text": plain(as_plain(role.label)), "value": role.key} for role in commander_first(roles)[:100]]
    return form_modal(
        ROLE_VIEW,
        "Assign role",
        "Assign",
        [
            mrkdwn_section(f"Who does what in *{as_mrkdwn(clip(incident.title, 2000))}*?"),
            {
                "type": "input",
                "block_id": "role",
                "label": plain("Role", 2000),
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": options,
                    "placeholder": plain("Pick a role", 150),
                },
            },
            {
                "type": "input",
                "block_id": "user",
                "label": plain("Person", 2000),
                "element": {"type": "users_select", "action_id": "value", "placeholder": plain("Pick someone", 150)},
            },
        ],
        {"incident_id": incident.id},
    )


def role_changed_text(incident: Incident, role: Role, by: str) -> str:
    holder = incident.holder(role.key)
    if holder is None:
        return clip(f":busts_in_silhouette: {user(by)} left the {as_mrkdwn(role.label)} role unassigned.", 3000)
    return clip(f":busts_in_silhouette: {user(by)} made {user(holder)} the {as_mrkdwn(role.label)}.", 3000)
