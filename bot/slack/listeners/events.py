"""Reactions and message edits in channels: the timeline follows the conversation."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.services import timeline
from bot.slack.listener_context import ListenerContext


def _event_id(body: dict[str, Any], event: dict[str, Any]) -> str:
    # Retries carry the same event_id; fall back to a key made of the reaction itself.
    return str(body.get("event_id") or f"{event.get('type')}:{event.get('user')}:{event.get('event_ts')}")


def register(app: App, context: ListenerContext) -> None:
    ctx = context.services

    def is_timeline_reaction(event: dict[str, Any]) -> bool:
        item = event.get("item") or {}
        return event.get("reaction") == context.timeline_emoji and item.get("type") == "message"

    @app.event("reaction_added")
    def reaction_added(body: dict[str, Any], event: dict[str, Any]) -> None:
        if is_timeline_reaction(event):
            timeline.pin_message(
                ctx,
                event_id=_event_id(body, event),
                room_id=event["item"]["channel"],
                message_id=event["item"]["ts"],
                user_id=event["user"],
            )

    @app.event("reaction_removed")
    def reaction_removed(body: dict[str, Any], event: dict[str, Any]) -> None:
        if is_timeline_reaction(event):
            timeline.unpin_message(
                ctx,
                event_id=_event_id(body, event),
                room_id=event["item"]["channel"],
                message_id=event["item"]["ts"],
                user_id=event["user"],
            )

    @app.event({"type": "message", "subtype": "message_changed"})
    def message_changed(event: dict[str, Any]) -> None:
        message = event.get("message") or {}
        if message.get("ts"):
            timeline.message_edited(
                ctx, room_id=event["channel"], message_id=message["ts"], text=message.get("text", "")
            )

    @app.event({"type": "message", "subtype": "message_deleted"})
    def message_deleted(event: dict[str, Any]) -> None:
        if event.get("deleted_ts"):
            timeline.message_deleted(ctx, room_id=event["channel"], message_id=event["deleted_ts"])

    @app.event("message")
    def other_messages() -> None:
        """Ordinary chat is not recorded until someone pins it to the timeline."""
