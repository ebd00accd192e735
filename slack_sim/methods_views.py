"""views.* methods of the fake Web API, plus the trigger and view stores they use."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Callable
from typing import Any

from slack_sim.blockkit import normalize_blocks, validate_view
from slack_sim.state import ApiError, Args, Workspace

Handler = Callable[[Workspace, Args], dict[str, Any]]

TRIGGER_TTL_SECONDS = 3.0
MAX_VIEW_STACK = 3
# Keys kept on stored views for tests but never sent over the API.
_PRIVATE_KEYS = ("user", "trigger_id", "is_open")


def issue_trigger(ws: Workspace, user: str) -> str:
    """A trigger_id like Slack's (``"<n>.<ms>.<hex>"``): single use, valid for 3 seconds."""
    trigger_id = f"{ws.new_id('')}.{int(ws.clock() * 1000)}.{secrets.token_hex(16)}"
    ws.triggers[trigger_id] = {"user": user, "expires": time.monotonic() + TRIGGER_TTL_SECONDS, "used": False}
    return trigger_id


def _consume_trigger(ws: Workspace, args: Args) -> tuple[str, str]:
    trigger_id = args.string("trigger_id") or args.string("interactivity_pointer")
    if not trigger_id:
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: trigger_id"])
    trigger = ws.triggers.get(trigger_id)
    if trigger is None:
        raise ApiError("invalid_trigger_id")
    if trigger["used"]:
        raise ApiError("exchanged_trigger_id")
    if time.monotonic() > trigger["expires"]:
        raise ApiError("expired_trigger_id")
    trigger["used"] = True
    return trigger_id, str(trigger["user"])


def _new_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def _checked_view(ws: Workspace, args: Args, *, kinds: tuple[str, ...], replacing: str | None = None) -> dict[str, Any]:
    view = args.raw("view")
    if not isinstance(view, dict):
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: view"])
    errors = validate_view(view)
    if not errors and view.get("type") not in kinds:
        errors = ["[ERROR] must be a valid enum value [json-pointer:/view/type]"]
    if errors:
        raise ApiError("invalid_arguments", messages=errors)
    external_id = view.get("external_id") or ""
    if external_id and any(v["external_id"] == external_id and v["id"] != replacing for v in ws.views.values()):
        raise ApiError("duplicate_external_id")
    return view


def _fill(record: dict[str, Any], view: dict[str, Any]) -> None:
    record.update(
        type=view["type"],
        title=copy.deepcopy(view.get("title")),
        submit=copy.deepcopy(view.get("submit")),
        close=copy.deepcopy(view.get("close")),
        blocks=normalize_blocks(view.get("blocks") or []),
        private_metadata=view.get("private_metadata") or "",
        callback_id=view.get("callback_id") or "",
        external_id=view.get("external_id") or "",
        clear_on_close=bool(view.get("clear_on_close", False)),
        notify_on_close=bool(view.get("notify_on_close", False)),
        hash=_new_hash(),
    )


def store_view(
    ws: Workspace, view: dict[str, Any], *, user: str, trigger_id: str | None, previous: str | None = None
) -> dict[str, Any]:
    view_id = ws.new_id("V")
    root = ws.views[previous]["root_view_id"] if previous else view_id
    record: dict[str, Any] = {
        "id": view_id,
        "team_id": ws.team_id,
        "state": {"values": {}},
        "root_view_id": root,
        "previous_view_id": previous,
        "app_id": ws.app_id,
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
        "user": user,
        "trigger_id": trigger_id,
        "is_open": True,
    }
    _fill(record, view)
    ws.views[view_id] = record
    return record


def replace_view(record: dict[str, Any], view: dict[str, Any]) -> None:
    """Swap a stored view's content in place; id and stack position stay."""
    _fill(record, view)


def api_view(record: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in record.items() if k not in _PRIVATE_KEYS}


def close_views(ws: Workspace, user: str, *, everything: bool) -> None:
    """Pop the top modal of a user's stack, or clear the whole stack."""
    stack = ws.modal_stacks.get(user, [])
    while stack:
        ws.views[stack.pop()]["is_open"] = False
        if not everything:
            break


def views_open(ws: Workspace, args: Args) -> dict[str, Any]:
    trigger_id, user = _consume_trigger(ws, args)
    view = _checked_view(ws, args, kinds=("modal",))
    close_views(ws, user, everything=True)
    record = store_view(ws, view, user=user, trigger_id=trigger_id)
    ws.modal_stacks[user] = [record["id"]]
    return {"view": api_view(record)}


def views_push(ws: Workspace, args: Args) -> dict[str, Any]:
    trigger_id, user = _consume_trigger(ws, args)
    view = _checked_view(ws, args, kinds=("modal",))
    stack = ws.modal_stacks.get(user) or []
    if not stack:
        raise ApiError("not_found")
    if len(stack) >= MAX_VIEW_STACK:
        raise ApiError("push_limit_reached")
    record = store_view(ws, view, user=user, trigger_id=trigger_id, previous=stack[-1])
    stack.append(record["id"])
    return {"view": api_view(record)}


def views_update(ws: Workspace, args: Args) -> dict[str, Any]:
    if args.has("view_id"):
        record = ws.views.get(args.string("view_id"))
    elif args.has("external_id"):
        wanted = args.string("external_id")
        record = next((v for v in ws.views.values() if v["external_id"] == wanted), None)
    else:
        raise ApiError("invalid_arguments", messages=["[ERROR] must provide view_id or external_id"])
    if record is None:
        raise ApiError("not_found")
    if args.has("hash") and args.string("hash") != record["hash"]:
        raise ApiError("hash_conflict")
    view = _checked_view(ws, args, kinds=(record["type"],), replacing=record["id"])
    replace_view(record, view)
    return {"view": api_view(record)}


def views_publish(ws: Workspace, args: Args) -> dict[str, Any]:
    user = args.string("user_id")
    if user not in ws.users:
        raise ApiError("invalid_arguments", messages=["invalid `user_id`"])
    existing = next((v for v in ws.views.values() if v["type"] == "home" and v["user"] == user), None)
    if existing is not None and args.has("hash") and args.string("hash") != existing["hash"]:
        raise ApiError("hash_conflict")
    view = _checked_view(ws, args, kinds=("home",), replacing=existing["id"] if existing else None)
    if existing is None:
        existing = store_view(ws, view, user=user, trigger_id=None)
    else:
        replace_view(existing, view)
    return {"view": api_view(existing)}


HANDLERS: dict[str, Handler] = {
    "views.open": views_open,
    "views.push": views_push,
    "views.update": views_update,
    "views.publish": views_publish,
}
