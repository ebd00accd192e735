"""Bolt middleware that runs before every listener: mark verified requests, drop replays."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse

from bot.services.context import ServiceContext
from bot.services.requests import first_time

log = logging.getLogger(__name__)

# Set on a request's context once Bolt's own check let it through (a signed HTTP request, or one that
# came over the authenticated Socket Mode connection); the error handler acts on nothing else.
VERIFIED = "incident_bot_verified"


def register(app: App, ctx: ServiceContext) -> None:
    @app.use
    def mark_verified(request: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        request.context[VERIFIED] = True
        return next()

    @app.use
    def refuse_replays(request: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:
        # Slack signs each request it sends anew, so a signature seen before is someone replaying a
        # captured request inside the five minutes its timestamp stays valid: acknowledge it, do nothing.
        signature = next_header(request, "x-slack-signature")
        if request.mode == "http" and signature:
            key = "request:" + hashlib.sha256(signature.encode()).hexdigest()
            if not first_time(ctx, key):
                log.warning("ignored a replayed Slack request")
                return BoltResponse(status=200, body="")
        return next()


def next_header(request: BoltRequest, name: str) -> str | None:
    values = request.headers.get(name) or []
    return values[0] if values else None
