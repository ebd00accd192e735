"""Workspace state of the fake Slack: users, conversations, messages, views.

Everything here is guarded by one re-entrant lock (``Workspace.lock``); the
API dispatcher holds it for a whole method call, and the public accessors on
``FakeSlack`` take it before copying data out.
"""

from __future__ import annotations

import base64
import copy
import re
import threading
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

WORKSPACE_DOMAIN = "fake-workspace"
WORKSPACE_URL = f"https://{WORKSPACE_DOMAIN}.slack.com/"
NO_TS = "0000000000.000000"

_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]+$")
_TS = re.compile(r"^\d+\.\d+$")


class ApiError(Exception):
    """A Web API failure answered as ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, *, messages: list[str] | None = None, extra: dict[str, Any] | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body


class Args:
    """Typed access to merged form / JSON / query arguments."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def raw(self, name: str) -> Any:
        return self.data.get(name)

    def has(self, name: str) -> bool:
        value = self.data.get(name)
        return value is not None and value != ""

    def string(self, name: str, default: str = "") -> str:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def flag(self, name: str) -> bool:
        value = self.data.get(name)
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true", "yes")
        return bool(value)

    def integer(self, name: str, default: int) -> int:
        if not self.has(name):
            return default
        try:
            return int(self.data[name])
        except (TypeError, ValueError):
            raise ApiError(
                "invalid_arguments", messages=[f"[ERROR] must be an integer [json-pointer:/{name}]"]
            ) from None

    def ids(self, name: str) -> list[str]:
        """A comma separated id list (slack_sdk joins Python lists the same way)."""
        value = self.data.get(name)
        if isinstance(value, (list, tuple)):
            return [str(v).strip() for v in value if str(v).strip()]
        return [part.strip() for part in self.string(name).split(",") if part.strip()]


def parse_ts(value: str, error: str) -> Decimal:
    if not _TS.match(value) and not value.isdigit():
        raise ApiError(error)
    try:
        return Decimal(value)
    except InvalidOperation:
        raise ApiError(error) from None


def channel_name_error(name: str) -> str | None:
    """Slack's error code for an unusable channel name, or None when it is fine."""
    if not name:
        return "invalid_name_required"
    if len(name) > 80:
        return "invalid_name_maxlength"
    if not _CHANNEL_NAME.match(name):
        return "invalid_name_specials"
    if not name.strip("-_"):
        return "invalid_name_punctuation"
    return None


