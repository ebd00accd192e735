"""Buttons on the incident summary message."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.core.models import ActionStatus
from bot.services import action_status, incidents, resolve
from bot.slack import action_blocks, blocks, reminder_blocks, resolve_blocks
from bot.slack.listener_context import ListenerContext


def register(app: App, context: ListenerContext) -> None:
    ctx = context.services

    @app.action(blocks.CHANGE_SEVERITY)
    def change_severity_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        incident = incidents.get_incident(ctx, int(action["value"]))
        context.chat.open_view(body["trigger_id"], blocks.severity_modal(incident))
        ack()

    @app.action(blocks.ADD_ACTION_ITEM)
    def add_action_item_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        incident = incidents.get_incident(ctx, int(action["value"]))
        context.chat.open_view(body["trigger_id"], action_blocks.action_modal(incident))
        ack()

    @app.action(blocks.RESOLVE)
    def resolve_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        incident = resolve.incident_to_resolve(ctx, incident_id=int(action["value"]))
        context.chat.open_view(body["trigger_id"], resolve_blocks.resolve_modal(incident))
        ack()

    def change_from_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, status: ActionStatus
    ) -> None:
        ref = json.loads(action["value"])
        change = action_status.change_status(
            ctx,
            context.chat,
            ref=action_status.ItemRef(
                number=ref["n"], incident_id=ref.get("i"), rca_path=ref.get("p"), owner_id=ref.get("o")
            ),
            status=status,
            by=body["user"]["id"],
        )
        ack()
        respond(text=status_answer(change), response_type="ephemeral", replace_original=False)

    @app.action(reminder_blocks.MARK_DONE)
    def mark_done(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        change_from_button(ack, body, action, respond, ActionStatus.DONE)

    @app.action(reminder_blocks.MARK_IN_PROGRESS)
    def mark_in_progress(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        change_from_button(ack, body, action, respond, ActionStatus.IN_PROGRESS)


def status_answer(change: action_status.StatusChange) -> str:
    if change.unchanged:
        return f"Action item #{change.number} is already {change.status.value}."
    return f"Action item #{change.number} is now {change.status.value}; the RCA will say so in a moment."
