"""conversations.* methods of the fake Web API.

Each handler takes the workspace (lock held by the dispatcher) and the call's
arguments and returns the success body without ``ok``; failures raise ApiError.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from slack_sim import messages
from slack_sim.state import ApiError, Args, Workspace, channel_name_error, paginate, parse_ts

Handler = Callable[[Workspace, Args], dict[str, Any]]


def _channel_arg(ws: Workspace, args: Args) -> dict[str, Any]:
    return ws.visible_channel(args.string("channel"))


def _not_for_ims(channel: dict[str, Any]) -> None:
    if channel["is_im"]:
        raise ApiError("method_not_supported_for_channel_type")


def _name_taken(ws: Workspace, name: str, *, other_than: str | None = None) -> bool:
    return any(c["name"] == name and c["id"] != other_than for c in ws.channels.values() if not c["is_im"])


def create(ws: Workspace, args: Args) -> dict[str, Any]:
    name = args.string("name")
    error = channel_name_error(name)
    if error:
        raise ApiError(error)
    if _name_taken(ws, name):
        raise ApiError("name_taken")
    channel = ws.add_channel(name, is_private=args.flag("is_private"))
    return {"channel": ws.conversation_object(channel)}


def invite(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _channel_arg(ws, args)
    _not_for_ims(channel)
    if ws.bot_user_id not in channel["members"]:
        raise ApiError("not_in_channel")
    if channel["is_archived"]:
        raise ApiError("is_archived")
    users = args.ids("users")
    if not users:
        raise ApiError("no_user")
    problems: list[dict[str, Any]] = []
    new: list[str] = []
    already: list[str] = []
    for user_id in dict.fromkeys(users):
        user = ws.users.get(user_id)
        if user_id == ws.bot_user_id:
            problems.append({"user": user_id, "ok": False, "error": "cant_invite_self"})
        elif user is None:
            problems.append({"user": user_id, "ok": False, "error": "user_not_found"})
        elif user["deleted"]:
            problems.append({"user": user_id, "ok": False, "error": "cant_invite"})
        elif user_id in channel["members"]:
            already.append(user_id)
        else:
            new.append(user_id)
    # Without force, one bad id fails the whole call and nobody is invited.
    if problems and (not args.flag("force") or not new):
        raise ApiError(problems[0]["error"], extra={"errors": problems})
    if not new:
        raise ApiError(
            "already_in_channel",
            extra={"errors": [{"user": u, "ok": False, "error": "already_in_channel"} for u in already]},
        )
    channel["members"].extend(new)
    body: dict[str, Any] = {"channel": ws.conversation_object(channel)}
    if problems:
        body["errors"] = problems
    return body


def join(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _channel_arg(ws, args)
    _not_for_ims(channel)
    if channel["is_archived"]:
        raise ApiError("is_archived")
    body: dict[str, Any] = {}
    if ws.bot_user_id in channel["members"]:
        body = {"warning": "already_in_channel", "response_metadata": {"warnings": ["already_in_channel"]}}
    else:
        channel["members"].insert(0, ws.bot_user_id)
    return {"channel": ws.conversation_object(channel), **body}


def _set_text_field(field: str) -> Handler:
    def handler(ws: Workspace, args: Args) -> dict[str, Any]:
        channel = _channel_arg(ws, args)
        if channel["is_archived"]:
            raise ApiError("is_archived")
        if ws.bot_user_id not in channel["members"]:
            raise ApiError("not_in_channel")
        value = args.string(field)
        if len(value) > 250:
            raise ApiError("too_long")
        channel[field] = {"value": value, "creator": ws.bot_user_id, "last_set": int(ws.clock())}
        return {"channel": ws.conversation_object(channel)}

    return handler


def info(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _channel_arg(ws, args)
    return {"channel": ws.conversation_object(channel, num_members=args.flag("include_num_members"))}


def members(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _channel_arg(ws, args)
    page, cursor = paginate(list(channel["members"]), args, default_limit=100, max_limit=1000)
    return {"members": page, "response_metadata": {"next_cursor": cursor}}


def _ts_window(args: Args) -> Callable[[str], bool]:
    latest = parse_ts(args.string("latest"), "invalid_ts_latest") if args.has("latest") else None
    oldest = parse_ts(args.string("oldest"), "invalid_ts_oldest") if args.has("oldest") else Decimal(0)
    inclusive = args.flag("inclusive")

    def inside(ts: str) -> bool:
        value = Decimal(ts)
        if inclusive:
            return value >= oldest and (latest is None or value <= latest)
        return value > oldest and (latest is None or value < latest)

    return inside


def _listing(ws: Workspace, args: Args, items: list[dict[str, Any]], summary: bool) -> dict[str, Any]:
    page, cursor = paginate(items, args, default_limit=100, max_limit=999)
    metadata = args.flag("include_all_metadata")
    body: dict[str, Any] = {
        "messages": [messages.api_shape(ws, m, thread_summary=summary, with_metadata=metadata) for m in page],
        "has_more": bool(cursor),
    }
    if cursor:
        body["response_metadata"] = {"next_cursor": cursor}
    return body


def history(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _channel_arg(ws, args)
    if ws.bot_user_id not in channel["members"]:
        raise ApiError("not_in_channel")
    inside = _ts_window(args)
    # History lists top-level messages (and broadcast replies), newest first.
    items = [
        m
        for m in reversed(ws.messages[channel["id"]])
        if (m["thread_ts"] in (None, m["ts"]) or m["reply_broadcast"]) and inside(m["ts"])
    ]
    body = _listing(ws, args, items, True)
    body["pin_count"] = len(channel["pins"])
    if args.has("latest"):
        body["latest"] = args.string("latest")
    return body


def replies(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _channel_arg(ws, args)
    message = messages.find(ws, channel["id"], args.string("ts"))
    if message is None:
        raise ApiError("thread_not_found")
    root_ts = message["thread_ts"] or message["ts"]
    root = messages.find(ws, channel["id"], root_ts) or message
    inside = _ts_window(args)
    # The parent always comes first, whatever the window; replies oldest first.
    thread = [root] + [m for m in messages.replies_to(ws, channel["id"], root_ts) if inside(m["ts"])]
    return _listing(ws, args, thread, True)


def open_conversation(ws: Workspace, args: Args) -> dict[str, Any]:
    existed = True
    if args.has("channel"):
        channel = ws.channels.get(args.string("channel"))
        if channel is None or not (channel["is_im"] or channel["is_mpim"]):
            raise ApiError("channel_not_found")
    else:
        users = [u for u in dict.fromkeys(args.ids("users")) if u != ws.bot_user_id]
        if not users:
            raise ApiError("users_list_not_supplied")
        if len(users) > 8:
            raise ApiError("too_many_users")
        for user_id in users:
            if ws.require_user(user_id)["deleted"]:
                raise ApiError("user_disabled")
        if len(users) == 1:
            existed = any(c["is_im"] and c["user"] == users[0] for c in ws.channels.values())
            channel = ws.im_with(users[0])
        else:
            channel, existed = _mpim(ws, users)
    body: dict[str, Any] = {}
    if existed:
        body.update(no_op=True, already_open=True)
    body["channel"] = ws.conversation_object(channel) if args.flag("return_im") else {"id": channel["id"]}
    return body


def _mpim(ws: Workspace, users: list[str]) -> tuple[dict[str, Any], bool]:
    wanted = {ws.bot_user_id, *users}
    for channel in ws.channels.values():
        if channel["is_mpim"] and set(channel["members"]) == wanted:
            return channel, True
    names = "--".join(ws.users[u]["name"] for u in [ws.bot_user_id, *users])
    channel = ws.add_channel(f"mpdm-{names}-1", is_private=True, members=users)
    channel["is_mpim"] = True
    return channel, False


def rename(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _channel_arg(ws, args)
    _not_for_ims(channel)
    if ws.bot_user_id not in channel["members"]:
        raise ApiError("not_in_channel")
    if channel["is_archived"]:
        raise ApiError("is_archived")
    name = args.string("name")
    error = channel_name_error(name)
    if error:
        raise ApiError(error)
    if _name_taken(ws, name, other_than=channel["id"]):
        raise ApiError("name_taken")
    if name != channel["name"]:
        channel["previous_names"].insert(0, channel["name"])
        channel["name"] = name
    return {"channel": ws.conversation_object(channel)}


def archive(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _channel_arg(ws, args)
    _not_for_ims(channel)
    if channel["is_archived"]:
        raise ApiError("already_archived")
    if ws.bot_user_id not in channel["members"]:
        raise ApiError("not_in_channel")
    channel["is_archived"] = True
    return {}


def unarchive(ws: Workspace, args: Args) -> dict[str, Any]:
    channel = _channel_arg(ws, args)
    _not_for_ims(channel)
    if not channel["is_archived"]:
        raise ApiError("not_archived")
    channel["is_archived"] = False
    # Slack adds the caller to the conversation it brings back.
    if ws.bot_user_id not in channel["members"]:
        channel["members"].insert(0, ws.bot_user_id)
    return {}


def list_conversations(ws: Workspace, args: Args) -> dict[str, Any]:
    """Channels the bot can see: every public one, and the private ones it is in."""
    wanted = set(args.ids("types") or ["public_channel"])
    found = []
    for channel in ws.channels.values():
        if channel["is_im"] or channel["is_mpim"]:
            continue
        kind = "private_channel" if channel["is_private"] else "public_channel"
        if kind not in wanted or (args.flag("exclude_archived") and channel["is_archived"]):
            continue
        if channel["is_private"] and ws.bot_user_id not in channel["members"]:
            continue
        found.append(ws.conversation_object(channel))
    page, cursor = paginate(found, args, default_limit=100, max_limit=1000)
    return {"channels": page, "response_metadata": {"next_cursor": cursor}}


HANDLERS: dict[str, Handler] = {
    "conversations.list": list_conversations,
    "conversations.create": create,
    "conversations.invite": invite,
    "conversations.join": join,
    "conversations.setTopic": _set_text_field("topic"),
    "conversations.setPurpose": _set_text_field("purpose"),
    "conversations.info": info,
    "conversations.members": members,
    "conversations.history": history,
    "conversations.replies": replies,
    "conversations.open": open_conversation,
    "conversations.rename": rename,
    "conversations.archive": archive,
    "conversations.unarchive": unarchive,
}
