"""Modal submissions: declare, change severity, pick an incident for the shortcut."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from bot.core.commands import parse_severity
from bot.core.errors import InvalidInput
from bot.core.ports import Reply
from bot.services import actions, incidents, resolve, timeline
from bot.slack import action_blocks, blocks, resolve_blocks
from bot.slack.listener_context import ListenerContext
from bot.slack.text import escape


def _text(view: dict[str, Any], block_id: str) -> str:
    """A text input as chat text: Slack sends modal input raw, but commands and messages escaped."""
    return escape(_value(view, block_id) or "")


def _value(view: dict[str, Any], block_id: str) -> Any:
    """The submitted state of an input block's single element."""
    element = view["state"]["values"].get(block_id, {}).get("value", {})
    kind = element.get("type")
    if kind == "static_select":
        option = element.get("selected_option")
        return option["value"] if option else None
    if kind == "users_select":
        return element.get("selected_user")
    if kind == "checkboxes":
        return [option["value"] for option in element.get("selected_options") or []]
    return element.get("value")


def register(app: App, context: ListenerContext) -> None:
    ctx = context.services

    @app.view(blocks.DECLARE_VIEW)
    def declare_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        title = _text(view, "title")
        if not title.strip():
            raise InvalidInput("Give the incident a title.", field="title")
        severity_value = _value(view, "severity")
        if not severity_value:
            raise InvalidInput("Pick a severity.", field="severity")
        origin = json.loads(view.get("private_metadata") or "{}").get("origin")
        user_id = body["user"]["id"]
        incidents.declare_incident(
            ctx,
            title=title,
            severity=parse_severity(severity_value),
            declared_by=user_id,
            summary=_text(view, "summary"),
            private="private" in (_value(view, "private") or []),
            reply=Reply(user_id=user_id, room_id=origin),
        )
        ack()

    @app.view(blocks.SEVERITY_VIEW)
    def severity_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        incident_id = int(json.loads(view["private_metadata"])["incident_id"])
        user_id = body["user"]["id"]
        incident = incidents.get_incident(ctx, incident_id)
        incidents.change_severity(
            ctx,
            incident_id=incident_id,
            severity=parse_severity(_value(view, "severity") or ""),
            by=user_id,
            reply=Reply(user_id=user_id, room_id=incident.room_id),
        )
        ack()

    @app.view(blocks.PICK_INCIDENT_VIEW)
    def incident_picked(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = json.loads(view["private_metadata"])
        user_id = body["user"]["id"]
        chosen = _value(view, "incident")
        if not chosen:
            raise InvalidInput("Pick an incident.", field="incident")
        timeline.add_message_by_shortcut(
            ctx,
            incident_id=int(chosen),
            room_id=meta["room_id"],
            message_id=meta["message_id"],
            by=user_id,
            reply=Reply(user_id=user_id, room_id=meta["room_id"]),
        )
        ack()

    @app.view(action_blocks.ACTION_VIEW)
    def action_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        incident_id = int(json.loads(view["private_metadata"])["incident_id"])
        owner = _value(view, "owner")
        if not owner:
            raise InvalidInput("Pick an owner.", field="owner")
        actions.add_action_item(
            ctx,
            incident_id=incident_id,
            action=_text(view, "action"),
            owner_id=owner,
            owner_label="",
            by=body["user"]["id"],
        )
        ack()

    @app.view(resolve_blocks.RESOLVE_VIEW)
    def resolve_submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        incident_id = int(json.loads(view["private_metadata"])["incident_id"])
        user_id = body["user"]["id"]
        incident = incidents.get_incident(ctx, incident_id)
        resolve.resolve_incident(
            ctx,
            incident_id=incident_id,
            by=user_id,
            reply=Reply(user_id=user_id, room_id=incident.room_id),
            summary=_text(view, "summary"),
            root_causes=_text(view, "root_causes"),
            resolution=_text(view, "resolution"),
            lessons=_text(view, "lessons"),
            rca_wanted="rca" in (_value(view, "rca") or []),
        )
        ack()
