"""Web API dispatch: auth, injected failures, required arguments, then the method.

Slack checks a call in roughly this order; answering in the same order keeps
error codes faithful when several things are wrong at once.
"""

from __future__ import annotations

import contextlib
import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from slack_sim import methods_chat, methods_conversations, methods_files, methods_misc, methods_views
from slack_sim.state import ApiError, Args, Workspace

HANDLERS: dict[str, methods_chat.Handler] = {
    **methods_chat.HANDLERS,
    **methods_conversations.HANDLERS,
    **methods_files.HANDLERS,
    **methods_misc.HANDLERS,
    **methods_views.HANDLERS,
}
# Arguments Slack takes as JSON-encoded strings in form posts (and as objects in JSON bodies).
JSON_ARGS = ("blocks", "attachments", "view", "metadata")
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})

# For a missing required argument: the documented errors that fit best, in preference order.
_MISSING_ARG_ERRORS: dict[str, tuple[str, ...]] = {
    "channel": ("channel_not_found",),
    "channel_id": ("channel_not_found",),
    "name": ("invalid_name_required", "invalid_name"),
    "users": ("no_user", "users_list_not_supplied"),
    "user": ("user_not_found",),
    "timestamp": ("no_item_specified", "message_not_found"),
    "ts": ("thread_not_found", "message_not_found"),
    "message_ts": ("message_not_found",),
    "email": ("users_not_found",),
    "type": ("invalid_bookmark_type",),
}


@dataclass
class Reply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@cache
def method_table() -> dict[str, dict[str, Any]]:
    """The compact Slack reference (``reference/methods.json``, from ``scripts/build_slack_reference.py``)."""
    table = Path(__file__).with_name("reference") / "methods.json"
    data: dict[str, dict[str, Any]] = json.loads(table.read_text(encoding="utf-8"))
    return data


def decode_args(data: dict[str, Any]) -> dict[str, Any]:
    """Parse JSON-string arguments; leave unparseable ones for the method to reject."""
    decoded = dict(data)
    for key in JSON_ARGS:
        value = decoded.get(key)
        if isinstance(value, str) and value.strip():
            with contextlib.suppress(ValueError):
                decoded[key] = json.loads(value)
    return decoded


def _token(args: dict[str, Any], authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    token = args.get("token")
    return str(token) if token else None


def _check_auth(ws: Workspace, method: str, token: str | None) -> None:
    if token is None:
        raise ApiError("not_authed")
    if method in APP_TOKEN_METHODS:
        valid = token.startswith("xapp-") and (ws.app_token is None or token == ws.app_token)
    else:
        valid = token == ws.bot_token
    if not valid:
        raise ApiError("invalid_auth")


def _check_required(method: str, args: Args) -> None:
    spec = method_table().get(method)
    if spec is None:
        return
    documented = set(spec["errors"])
    # Slack looks at the conversation before anything else.
    ordered = sorted(spec["required"], key=lambda name: name not in ("channel", "channel_id"))
    for name in ordered:
        # An empty topic/purpose is how Slack clears it, so only absence counts there.
        if args.has(name) or (name in ("topic", "purpose") and args.raw(name) == ""):
            continue
        for error in _MISSING_ARG_ERRORS.get(name, ()):
            if error in documented:
                raise ApiError(error)
        raise ApiError("invalid_arguments", messages=[f"[ERROR] missing required field: {name}"])
    if method in ("chat.postMessage", "chat.postEphemeral", "chat.update") and not any(
        args.has(key) for key in ("text", "blocks", "attachments", "markdown_text")
    ):
        raise ApiError("no_text")


def _injected(ws: Workspace, method: str, kind: str, args: dict[str, Any]) -> Any:
    """Take the first injected outcome of `kind` for this call (one whose condition, if any, matches)."""
    queue = ws.injected.get(method, [])
    for index, (entry_kind, payload, when) in enumerate(queue):
        if entry_kind == kind and (when is None or when(args)):
            del queue[index]
            return payload
    return None


def handle(ws: Workspace, method: str, raw_args: dict[str, Any], authorization: str | None) -> Reply:
    """Answer one Web API call; always records it first."""
    args_dict = decode_args(raw_args)
    with ws.lock:
        hold = _injected(ws, method, "hold", args_dict)
    if hold is not None:
        # Outside the lock: the rest of the workspace keeps answering while this call waits.
        hold.reached.set()
        hold.released.wait()
        if hold.dropped:
            return Reply(500, {"ok": False, "error": "internal_error"})
    with ws.lock:
        ws.calls.append((method, copy.deepcopy(args_dict)))
        retry_after = _injected(ws, method, "ratelimit", args_dict)
        if retry_after is not None:
            return Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})
        if _injected(ws, method, "server_error", args_dict) is not None:
            return Reply(500, {"ok": False, "error": "internal_error"})
        reply = _answer(ws, method, args_dict, authorization)
        if reply.body.get("ok") and _injected(ws, method, "lost_response", args_dict) is not None:
            # The call took effect, but the answer never arrived: the client sees a server error.
            return Reply(500, {"ok": False, "error": "internal_error"})
        return reply


def _answer(ws: Workspace, method: str, args_dict: dict[str, Any], authorization: str | None) -> Reply:
    handler = HANDLERS.get(method)
    if handler is None:
        return Reply(200, {"ok": False, "error": "unknown_method"})
    args = Args(args_dict)
    try:
        _check_auth(ws, method, _token(args_dict, authorization))
        error = _injected(ws, method, "fail", args_dict)
        if error is not None:
            raise ApiError(str(error))
        _check_required(method, args)
        body = handler(ws, args)
    except ApiError as exc:
        return Reply(200, exc.body(), _scope_headers(ws, method))
    return Reply(200, {"ok": True, **body}, _scope_headers(ws, method))


def _scope_headers(ws: Workspace, method: str) -> dict[str, str]:
    """Slack tells a bot token's scopes on every answer to it."""
    if ws.scopes is None or method in APP_TOKEN_METHODS:
        return {}
    return {"X-OAuth-Scopes": ",".join(ws.scopes)}
