"""chat.*, reactions.*, pins.add and bookmarks.* methods of the fake Web API."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_sim import messages
from slack_sim.blockkit import normalize_blocks, valid_emoji_name, validate_message_blocks
from slack_sim.state import ApiError, Args, Workspace

Handler = Callable[[Workspace, Args], dict[str, Any]]

MAX_TEXT = 40_000
MAX_ATTACHMENTS = 100


class Content:
    """The text/blocks/attachments of a chat call, validated like Slack does."""

    def __init__(self, args: Args) -> None:
        self.text: str | None = args.string("text") if args.raw("text") is not None else None
        markdown = args.string("markdown_text")
        self.blocks: list[Any] | None = None
        self.attachments: list[Any] | None = None
        raw_blocks = args.raw("blocks")
        if raw_blocks is not None and raw_blocks != "":
            # The dispatcher already parsed JSON strings; anything else is not Block Kit.
            if not isinstance(raw_blocks, list):
                raise ApiError("invalid_blocks_format")
            errors = validate_message_blocks(raw_blocks)
            if errors:
                raise ApiError("invalid_blocks", messages=errors)
            self.blocks = normalize_blocks(raw_blocks)
        raw_attachments = args.raw("attachments")
        if raw_attachments is not None and raw_attachments != "":
            if not isinstance(raw_attachments, list):
                raise ApiError("invalid_attachments")
            if len(raw_attachments) > MAX_ATTACHMENTS:
                raise ApiError("too_many_attachments")
            self.attachments = raw_attachments
        if markdown:
            if self.text or self.blocks:
                raise ApiError("markdown_text_conflict")
            self.text = markdown
        if self.text is not None and len(self.text) > MAX_TEXT:
            raise ApiError("msg_too_long")
        if not self.text and not self.blocks and not self.attachments:
            raise ApiError("no_text")


def _postable(ws: Workspace, ref: str) -> dict[str, Any]:
    """Where the bot may post: public channels even without membership
    (chat:write.public), private ones only as a member, DMs by user id."""
    channel = ws.visible_channel(ref, names=True, users=True)
    if channel["is_archived"]:
        raise ApiError("is_archived")
    return channel


def _metadata(args: Args) -> dict[str, Any] | None:
    """Message metadata: an event type and a payload object, as Slack requires."""
    raw = args.raw("metadata")
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ApiError("invalid_metadata_format") from None
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("event_type"), str)
        or not isinstance(raw.get("event_payload"), dict)
    ):
        raise ApiError("invalid_metadata_format")
    return {"event_type": raw["event_type"], "event_payload": raw["event_payload"]}


def post_message(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _postable(ws, args.string("channel"))
    content = Content(args)
    metadata = _metadata(args)
    message = messages.add(
        ws,
        channel,
        user=ws.bot_user_id,
        text=content.text or "",
        blocks=content.blocks,
        attachments=content.attachments,
        thread_ts=args.string("thread_ts") or None,
        reply_broadcast=args.flag("reply_broadcast"),
        metadata=metadata,
    )
    return {
        "channel": channel["id"],
        "ts": message["ts"],
        "message": messages.api_shape(ws, message, thread_summary=False),
    }


def post_ephemeral(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _postable(ws, args.string("channel"))
    user = args.string("user")
    if user not in channel["members"]:
        raise ApiError("user_not_in_channel")
    content = Content(args)
    ts = ws.new_ts()
    ws.ephemerals.append(
        {
            "channel": channel["id"],
            "user": user,
            "text": content.text or "",
            "blocks": content.blocks or [],
            "attachments": content.attachments or [],
            "ts": ts,
            "thread_ts": args.string("thread_ts") or None,
            "is_ephemeral": True,
        }
    )
    return {"message_ts": ts}


def _own_message(ws: Workspace, args: Args, ts_arg: str, error: str) -> tuple[dict[str, Any], dict[str, Any]]:
    channel = ws.visible_channel(args.string("channel"))
    message = messages.require(ws, channel["id"], args.string(ts_arg))
    # A bot token may only change the bot's own messages.
    if message["user"] != ws.bot_user_id:
        raise ApiError(error)
    return channel, message


def update(ws: Workspace, args: Args) -> dict[str, Any]:
    channel, message = _own_message(ws, args, "ts", "cant_update_message")
    content = Content(args)
    # Fields left out keep their previous value, as Slack documents for chat.update.
    if content.text is not None:
        message["text"] = content.text
    if content.blocks is not None:
        message["blocks"] = content.blocks
    if content.attachments is not None:
        message["attachments"] = content.attachments
    message["edited"] = {"user": ws.bot_user_id, "ts": ws.new_ts()}
    return {
        "channel": channel["id"],
        "ts": message["ts"],
        "text": message["text"],
        "message": messages.api_shape(ws, message, thread_summary=False),
    }


def delete(ws: Workspace, args: Args) -> dict[str, Any]:
    channel, message = _own_message(ws, args, "ts", "cant_delete_message")
    messages.delete(ws, channel["id"], message)
    return {"channel": channel["id"], "ts": message["ts"]}


def get_permalink(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.visible_channel(args.string("channel"))
    message = messages.require(ws, channel["id"], args.string("message_ts"))
    return {"channel": channel["id"], "permalink": messages.permalink(channel["id"], message)}


def _reaction_target(ws: Workspace, args: Args) -> tuple[dict[str, Any], dict[str, Any]]:
    channel = ws.visible_channel(args.string("channel"))
    if not valid_emoji_name(args.string("name")):
        raise ApiError("invalid_name")
    message = messages.require(ws, channel["id"], args.string("timestamp"))
    return channel, message


def reactions_add(ws: Workspace, args: Args) -> dict[str, Any]:
    channel, message = _reaction_target(ws, args)
    if channel["is_archived"]:
        raise ApiError("is_archived")
    if not messages.set_reaction(message, ws.bot_user_id, args.string("name"), add=True):
        raise ApiError("already_reacted")
    return {}


def reactions_remove(ws: Workspace, args: Args) -> dict[str, Any]:
    _, message = _reaction_target(ws, args)
    if not messages.set_reaction(message, ws.bot_user_id, args.string("name"), add=False):
        raise ApiError("no_reaction")
    return {}


def reactions_get(ws: Workspace, args: Args) -> dict[str, Any]:
    if not args.has("channel") or not args.has("timestamp"):
        raise ApiError("no_item_specified")
    channel = ws.visible_channel(args.string("channel"))
    message = messages.require(ws, channel["id"], args.string("timestamp"))
    shaped = messages.api_shape(ws, message)
    shaped["permalink"] = messages.permalink(channel["id"], message)
    return {"type": "message", "channel": channel["id"], "message": shaped}


def pins_add(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.visible_channel(args.string("channel"))
    if not args.has("timestamp"):
        raise ApiError("no_item_specified")
    message = messages.find(ws, channel["id"], args.string("timestamp"))
    if message is None:
        raise ApiError("message_not_found")
    if ws.bot_user_id not in channel["members"]:
        raise ApiError("not_in_channel")
    if message["ts"] in channel["pins"]:
        raise ApiError("already_pinned")
    channel["pins"].append(message["ts"])
    message["pinned_to"].append(channel["id"])
    return {}


# Slack keeps at most this many bookmarks in a conversation.
MAX_BOOKMARKS = 100


def bookmarks_add(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.visible_channel(args.string("channel_id"))
    if args.string("type") != "link":
        raise ApiError("invalid_bookmark_type")
    if len(channel["bookmarks"]) >= MAX_BOOKMARKS:
        raise ApiError("too_many_bookmarks")
    link = args.string("link")
    if not link.startswith(("http://", "https://")):
        raise ApiError("invalid_link")
    title = args.string("title")
    if len(title) > 256 or len(link) > 2048:
        raise ApiError("invalid_arguments", messages=["[ERROR] must be less than 257 characters"])
    bookmark = {
        "id": ws.new_id("Bk"),
        "channel_id": channel["id"],
        "title": title,
        "link": link,
        "emoji": args.string("emoji") or None,
        "icon_url": None,
        "type": "link",
        "entity_id": None,
        "date_created": int(ws.clock()),
        "date_updated": 0,
        "rank": "U",
        "last_updated_by_user_id": ws.bot_user_id,
        "last_updated_by_team_id": ws.team_id,
        "shortcut_id": None,
        "app_id": None,
    }
    channel["bookmarks"].append(bookmark)
    return {"bookmark": dict(bookmark)}


def bookmarks_list(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = ws.visible_channel(args.string("channel_id"))
    return {"bookmarks": [dict(bookmark) for bookmark in channel["bookmarks"]]}


HANDLERS: dict[str, Handler] = {
    "chat.postMessage": post_message,
    "chat.postEphemeral": post_ephemeral,
    "chat.update": update,
    "chat.delete": delete,
    "chat.getPermalink": get_permalink,
    "reactions.add": reactions_add,
    "reactions.remove": reactions_remove,
    "reactions.get": reactions_get,
    "pins.add": pins_add,
    "bookmarks.add": bookmarks_add,
    "bookmarks.list": bookmarks_list,
}
