"""Reactions and message edits in channels (the timeline follows the conversation), and the Home tab opened."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import StringConstraints
from slack_bolt import App

from bot.services import home, timeline
from bot.slack.listener_context import ListenerContext
from bot.slack.payloads import MAX_TEXT, Payload, SlackId, Token, parse

Ts = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}\.[0-9]{1,8}$")]


class ReactedItem(Payload):
    type: Token
    channel: SlackId | None = None
    ts: Ts | None = None


class Reaction(Payload):
    user: SlackId
    reaction: Token
    item: ReactedItem
    event_ts: Token = ""


class HomeOpened(Payload):
    user: SlackId
    tab: Token = "home"


class ChangedMessage(Payload):
    ts: Ts | None = None
    text: Annotated[str, StringConstraints(max_length=MAX_TEXT)] = ""


class MessageChanged(Payload):
    channel: SlackId
    message: ChangedMessage


class MessageDeleted(Payload):
    channel: SlackId
    deleted_ts: Ts | None = None


def _event_id(body: dict[str, Any], reaction: Reaction, kind: str) -> str:
    # Retries carry the same event_id; fall back to a key made of the reaction itself.
    event_id = body.get("event_id")
    return str(event_id)[:200] if event_id else f"{kind}:{reaction.user}:{reaction.event_ts}"


def register(app: App, context: ListenerContext) -> None:
    ctx = context.services

    def timeline_reaction(event: dict[str, Any]) -> Reaction | None:
        reaction = parse(Reaction, event)
        on_message = reaction.item.type == "message" and reaction.item.channel and reaction.item.ts
        return reaction if reaction.reaction == context.timeline_emoji and on_message else None

    @app.event("reaction_added")
    def reaction_added(body: dict[str, Any], event: dict[str, Any]) -> None:
        if (reaction := timeline_reaction(event)) is not None:
            assert reaction.item.channel is not None and reaction.item.ts is not None
            timeline.pin_message(
                ctx,
                event_id=_event_id(body, reaction, "reaction_added"),
                room_id=reaction.item.channel,
                message_id=reaction.item.ts,
                user_id=reaction.user,
            )

    @app.event("reaction_removed")
    def reaction_removed(body: dict[str, Any], event: dict[str, Any]) -> None:
        if (reaction := timeline_reaction(event)) is not None:
            assert reaction.item.channel is not None and reaction.item.ts is not None
            timeline.unpin_message(
                ctx,
                event_id=_event_id(body, reaction, "reaction_removed"),
                room_id=reaction.item.channel,
                message_id=reaction.item.ts,
                user_id=reaction.user,
            )

    @app.event("app_home_opened")
    def app_home_opened(body: dict[str, Any], event: dict[str, Any]) -> None:
        opened = parse(HomeOpened, event)
        if opened.tab == "home":
            event_id = body.get("event_id") or f"{opened.user}:{event.get('event_ts', '')}"
            home.home_opened(ctx, user_id=opened.user, event_id=str(event_id))

    @app.event({"type": "message", "subtype": "message_changed"})
    def message_changed(event: dict[str, Any]) -> None:
        changed = parse(MessageChanged, event)
        if changed.message.ts:
            timeline.message_edited(
                ctx, room_id=changed.channel, message_id=changed.message.ts, text=changed.message.text
            )

    @app.event({"type": "message", "subtype": "message_deleted"})
    def message_deleted(event: dict[str, Any]) -> None:
        deleted = parse(MessageDeleted, event)
        if deleted.deleted_ts:
            timeline.message_deleted(ctx, room_id=deleted.channel, message_id=deleted.deleted_ts)

    @app.event("message")
    def other_messages() -> None:
        """Ordinary chat is not recorded until someone pins it to the timeline."""
