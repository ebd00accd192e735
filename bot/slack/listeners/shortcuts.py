"""The "Add to incident timeline" message shortcut."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.core.errors import IncidentNotFound
from bot.core.models import Reply
from bot.services import incidents, timeline
from bot.slack import blocks
from bot.slack.listener_context import ListenerContext
from bot.slack.listeners import MESSAGE_SHORTCUTS
from bot.slack.payloads import MessageShortcut, parse

ADD_TO_TIMELINE = "add_to_incident_timeline"
assert ADD_TO_TIMELINE in MESSAGE_SHORTCUTS


def register(app: App, context: ListenerContext) -> None:
    ctx = context.services

    @app.shortcut(ADD_TO_TIMELINE)
    def add_to_timeline(ack: Ack, shortcut: dict[str, Any]) -> None:
        request = parse(MessageShortcut, shortcut)
        room_id, message_id, user_id = request.channel.id, request.message.ts, request.user.id
        reply = Reply(user_id=user_id, room_id=room_id, response_url=request.response_url)
        here = incidents.find_incident_for_room(ctx, room_id)
        if here is not None and here.is_active and here.id is not None:
            timeline.add_message_by_shortcut(
                ctx, incident_id=here.id, room_id=room_id, message_id=message_id, by=user_id, reply=reply
            )
            ack()
            return
        open_incidents = incidents.visible_incidents(ctx, to=user_id)
        if not open_incidents:
            raise IncidentNotFound("There is no open incident to add this message to.")
        context.chat.open_view(request.trigger_id, blocks.pick_incident_modal(open_incidents, room_id, message_id))
        ack()
