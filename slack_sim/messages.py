"""Message storage helpers: threads, reactions, API shapes, permalinks.

Messages are kept per conversation in post order as plain dicts; callers hold
``Workspace.lock``.
"""

from __future__ import annotations

import copy
from typing import Any

from slack_sim.state import WORKSPACE_URL, ApiError, Workspace


def find(ws: Workspace, channel_id: str, ts: str) -> dict[str, Any] | None:
    for message in ws.messages.get(channel_id, []):
        if message["ts"] == ts:
            return message
    return None


def require(ws: Workspace, channel_id: str, ts: str) -> dict[str, Any]:
    message = find(ws, channel_id, ts)
    if message is None:
        raise ApiError("message_not_found")
    return message


def replies_to(ws: Workspace, channel_id: str, parent_ts: str) -> list[dict[str, Any]]:
    return [m for m in ws.messages.get(channel_id, []) if m["thread_ts"] == parent_ts and m["ts"] != parent_ts]


def add(
    ws: Workspace,
    channel: dict[str, Any],
    *,
    user: str,
    text: str,
    blocks: list[Any] | None = None,
    thread_ts: str | None = None,
    attachments: list[Any] | None = None,
    reply_broadcast: bool = False,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    from_bot = user == ws.bot_user_id
    if thread_ts is not None:
        parent = find(ws, channel["id"], thread_ts)
        if parent is None:
            # Slack posts to the channel itself when thread_ts names no message.
            thread_ts = None
        else:
            # Replying to a reply lands in the same thread, under its root.
            thread_ts = parent["thread_ts"] or parent["ts"]
            root = find(ws, channel["id"], thread_ts)
            if root is not None:
                root["thread_ts"] = root["ts"]
    message: dict[str, Any] = {
        "type": "message",
        "ts": ws.new_ts(),
        "user": user,
        "bot_id": ws.bot_id if from_bot else None,
        "app_id": ws.app_id if from_bot else None,
        "team": ws.team_id,
        "text": text,
        "blocks": blocks or [],
        "attachments": attachments or [],
        "thread_ts": thread_ts,
        "reply_broadcast": reply_broadcast and thread_ts is not None,
        "edited": None,
        "reactions": [],
        "pinned_to": [],
        "subtype": None,
        "channel": channel["id"],
        "metadata": copy.deepcopy(metadata),
    }
    ws.messages[channel["id"]].append(message)
    return message


def api_shape(
    ws: Workspace, message: dict[str, Any], *, thread_summary: bool = True, with_metadata: bool = False
) -> dict[str, Any]:
    """A message in the shape the Web API returns it (its metadata only when asked for, as Slack does)."""
    out: dict[str, Any] = {"type": "message", "user": message["user"], "text": message["text"]}
    if message["subtype"]:
        out["subtype"] = message["subtype"]
    elif message["reply_broadcast"]:
        out["subtype"] = "thread_broadcast"
    out["ts"] = message["ts"]
    out["team"] = message["team"]
    if message["bot_id"]:
        out["bot_id"] = message["bot_id"]
        out["app_id"] = message["app_id"]
        out["bot_profile"] = {
            "id": ws.bot_id,
            "app_id": ws.app_id,
            "name": ws.users[ws.bot_user_id]["name"],
            "deleted": False,
            "team_id": ws.team_id,
        }
    for key in ("blocks", "attachments", "reactions", "pinned_to"):
        if message[key]:
            out[key] = copy.deepcopy(message[key])
    if message.get("files"):
        out["files"] = copy.deepcopy(message["files"])  # a share of uploaded files
        out["upload"] = True
    if message["edited"]:
        out["edited"] = dict(message["edited"])
    if with_metadata and message.get("metadata"):
        out["metadata"] = copy.deepcopy(message["metadata"])
    if message["thread_ts"]:
        out["thread_ts"] = message["thread_ts"]
        if message["thread_ts"] != message["ts"]:
            parent = find(ws, message["channel"], message["thread_ts"])
            if parent is not None:
                out["parent_user_id"] = parent["user"]
        elif thread_summary:
            replies = replies_to(ws, message["channel"], message["ts"])
            users = list(dict.fromkeys(r["user"] for r in replies))
            out.update(
                reply_count=len(replies),
                reply_users=users,
                reply_users_count=len(users),
                latest_reply=replies[-1]["ts"] if replies else message["ts"],
            )
    return out


def public(ws: Workspace, message: dict[str, Any]) -> dict[str, Any]:
    """The test-facing copy of a stored message."""
    data = copy.deepcopy(message)
    if message["thread_ts"] == message["ts"]:
        data["reply_count"] = len(replies_to(ws, message["channel"], message["ts"]))
    return data


def permalink(channel_id: str, message: dict[str, Any]) -> str:
    link = f"{WORKSPACE_URL}archives/{channel_id}/p{message['ts'].replace('.', '')}"
    if message["thread_ts"] and message["thread_ts"] != message["ts"]:
        link += f"?thread_ts={message['thread_ts']}&cid={channel_id}"
    return link


def set_reaction(message: dict[str, Any], user: str, name: str, *, add: bool) -> bool:
    """Add or remove one user's reaction; False when nothing changed."""
    reactions: list[dict[str, Any]] = message["reactions"]
    entry = next((r for r in reactions if r["name"] == name), None)
    if add:
        if entry is None:
            entry = {"name": name, "users": [], "count": 0}
            reactions.append(entry)
        if user in entry["users"]:
            return False
        entry["users"].append(user)
    else:
        if entry is None or user not in entry["users"]:
            return False
        entry["users"].remove(user)
        if not entry["users"]:
            reactions.remove(entry)
    entry["count"] = len(entry["users"])
    return True


def delete(ws: Workspace, channel_id: str, message: dict[str, Any]) -> None:
    """Delete a message; a thread parent with replies stays as a tombstone, as in Slack."""
    if message["thread_ts"] == message["ts"] and replies_to(ws, channel_id, message["ts"]):
        message.update(
            subtype="tombstone",
            text="This message was deleted.",
            user="USLACKBOT",
            bot_id=None,
            app_id=None,
            blocks=[],
            attachments=[],
            reactions=[],
        )
        return
    ws.messages[channel_id].remove(message)
    pins: list[str] = ws.channels[channel_id]["pins"]
    if message["ts"] in pins:
        pins.remove(message["ts"])
