"""Bolt middleware that runs before every listener: mark verified requests, drop replays."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse

from bot.core.requests import begin_request, set_request_id

# Set on a request's context once Bolt's own check let it through (a signed HTTP request, or one that
# came over the authenticated Socket Mode connection); the error handler acts on nothing else.
VERIFIED = "incident_bot_verified"


def register(app: App) -> None:
    @app.use
    def verified_once(request: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        request.context[VERIFIED] = True
        # Slack signs each request it sends anew, so a signature seen before is someone replaying a
        # captured request inside the five minutes its timestamp stays valid: acknowledge it, do nothing.
        # The signature is recorded by the request's first write, in the same transaction.
        signature = next_header(request, "x-slack-signature")
        key = "request:" + hashlib.sha256(signature.encode()).hexdigest() if signature else None
        begin_request(key if request.mode == "http" else None)
        body = request.body if isinstance(request.body, dict) else {}
        event_id = body.get("event_id")
        set_request_id(str(event_id)[:64] if event_id else (key[8:24] if key else None))
        return next()


def next_header(request: BoltRequest, name: str) -> str | None:
    values = request.headers.get(name) or []
    return values[0] if values else None
