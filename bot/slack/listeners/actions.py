"""Buttons on the incident summary message."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.core.errors import InvalidCommand
from bot.services import incidents
from bot.slack import blocks
from bot.slack.services import SlackServices


def register(app: App, services: SlackServices) -> None:
    deps = services.deps

    @app.action(blocks.CHANGE_SEVERITY)
    def change_severity_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        incident = incidents.get_incident(deps, int(action["value"]))
        services.chat.open_view(body["trigger_id"], blocks.severity_modal(incident))
        ack()

    @app.action(blocks.ADD_ACTION_ITEM)
    @app.action(blocks.RESOLVE)
    def not_yet(ack: Ack, action: dict[str, Any]) -> None:
        ack()
        raise InvalidCommand("Action items and resolving are not available in this version yet.")
