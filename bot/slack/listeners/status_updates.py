"""`/incident update`: a status update from the command's text, or from its form."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.core.errors import InvalidInput
from bot.core.models import Reply
from bot.services import incidents, status_updates
from bot.slack import status_blocks
from bot.slack.listener_context import ListenerContext
from bot.slack.payloads import IncidentMetadata, ViewSubmission, parse, parse_json, trigger
from bot.slack.text import escape


def post_from_command(context: ListenerContext, *, text: str, reply: Reply) -> dict[str, Any]:
    """Record the update; returns the private answer to the command."""
    posted = status_updates.post_status_update(
        context.services, text=text, by=reply.user_id, reply=reply, room_id=reply.room_id
    )
    return {"response_type": "ephemeral", "text": _answer(posted.announced_in)}


def open_form(context: ListenerContext, *, trigger_id: str | None, reply: Reply) -> None:
    """Open the update form for the incident of this channel (a resolved one is refused instead)."""
    ctx = context.services
    incident = status_updates.incident_for_update_form(ctx, room_id=reply.room_id, by=reply.user_id)
    modal = status_blocks.update_modal(incident, announced_in=status_updates.announce_channel_for(ctx, incident))
    context.chat.open_view(trigger(trigger_id), modal)


def _answer(announced_in: str | None) -> str:
    where = "here" + (f" and in the thread of its announcement in <#{announced_in}>" if announced_in else "")
    return f":mega: Posting your status update {where}."


def register(app: App, context: ListenerContext) -> None:
    ctx = context.services

    @app.view(status_blocks.UPDATE_VIEW)
    def update_submitted(ack: Ack, body: dict[str, Any]) -> None:
        submitted = parse(ViewSubmission, body)
        chosen = parse_json(IncidentMetadata, submitted.view.private_metadata).incident_id
        # Slack sends form input raw; the timeline keeps chat text, as a command would have sent it.
        text = escape(submitted.text(status_blocks.UPDATE_BLOCK))
        if not text.strip():
            raise InvalidInput("Say what is happening.", field=status_blocks.UPDATE_BLOCK)
        user_id = submitted.user.id
        incident = incidents.get_incident(ctx, chosen)
        status_updates.post_status_update(
            ctx,
            incident_id=chosen,
            text=text,
            by=user_id,
            reply=Reply(user_id=user_id, room_id=incident.room_id),
            once=submitted.once_key,
        )
        ack()
