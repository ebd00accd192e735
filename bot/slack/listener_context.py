"""What the Slack listeners are handed when they are registered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.services.action_status import HandWrittenOwner
from bot.services.context import ServiceContext
from bot.slack.chat import SlackChat


@dataclass(frozen=True)
class ListenerContext:
    services: ServiceContext
    chat: SlackChat
    # Who owns a row of a hand-written RCA, read from the docs repo (buttons in reminder DMs).
    hand_written_owner: HandWrittenOwner
    timeline_emoji: str = "pushpin"
    # A resolve form just opened for this incident: what its RCA's publish needs is made while it is filled in.
    resolve_form_opened: Callable[[int], None] = lambda _incident_id: None
