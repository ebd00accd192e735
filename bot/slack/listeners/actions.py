"""Buttons on the incident summary message."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.services import incidents, resolve
from bot.slack import blocks, resolve_blocks
from bot.slack.services import SlackServices


def register(app: App, services: SlackServices) -> None:
    deps = services.deps

    @app.action(blocks.CHANGE_SEVERITY)
    def change_severity_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        incident = incidents.get_incident(deps, int(action["value"]))
        services.chat.open_view(body["trigger_id"], blocks.severity_modal(incident))
        ack()

    @app.action(blocks.ADD_ACTION_ITEM)
    def add_action_item_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        incident = incidents.get_incident(deps, int(action["value"]))
        services.chat.open_view(body["trigger_id"], resolve_blocks.action_modal(incident))
        ack()

    @app.action(blocks.RESOLVE)
    def resolve_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        incident = resolve.incident_to_resolve(deps, incident_id=int(action["value"]))
        services.chat.open_view(body["trigger_id"], resolve_blocks.resolve_modal(incident))
        ack()
