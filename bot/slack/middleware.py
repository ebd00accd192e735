"""Bolt middleware that runs before every listener: mark verified requests, drop replays."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.core.requests import begin_request, set_request_id

# Set on a request's context once Bolt's own check let it through (a signed HTTP request, or one that
# came over the authenticated Socket Mode connection); the error handler acts on nothing else.
VERIFIED = "incident_bot_verified"


def register(app: App) -> None:
    app.use(VerifiedOnce())


class VerifiedOnce(Middleware):
    # A Middleware of Bolt's own kind: a function would have its arguments looked up on every request.
    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]) -> BoltResponse | None:
        req.context[VERIFIED] = True
        # Slack signs each request it sends anew, so a signature seen before is someone replaying a
        # captured request inside the five minutes its timestamp stays valid: acknowledge it, do nothing.
        # The signature is recorded by the request's first write, in the same transaction.
        signature = next_header(req, "x-slack-signature")
        key = "request:" + hashlib.sha256(signature.encode()).hexdigest() if signature else None
        begin_request(key if req.mode == "http" else None)
        body = req.body if isinstance(req.body, dict) else {}
        event_id = body.get("event_id")
        set_request_id(str(event_id)[:64] if event_id else (key[8:24] if key else None))
        return next()


def next_header(request: BoltRequest, name: str) -> str | None:
    values = request.headers.get(name) or []
    return values[0] if values else None
