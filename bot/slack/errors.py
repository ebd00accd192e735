"""The one error path: typed domain errors become an answer in the right place.

A request that did not pass verification reaches here too (Bolt hands its verifier's own errors to
the error handler); such a request gets 401 and the bot acts on nothing in its body.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

from bot.core.errors import Duplicate, IncidentBotError, MalformedRequest
from bot.core.models import Reply
from bot.core.ports import ChatError
from bot.slack.chat import SlackChat
from bot.slack.middleware import VERIFIED

log = logging.getLogger(__name__)

UNEXPECTED = (
    ":x: Something went wrong on my side and nothing was changed. Please try again; "
    "if it keeps failing, tell whoever runs incident-bot (the error is in its log)."
)


def _first_input_block(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks") or []:
        if isinstance(block, dict) and block.get("type") == "input":
            return str(block.get("block_id"))
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _reply_for(body: dict[str, Any]) -> Reply | None:
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    if body.get("type") == "event_callback":
        user = (body.get("event") or {}).get("user")
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    user_id = _text(user)
    if user_id is None:
        return None
    return Reply(user_id=user_id, room_id=_text(channel), response_url=_text(body.get("response_url")))


def build_error_handler(chat: SlackChat) -> Any:
    """A Bolt error handler that answers the person who asked, never silently."""

    def handle_error(error: Exception, body: Any, request: BoltRequest) -> BoltResponse:
        if not request.context.get(VERIFIED):
            log.warning("refused a Slack request that failed verification: %s", type(error).__name__)
            return BoltResponse(status=401, body={"error": "invalid request"})
        if isinstance(error, Duplicate):
            log.info("ignored a request applied before (a replay or a double submit)")
            return BoltResponse(status=200, body="")  # a double submit or replay: already done once
        if isinstance(error, MalformedRequest) or not isinstance(body, dict):
            log.warning("refused a malformed Slack request: %s", error)
            return BoltResponse(status=400, body={"error": "malformed request"})
        try:
            return _answer(error, body, chat)
        except (AttributeError, KeyError, TypeError, ValueError) as broken:
            # A body of a shape Slack never sends: nothing in it is worth answering.
            log.warning("refused a malformed Slack request: %s", broken)
            return BoltResponse(status=400, body={"error": "malformed request"})

    return handle_error


def _answer(error: Exception, body: dict[str, Any], chat: SlackChat) -> BoltResponse:
    if isinstance(error, IncidentBotError):
        message = f":warning: {error.user_message}"
    elif isinstance(error, ChatError):
        message = f":warning: Slack refused that: {error}. Nothing was changed; please try again."
    else:
        log.error("unexpected error handling a Slack request", exc_info=error)
        message = UNEXPECTED
    if body.get("type") == "view_submission":
        field = getattr(error, "field", None) or _first_input_block(body.get("view") or {})
        if field:
            return BoltResponse(status=200, body={"response_action": "errors", "errors": {field: message}})
    if body.get("command"):
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": message})
    reply = _reply_for(body)
    if reply is not None:
        try:
            chat.tell(reply, message)
        except ChatError:
            log.exception("could not tell %s about an error", reply.user_id)
    return BoltResponse(status=200, body="")
