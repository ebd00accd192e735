"""Block Kit for action-item DMs and the daily briefing."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.core.models import ActionStatus, Incident
from bot.core.open_items import OpenItem
from bot.core.reminders import BriefingGroup
from bot.slack.blocks import Block, mrkdwn_section, plain
from bot.slack.text import as_mrkdwn, clip, humanize_age, user

MARK_DONE = "action_item_done"
MARK_IN_PROGRESS = "action_item_in_progress"
MAX_ITEMS_PER_MESSAGE = 20


def item_ref_value(item: OpenItem) -> str:
    """What a button needs to find the item again: the incident, or the hand-written RCA file (the server
    looks the item and its owner up again, so nothing else is put in a value a client could change)."""
    ref = {"n": item.number, "i": item.incident_id, "p": item.source if item.incident_id is None else None}
    return json.dumps(ref, separators=(",", ":"))[:2000]


def _where(item: OpenItem, rca_links: Mapping[str, str]) -> str:
    parts = []
    if item.source:
        link = rca_links.get(item.source)
        parts.append(f"<{link}|RCA>" if link else f"`{item.source}`")
    if item.room_id:
        parts.append(f"<#{item.room_id}>")
    return " · ".join(parts)


def item_line(item: OpenItem, now: datetime, rca_links: Mapping[str, str]) -> str:
    status = "" if item.status is ActionStatus.OPEN else f" _({item.status.value})_"
    where = _where(item, rca_links)
    return clip(
        f"*#{item.number}* {as_mrkdwn(item.action)}{status}\n"
        f"{as_mrkdwn(clip(item.incident_title, 200))} · open {humanize_age(item.age(now).total_seconds())}"
        + (f" · {where}" if where else ""),
        3000,
    )


def item_buttons(item: OpenItem) -> list[dict[str, Any]]:
    """Mark done, and In progress unless it already is."""
    value = item_ref_value(item)
    buttons: list[dict[str, Any]] = [
        {"type": "button", "action_id": MARK_DONE, "text": plain("Mark done"), "value": value, "style": "primary"}
    ]
    if item.status is not ActionStatus.IN_PROGRESS:
        buttons.append({"type": "button", "action_id": MARK_IN_PROGRESS, "text": plain("In progress"), "value": value})
    return buttons


def action_items_blocks(
    items: Sequence[OpenItem], *, reason: str, now: datetime, rca_links: Mapping[str, str]
) -> list[Block]:
    """One DM: the owner's open items, oldest first, each with Mark done / In progress."""
    if reason == "resolved":
        intro = f"*{as_mrkdwn(clip(items[0].incident_title, 300))}* is resolved. You own these open action items:"
    else:
        intro = f":bell: Your open incident action items ({len(items)}), oldest first:"
    blocks: list[Block] = [mrkdwn_section(intro)]
    for index, item in enumerate(items[:MAX_ITEMS_PER_MESSAGE]):
        section = mrkdwn_section(item_line(item, now, rca_links))
        blocks += [section, {"type": "actions", "block_id": f"item_{index}", "elements": item_buttons(item)}]
    if len(items) > MAX_ITEMS_PER_MESSAGE:
        blocks.append(
            mrkdwn_section(f"_…and {len(items) - MAX_ITEMS_PER_MESSAGE} more: the bot's *Home* tab lists them all._")
        )
    return blocks


def action_items_text(items: Sequence[OpenItem], *, reason: str) -> str:
    if reason == "resolved":
        return f"{as_mrkdwn(clip(items[0].incident_title, 300))} is resolved: you own {len(items)} open action item(s)."
    return f"You have {len(items)} open incident action item(s)."


def briefing_text(
    groups: Sequence[BriefingGroup],
    missing: Sequence[Incident],
    *,
    now: datetime,
    rca_links: Mapping[str, str],
    guide_problems: Sequence[str] = (),
) -> str:
    """The Manager's daily briefing: every unresolved incident action item, tagged 🔔."""
    warning = _guide_warning(guide_problems)
    if not groups and not missing:
        done = ":white_check_mark: Daily incident briefing: no open incident action items, every RCA is written."
        return f"{done}\n{warning}" if warning else done
    lines = ["*Daily incident briefing*"]
    if warning:
        lines.append(warning)
    for group in groups:
        head = as_mrkdwn(clip(group.incident_title, 200))
        link = rca_links.get(group.source or "")
        lines.append(f"\n*{head}*" + (f" (<{link}|RCA>)" if link else f" (`{group.source}`)" if group.source else ""))
        for item in group.items:
            owner = user(item.owner_id) if item.owner_id else f"unassigned ({as_mrkdwn(item.owner or 'no owner')})"
            late = " :warning: past response time" if item.overdue(now) else ""
            lines.append(
                f"🔔 #{item.number} {as_mrkdwn(clip(item.action, 300))} — {owner} · {item.status.value} · "
                f"{humanize_age(item.age(now).total_seconds())}{late}"
            )
    if missing:
        lines.append("\n*Resolved without an RCA in the docs repo*")
        for incident in missing:
            lines.append(f"🔔 {incident.severity} {as_mrkdwn(clip(incident.title, 200))} — resolved, RCA missing")
    return "\n".join(lines)


def _guide_warning(problems: Sequence[str]) -> str:
    """The runbook's Severity Guide that cannot be read, where: someone has to fix the table."""
    if not problems:
        return ""
    where = "; ".join(as_mrkdwn(clip(problem, 300)) for problem in problems[:5])
    return f":warning: The runbook's Severity Guide cannot be read, so I keep the last good levels: {where}"
