"""Turning our words and people's words into Slack mrkdwn safely."""

from __future__ import annotations

import re
from datetime import UTC, datetime


def escape(text: str) -> str:
    """Slack's three control characters; everything else people wrote is kept as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_date(moment: datetime, token: str = "{date_short_pretty} {time}") -> str:
    """A time every reader sees in their own time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{token}|{fallback}>"


def user(user_id: str | None) -> str:
    return f"<@{user_id}>" if user_id else "someone"


def ts_to_datetime(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), tz=UTC)


def humanize_age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")


def mentioned_user(token: str) -> str | None:
    """The user id in an escaped mention (`<@U123|name>` or `<@U123>`), if the token is one."""
    match = _MENTION.match(token.strip())
    return match.group(1) if match else None
