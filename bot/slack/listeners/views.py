"""Modal submissions: declare, change severity, pick an incident for the shortcut, action item, role, resolve."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.core.commands import parse_severity
from bot.core.errors import InvalidInput
from bot.core.models import Reply
from bot.services import actions, incidents, resolve, roles, timeline
from bot.slack import action_blocks, blocks, resolve_blocks, role_blocks
from bot.slack.listener_context import ListenerContext
from bot.slack.payloads import (
    DeclareMetadata,
    IncidentMetadata,
    PickMetadata,
    ViewSubmission,
    incident_id,
    parse,
    parse_json,
)
from bot.slack.text import escape


def _text(submitted: ViewSubmission, block_id: str) -> str:
    """A text input as chat text: Slack sends modal input raw, but commands and messages escaped."""
    return escape(submitted.text(block_id))


def register(app: App, context: ListenerContext) -> None:
    ctx = context.services

    @app.view(blocks.DECLARE_VIEW)
    def declare_submitted(ack: Ack, body: dict[str, Any]) -> None:
        submitted = parse(ViewSubmission, body)
        title = _text(submitted, "title")
        if not title.strip():
            raise InvalidInput("Give the incident a title.", field="title")
        severity_value = submitted.value("severity")
        if not isinstance(severity_value, str) or not severity_value:
            raise InvalidInput("Pick a severity.", field="severity")
        origin = parse_json(DeclareMetadata, submitted.view.private_metadata).origin
        user_id = submitted.user.id
        commander = submitted.value("commander")
        incidents.declare_incident(
            ctx,
            title=title,
            severity=parse_severity(severity_value),
            declared_by=user_id,
            commander_id=commander if isinstance(commander, str) and commander else None,
            summary=_text(submitted, "summary"),
            private="private" in submitted.choices("private"),
            reply=Reply(user_id=user_id, room_id=origin),
            once=submitted.once_key,
        )
        ack()

    @app.view(blocks.SEVERITY_VIEW)
    def severity_submitted(ack: Ack, body: dict[str, Any]) -> None:
        submitted = parse(ViewSubmission, body)
        chosen = parse_json(IncidentMetadata, submitted.view.private_metadata).incident_id
        user_id = submitted.user.id
        incident = incidents.get_incident(ctx, chosen)
        severity = submitted.value("severity")
        incidents.change_severity(
            ctx,
            incident_id=chosen,
            severity=parse_severity(severity if isinstance(severity, str) else ""),
            by=user_id,
            reply=Reply(user_id=user_id, room_id=incident.room_id),
        )
        ack()

    @app.view(blocks.PICK_INCIDENT_VIEW)
    def incident_picked(ack: Ack, body: dict[str, Any]) -> None:
        submitted = parse(ViewSubmission, body)
        meta = parse_json(PickMetadata, submitted.view.private_metadata)
        user_id = submitted.user.id
        chosen = submitted.value("incident")
        if not isinstance(chosen, str) or not chosen:
            raise InvalidInput("Pick an incident.", field="incident")
        timeline.add_message_by_shortcut(
            ctx,
            incident_id=incident_id(chosen),
            room_id=meta.room_id,
            message_id=meta.message_id,
            by=user_id,
            reply=Reply(user_id=user_id, room_id=meta.room_id),
        )
        ack()

    @app.view(action_blocks.ACTION_VIEW)
    def action_submitted(ack: Ack, body: dict[str, Any]) -> None:
        submitted = parse(ViewSubmission, body)
        chosen = parse_json(IncidentMetadata, submitted.view.private_metadata).incident_id
        owner = submitted.value("owner")
        if not isinstance(owner, str) or not owner:
            raise InvalidInput("Pick an owner.", field="owner")
        action = _text(submitted, "action")
        if not action.strip():
            raise InvalidInput("Say what needs doing.", field="action")
        actions.add_action_item(
            ctx,
            incident_id=chosen,
            action=action,
            owner_id=owner,
            owner_label="",
            by=submitted.user.id,
            once=submitted.once_key,
        )
        ack()

    @app.view(role_blocks.ROLE_VIEW)
    def role_submitted(ack: Ack, body: dict[str, Any]) -> None:
        submitted = parse(ViewSubmission, body)
        chosen = parse_json(IncidentMetadata, submitted.view.private_metadata).incident_id
        role = submitted.value("role")
        if not isinstance(role, str) or not role:
            raise InvalidInput("Pick a role.", field="role")
        holder = submitted.value("user")
        if not isinstance(holder, str) or not holder:
            raise InvalidInput("Pick who takes the role.", field="user")
        roles.assign_role(
            ctx, incident_id=chosen, role=role, user_id=holder, by=submitted.user.id, once=submitted.once_key
        )
        ack()

    @app.view(resolve_blocks.RESOLVE_VIEW)
    def resolve_submitted(ack: Ack, body: dict[str, Any]) -> None:
        submitted = parse(ViewSubmission, body)
        chosen = parse_json(IncidentMetadata, submitted.view.private_metadata).incident_id
        user_id = submitted.user.id
        incident = incidents.get_incident(ctx, chosen)
        resolve.resolve_incident(
            ctx,
            incident_id=chosen,
            by=user_id,
            reply=Reply(user_id=user_id, room_id=incident.room_id),
            summary=_text(submitted, "summary"),
            root_causes=_text(submitted, "root_causes"),
            resolution=_text(submitted, "resolution"),
            lessons=_text(submitted, "lessons"),
            rca_wanted="rca" in submitted.choices("rca"),
        )
        ack()
