"""Block Kit for the past incidents like a new one, posted in its channel after the summary."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.past_incidents import PastIncident
from bot.slack.blocks import Block, mrkdwn_section
from bot.slack.text import clip, escape

HEADING = ":mag: *Similar past incidents* (from the docs repo's RCAs):"
TITLE_CHARS = 200


def similar_line(past: PastIncident) -> str:
    """One past incident: its title (linked when the docs repo has a web address), level, date and why."""
    # Titles and reasons come from Markdown files, not from Slack: any `&`, `<`, `>` in them is literal.
    title = escape(clip(past.title, TITLE_CHARS))
    parts = [f"*<{past.link}|{title}>*" if past.link else f"*{title}*"]
    parts += [value for value in (past.severity, past.happened_on.isoformat() if past.happened_on else None) if value]
    if not past.link:
        path = past.path.replace("`", "'")  # a backquote would end the code span
        parts.append(f"`{escape(path)}`")
    line = " · ".join(parts)
    return f"{line}\n{escape(past.reason)}" if past.reason else line


def similar_blocks(past: Sequence[PastIncident]) -> list[Block]:
    """A heading, then one section per past incident, best first."""
    return [mrkdwn_section(HEADING), *(mrkdwn_section(similar_line(item)) for item in past)]


def similar_text(past: Sequence[PastIncident]) -> str:
    """The notification's text: the titles, best first."""
    titles = ", ".join(escape(clip(item.title, 80)) for item in past)
    return clip(f"Similar past incidents: {titles}", 3000)
