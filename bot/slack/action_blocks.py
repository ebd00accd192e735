"""Block Kit for action items: the form that adds one, and the channel messages about them."""

from __future__ import annotations

from typing import Any

from bot.core.models import ActionItem, ActionStatus, Incident
from bot.slack.blocks import form_modal, plain
from bot.slack.text import as_mrkdwn, clip, user

ACTION_VIEW = "add_action_item"


def action_modal(incident: Incident) -> dict[str, Any]:
    """The form behind the summary message's "Add action item" button."""
    return form_modal(
        ACTION_VIEW,
        "Add action item",
        "Add",
        [
            {
                "type": "input",
                "block_id": "action",
                "label": plain("Action", 2000),
                "element": {"type": "plain_text_input", "action_id": "value", "max_length": 3000},
            },
            {
                "type": "input",
                "block_id": "owner",
                "label": plain("Owner", 2000),
                "element": {"type": "users_select", "action_id": "value"},
            },
        ],
        {"incident_id": incident.id},
    )


def action_added_text(item: ActionItem, by: str) -> str:
    owner = user(item.owner_id) if item.owner_id else as_mrkdwn(item.owner_label)
    return clip(
        f":clipboard: {user(by)} added action item *#{item.number}*: {as_mrkdwn(item.action)} — owner {owner}", 3000
    )


def status_changed_text(number: int, action: str, status: ActionStatus, by: str) -> str:
    return clip(
        f":ballot_box_with_check: {user(by)} marked action item *#{number}* {status.value}: {as_mrkdwn(action)}", 3000
    )
