"""Slack listeners, one module per kind; the names here are what manifest.yml declares."""

from __future__ import annotations

SLASH_COMMAND = "/incident"
MESSAGE_SHORTCUTS: dict[str, str] = {"add_to_incident_timeline": "Add to incident timeline"}
# Event types the app listens to; `message` covers message_changed / message_deleted.
BOT_EVENTS: tuple[str, ...] = (
    "reaction_added",
    "reaction_removed",
    "message.channels",
    "message.groups",
    "app_home_opened",
)
