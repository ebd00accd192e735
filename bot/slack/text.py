"""Turning our words and people's words into Slack mrkdwn safely."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# What Slack itself sends inside text: mentions, channel links, special mentions, links, and entities.
_SLACK_MARKUP = re.compile(
    r"<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+|![a-z][^<>]*|(?:https?|mailto):[^<>\s|]+)(?:\|[^<>]*)?>|&(?:amp|lt|gt);"
)
_CONTROL = re.compile(r"[&<>]")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">"}


def escape(text: str) -> str:
    """Raw text (a modal's input) as Slack writes text: its three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Chat text back to what a person typed, for pre-filling a text input (markup is kept)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def as_mrkdwn(text: str) -> str:
    """People's text, safe to show in mrkdwn: mentions, channel links, links and entities are kept (text
    from commands and messages arrives escaped), broadcasts and user-group mentions are shown as inert
    text, and any other `&`, `<`, `>` (from modal inputs) is escaped."""
    out: list[str] = []
    last = 0
    for match in _SLACK_MARKUP.finditer(text):
        out.append(_CONTROL.sub(lambda c: _ENTITIES_REVERSE[c.group(0)], text[last : match.start()]))
        token = match.group(0)
        out.append(_inert(token) if _SPECIAL.fullmatch(token) else token)
        last = match.end()
    out.append(_CONTROL.sub(lambda c: _ENTITIES_REVERSE[c.group(0)], text[last:]))
    return "".join(out)


# Special mentions other than dates: @here, @channel, @everyone, user groups (<!subteam^…>) and any
# other <!…> Slack may read as a ping. Only the bot's own SEV-1 escalation may notify a whole channel.
_SPECIAL = re.compile(r"<!(?!date\^)[^<>]*>")


def _inert(token: str) -> str:
    """A special mention as a reader would say it (`@here`, `@oncall`), with nothing Slack would turn into a ping."""
    target, _, label = token[2:-1].partition("|")
    name = (label or target.split("^")[0]).lstrip("@").strip() or "mention"
    return "@" + escape(name)


def without_broadcasts(text: str) -> str:
    """Any text the bot posts, with every broadcast and user-group mention made inert (nothing else changes)."""
    return _SPECIAL.sub(lambda match: _inert(match.group(0)), text)


def has_broadcast(text: str) -> bool:
    """Whether `text` would notify a whole channel or a user group."""
    return _SPECIAL.search(text) is not None


_ENTITIES_REVERSE = {value: key for key, value in _ENTITIES.items()}


def as_plain(text: str) -> str:
    """People's text for plain_text fields (headers, options): markup shown as a reader would say it."""

    def readable(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in _ENTITIES:
            return _ENTITIES[token]
        target, _, label = token[1:-1].partition("|")
        if target.startswith(("@", "#")):
            return target[0] + (label or target[1:])
        if target.startswith("!"):
            return label or "@" + target[1:].split("^")[0]
        return label or target

    return _SLACK_MARKUP.sub(readable, text)


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
