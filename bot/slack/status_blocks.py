"""Pure Block Kit builders for status updates: the posted update, the nudge, the update form."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.core.models import Incident, TimelineEntry
from bot.core.status_updates import UPDATE_LIMIT, describe_interval
from bot.slack.blocks import Block, form_modal, mrkdwn_section, plain
from bot.slack.text import as_mrkdwn, clip, user

UPDATE_VIEW = "incident_status_update"
UPDATE_BLOCK = "update"


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, 3000)}]}


def status_update_blocks(
    incident: Incident, update: TimelineEntry, *, every: timedelta | None, announced: bool = False
) -> list[Block]:
    """The update as posted: who, the level, the text; in the announcement's thread, the title too."""
    about = ""
    if announced:
        about = " on a private incident" if incident.private else f" on *{as_mrkdwn(clip(incident.title, 200))}*"
    blocks: list[Block] = [
        _context(f":mega: *Status update*{about} · *{incident.severity}* · from {user(update.author_id)}"),
        mrkdwn_section(update.text),
    ]
    if every is not None and not announced:
        blocks.append(_context(f"Next update due within {describe_interval(every)}."))
    return blocks


def status_update_text(incident: Incident, update: TimelineEntry) -> str:
    """The notification (and fallback) text of a posted update."""
    return clip(f"Status update ({incident.severity}) from {user(update.author_id)}: {update.text}", 3000)


def nudge_text(incident: Incident, *, target: str, every: timedelta, silent_for: timedelta) -> str:
    """The reminder that a status update is due, for the person asked to post it."""
    return (
        f":hourglass_flowing_sand: {user(target)}, time for a status update: none in the last "
        f"{describe_interval(silent_for)} (a {incident.severity} gets one every {describe_interval(every)}). "
        "Post it with `/incident update <what is happening>`, or `/incident update` for a form."
    )


def update_modal(incident: Incident, *, announced_in: str | None) -> dict[str, Any]:
    """The form behind `/incident update` with no text."""
    where = f"Posted in <#{incident.room_id}>" if incident.room_id else "Posted in the incident's channel"
    if announced_in:
        where += f" and in the thread of its announcement in <#{announced_in}>"
    return form_modal(
        UPDATE_VIEW,
        "Status update",
        "Post",
        [
            mrkdwn_section(f"*{as_mrkdwn(clip(incident.title, 200))}* · {incident.severity}"),
            {
                "type": "input",
                "block_id": UPDATE_BLOCK,
                "label": plain("What is happening?", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "multiline": True,
                    "max_length": UPDATE_LIMIT,
                    "placeholder": plain("Impact, what we know, what we are doing, next update", 150),
                },
            },
            _context(f"{where}."),
        ],
        {"incident_id": incident.id},
    )
