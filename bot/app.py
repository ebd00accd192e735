"""build_app: a Bolt App with every listener and the one error handler registered."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import Settings
from bot.slack import middleware
from bot.slack.errors import build_error_handler
from bot.slack.listener_context import ListenerContext
from bot.slack.listeners import actions, commands, events, shortcuts, status_updates, views


def build_app(settings: Settings, context: ListenerContext, client: WebClient, *, offline: bool = False) -> App:
    """A Bolt app that persists before it acks, so nothing acked can be lost."""
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=True,
        # Offline (`scan` without credentials), the app is built but never asks Slack anything.
        token_verification_enabled=not offline,
        logger=logging.getLogger("bot.bolt"),
    )
    middleware.register(app)
    for module in (commands, events, shortcuts, actions, views, status_updates):
        module.register(app, context)
    app.error(build_error_handler(context.chat))
    return app
