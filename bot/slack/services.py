"""What the Slack listeners are handed when they are registered."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.deps import Deps
from bot.slack.chat import SlackChat


@dataclass(frozen=True)
class SlackServices:
    deps: Deps
    chat: SlackChat
    timeline_emoji: str = "pushpin"
