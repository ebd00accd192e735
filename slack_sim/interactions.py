"""Response URLs and modal lifecycles: the parts of Slack that react to an app's
answers to interactions rather than to Web API calls. Callers hold the lock."""

from __future__ import annotations

import copy
import secrets
from typing import Any

from slack_sim import messages
from slack_sim.blockkit import normalize_blocks, validate_message_blocks
from slack_sim.methods_views import replace_view, store_view
from slack_sim.state import Workspace


def new_response_url(ws: Workspace, base_http: str, user: str, channel: str, *, message_ts: str | None = None) -> str:
    """A response_url; ``message_ts`` names the message replace/delete_original act on."""
    url_id = secrets.token_hex(12)
    ws.response_urls[url_id] = {"user": user, "channel": channel, "message_ts": message_ts}
    return f"{base_http}/response/{url_id}"


def post_response(ws: Workspace, url_id: str, body: Any) -> tuple[int, str]:
    """Handle a POST to a response_url the way Slack does; returns (status, text)."""
    target = ws.response_urls.get(url_id)
    if target is None:
        return 404, "no_service"
    if not isinstance(body, dict):
        return 400, "invalid_payload"
    blocks = body.get("blocks")
    if blocks is not None and (not isinstance(blocks, list) or validate_message_blocks(blocks)):
        return 400, "invalid_blocks"
    ws.responses.append({"user": target["user"], "body": {**copy.deepcopy(body), "response_url_id": url_id}})
    channel = ws.channels.get(target["channel"])
    original = messages.find(ws, channel["id"], target["message_ts"]) if channel and target["message_ts"] else None
    if original is not None and channel is not None and body.get("delete_original"):
        messages.delete(ws, channel["id"], original)
    elif original is not None and body.get("replace_original"):
        original["text"] = str(body.get("text", ""))
        original["blocks"] = normalize_blocks(blocks or [])
    elif channel is not None and body.get("response_type") == "in_channel":
        messages.add(
            ws,
            channel,
            user=ws.bot_user_id,
            text=str(body.get("text", "")),
            blocks=normalize_blocks(blocks or []),
            thread_ts=body.get("thread_ts"),
        )
    return 200, "ok"


def record_submission(ws: Workspace, view_id: str, values: dict[str, Any]) -> None:
    record = ws.views.get(view_id)
    if record is not None:
        record["state"] = {"values": copy.deepcopy(values)}


def apply_view_ack(ws: Workspace, view_id: str, ack: Any) -> None:
    """Apply the app's answer to a view_submission: errors keep the modal open,
    update/push change the stack, clear closes all, anything else closes this view."""
    record = ws.views.get(view_id)
    if record is None or record["type"] != "modal":
        return
    action = ack.get("response_action") if isinstance(ack, dict) else None
    stack = ws.modal_stacks.setdefault(record["user"], [])
    if action == "errors":
        return
    if action == "update" and isinstance(ack.get("view"), dict):
        replace_view(record, ack["view"])
        return
    if action == "push" and isinstance(ack.get("view"), dict):
        pushed = store_view(ws, ack["view"], user=record["user"], trigger_id=None, previous=view_id)
        stack.append(pushed["id"])
        return
    if action == "clear":
        closing = list(stack)
    elif view_id in stack:
        closing = stack[stack.index(view_id) :]
    else:
        closing = []
    for closed in closing:
        ws.views[closed]["is_open"] = False
        stack.remove(closed)
    record["is_open"] = False
