"""What the Slack listeners are handed when they are registered."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.context import ServiceContext
from bot.slack.chat import SlackChat


@dataclass(frozen=True)
class ListenerContext:
    services: ServiceContext
    chat: SlackChat
    timeline_emoji: str = "pushpin"
