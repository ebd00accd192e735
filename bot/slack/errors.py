"""The one error path: typed domain errors become an answer in the right place."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import BoltResponse

from bot.core.errors import IncidentBotError
from bot.core.ports import ChatError, Reply
from bot.slack.chat import SlackChat

log = logging.getLogger(__name__)

UNEXPECTED = (
    ":x: Something went wrong on my side and nothing was changed. Please try again; "
    "if it keeps failing, tell whoever runs incident-bot (the error is in its log)."
)


def _first_input_block(view: dict[str, Any]) -> str | None:
    for block in view.get("blocks", []):
        if block.get("type") == "input":
            return str(block.get("block_id"))
    return None


def _reply_for(body: dict[str, Any]) -> Reply | None:
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    if body.get("type") == "event_callback":
        user = (body.get("event") or {}).get("user")
    if not user:
        return None
    channel = body.get("channel_id") or (body.get("channel") or {}).get("id")
    return Reply(user_id=user, room_id=channel, response_url=body.get("response_url"))


def build_error_handler(chat: SlackChat) -> Any:
    """A Bolt error handler that answers the person who asked, never silently."""

    def handle_error(error: Exception, body: dict[str, Any]) -> BoltResponse:
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

    return handle_error
