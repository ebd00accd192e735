"""The bot token scopes the features need (the manifest asks for exactly these; tests/test_manifest.py)."""

from __future__ import annotations

BOT_SCOPES: dict[str, str] = {
    "commands": "/incident and the message shortcut",
    "channels:manage": "creating, archiving and unarchiving public incident channels and inviting responders",
    "channels:read": "reading public channels back",
    "channels:history": "timeline reactions on messages in public channels",
    "groups:write": "creating, archiving and unarchiving private incident channels",
    "groups:read": "reading private channels back",
    "groups:history": "timeline reactions on messages in private channels",
    "chat:write": "posting updates",
    "chat:write.public": "announcing in a channel the bot has not joined",
    "pins:write": "pinning each incident's summary",
    "files:write": "uploading the weekly digest's charts",
    "bookmarks:write": "bookmarking the runbook, the announcement and the RCA in incident channels",
    "bookmarks:read": "finding a bookmark an interrupted attempt already added",
    "reactions:read": "seeing timeline reactions",
    "reactions:write": "acknowledging them with the bot's own reaction",
    "users:read": "names for the RCA and owners written as @name",
    "im:write": "DMs about open action items",
    "im:history": "finding a DM an interrupted attempt already sent",
}