class Workspace:
    """All mutable state of one fake Slack workspace."""

    def __init__(
        self, *, bot_token: str, team_id: str, bot_user_id: str, bot_id: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.lock = threading.RLock()
        # Seconds since the epoch, as Slack's clock says: message timestamps and "created" times follow it.
        self.clock = clock
        self.bot_token = bot_token
        self.team_id = team_id
        self.team_name = "Fake Workspace"
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = "A0SIMULATOR"
        self.app_token: str | None = None
        # The bot token's scopes, sent as X-OAuth-Scopes on its calls as Slack does (None: not sent).
        self.scopes: list[str] | None = None
        self.socket_mode_url: str | None = None
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.ephemerals: list[dict[str, Any]] = []
        self.views: dict[str, dict[str, Any]] = {}
        self.modal_stacks: dict[str, list[str]] = {}
        self.triggers: dict[str, dict[str, Any]] = {}
        self.response_urls: dict[str, dict[str, Any]] = {}
        self.responses: list[dict[str, Any]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []
        # method -> queue of injected outcomes (kind, payload, condition on the call's arguments or None),
        # kinds: fail, ratelimit, server_error, lost_response, hold.
        self.injected: dict[str, list[tuple[str, Any, Callable[[dict[str, Any]], bool] | None]]] = {}
        # Uploads (files.getUploadURLExternal …): file id -> the file, upload ticket -> file id, and the
        # address upload URLs point at (the server's own, once it listens).
        self.files: dict[str, dict[str, Any]] = {}
        self.upload_tickets: dict[str, str] = {}
        self.upload_base: str | None = None
        self._counter = 0
        self._last_micros = 0
        self.add_user(bot_user_id, "incident-bot", real_name="Incident Bot", is_bot=True)

    # -- identifiers ----------------------------------------------------------
    def new_id(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter:08X}"

    def new_ts(self) -> str:
        """Unique, strictly increasing ``"<unix seconds>.<6 digits>"`` values from the clock, like Slack's."""
        micros = max(int(self.clock() * 1_000_000), self._last_micros + 1)
        self._last_micros = micros
        seconds, fraction = divmod(micros, 1_000_000)
        return f"{seconds}.{fraction:06d}"

    # -- users ----------------------------------------------------------------
    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        display_name: str | None = None,
        tz: str = "UTC",
        tz_offset: int = 0,
        is_bot: bool = False,
        deleted: bool = False,
        email: str | None = None,
    ) -> dict[str, Any]:
        user = {
            "id": user_id,
            "name": name,
            "real_name": real_name if real_name is not None else name,
            "display_name": display_name if display_name is not None else name,
            "tz": tz,
            "tz_offset": tz_offset,
            "is_bot": is_bot,
            "deleted": deleted,
            "email": None if is_bot else (email or f"{name}@example.com"),
        }
        self.users[user_id] = user
        return user

    def user_object(self, user: dict[str, Any]) -> dict[str, Any]:
        """A user in the shape users.info / users.list answer with."""
        profile: dict[str, Any] = {
            "avatar_hash": "g000000000",
            "status_text": "",
            "status_emoji": "",
            "real_name": user["real_name"],
            "display_name": user["display_name"],
            "real_name_normalized": user["real_name"],
            "display_name_normalized": user["display_name"],
            "image_24": "https://example.invalid/avatar_24.png",
            "image_48": "https://example.invalid/avatar_48.png",
            "image_72": "https://example.invalid/avatar_72.png",
            "team": self.team_id,
        }
        if user["email"]:
            profile["email"] = user["email"]
        if user["is_bot"] and user["id"] == self.bot_user_id:
            profile["bot_id"] = self.bot_id
        return {
            "id": user["id"],
            "team_id": self.team_id,
            "name": user["name"],
            "deleted": user["deleted"],
            "color": "9f69e7",
            "real_name": user["real_name"],
            "tz": user["tz"],
            "tz_label": user["tz"],
            "tz_offset": user["tz_offset"],
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": user["is_bot"],
            "is_app_user": False,
            "updated": 1700000000,
            "has_2fa": False,
        }

    def require_user(self, user_id: str, error: str = "user_not_found") -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            raise ApiError(error)
        return user

    # -- conversations --------------------------------------------------------
    def add_channel(
        self,
        name: str,
        *,
        is_private: bool = False,
        members: tuple[str, ...] | list[str] = (),
        bot_is_member: bool = True,
        channel_id: str | None = None,
        creator: str | None = None,
    ) -> dict[str, Any]:
        channel_id = channel_id or self.new_id("C")
        member_list = [m for m in dict.fromkeys(members) if m != self.bot_user_id]
        if bot_is_member:
            member_list.insert(0, self.bot_user_id)
        blank = {"value": "", "creator": "", "last_set": 0}
        channel = {
            "id": channel_id,
            "name": name,
            "is_private": is_private,
            "is_im": False,
            "is_mpim": False,
            "user": None,
            "topic": dict(blank),
            "purpose": dict(blank),
            "members": member_list,
            "created": int(self.clock()),
            "creator": creator or self.bot_user_id,
            "is_archived": False,
            "previous_names": [],
            "pins": [],
            "bookmarks": [],
        }
        self.channels[channel_id] = channel
        self.messages[channel_id] = []
        return channel

    def im_with(self, user_id: str) -> dict[str, Any]:
        """The bot's direct-message conversation with a user, opened on first use."""
        for channel in self.channels.values():
            if channel["is_im"] and channel["user"] == user_id:
                return channel
        channel = self.add_channel("", channel_id=self.new_id("D"), is_private=True, members=[user_id])
        channel.update(is_im=True, user=user_id)
        return channel

    def find_channel(self, ref: str, *, names: bool = False, users: bool = False) -> dict[str, Any] | None:
        """Resolve a conversation id; with ``names`` also ``#name``/name, with
        ``users`` a user id (meaning the bot's DM with them) - only
        chat.postMessage accepts those in Slack."""
        if not ref:
            return None
        if ref in self.channels:
            return self.channels[ref]
        if users and ref in self.users and ref != self.bot_user_id:
            return self.im_with(ref)
        if names:
            name = ref[1:] if ref.startswith("#") else ref
            for channel in self.channels.values():
                if not channel["is_im"] and channel["name"] == name:
                    return channel
        return None

    def visible_channel(self, ref: str, *, names: bool = False, users: bool = False) -> dict[str, Any]:
        """A channel the bot can see: private ones only when it is a member."""
        channel = self.find_channel(ref, names=names, users=users)
        if channel is None or (channel["is_private"] and self.bot_user_id not in channel["members"]):
            raise ApiError("channel_not_found")
        return channel

    def conversation_object(self, channel: dict[str, Any], *, num_members: bool = False) -> dict[str, Any]:
        """A conversation in the shape conversations.* methods answer with."""
        if channel["is_im"]:
            obj: dict[str, Any] = {
                "id": channel["id"],
                "created": channel["created"],
                "is_im": True,
                "is_org_shared": False,
                "user": channel["user"],
                "is_user_deleted": self.users.get(channel["user"], {}).get("deleted", False),
                "last_read": NO_TS,
                "latest": None,
                "unread_count": 0,
                "unread_count_display": 0,
                "is_open": True,
                "priority": 0,
            }
        else:
            obj = {
                "id": channel["id"],
                "name": channel["name"],
                "is_channel": not channel["is_mpim"],
                "is_group": False,
                "is_im": False,
                "is_mpim": channel["is_mpim"],
                "is_private": channel["is_private"],
                "created": channel["created"],
                "is_archived": channel["is_archived"],
                "is_general": False,
                "unlinked": 0,
                "name_normalized": channel["name"],
                "is_shared": False,
                "is_frozen": False,
                "is_org_shared": False,
                "is_ext_shared": False,
                "is_pending_ext_shared": False,
                "pending_shared": [],
                "context_team_id": self.team_id,
                "parent_conversation": None,
                "creator": channel["creator"],
                "shared_team_ids": [self.team_id],
                "pending_connected_team_ids": [],
                "is_member": self.bot_user_id in channel["members"],
                "last_read": NO_TS,
                "topic": dict(channel["topic"]),
                "purpose": dict(channel["purpose"]),
                "previous_names": list(channel["previous_names"]),
            }
        if num_members:
            obj["num_members"] = len(channel["members"])
        return obj

    def public_channel(self, channel: dict[str, Any]) -> dict[str, Any]:
        """The test-facing summary of a channel (topic/purpose flattened to strings)."""
        data = copy.deepcopy(channel)
        data["topic"] = channel["topic"]["value"]
        data["purpose"] = channel["purpose"]["value"]
        return data


def paginate(items: list[Any], args: Args, *, default_limit: int, max_limit: int) -> tuple[list[Any], str]:
    """Slice ``items`` by ``cursor``/``limit``; returns the page and the next cursor ("" at the end).

    Cursors are opaque base64 strings in Slack; here they encode an offset.
    """
    offset = 0
    cursor = args.string("cursor")
    if cursor:
        try:
            kind, _, number = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
            offset = int(number)
        except (ValueError, UnicodeDecodeError):
            raise ApiError("invalid_cursor") from None
        if kind != "offset" or not 0 <= offset <= len(items):
            raise ApiError("invalid_cursor")
    limit = args.integer("limit", default_limit)
    if limit <= 0:
        limit = default_limit if default_limit > 0 else len(items) or 1
    limit = min(limit, max_limit)
    page = items[offset : offset + limit]
    end = offset + len(page)
    next_cursor = base64.b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
    return page, next_cursor
