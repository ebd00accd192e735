"""Block Kit for the Home tab (at most 100 blocks: the items are paged)."""

from __future__ import annotations

from typing import Any

from bot.core.home import NUMBERS_DAYS, HomeView
from bot.core.models import Incident
from bot.slack.blocks import Block, mrkdwn_section, plain
from bot.slack.reminder_blocks import item_buttons, item_line
from bot.slack.text import as_mrkdwn, clip, humanize_age

HOME_PAGE = "home_page"


def home_view(view: HomeView) -> dict[str, Any]:
    return {"type": "home", "blocks": home_blocks(view)}


def home_blocks(view: HomeView) -> list[Block]:
    blocks: list[Block] = [_header("Your open action items")]
    if not view.items:
        blocks.append(mrkdwn_section("_Nothing open: every action item you own is done._ :tada:"))
    else:
        counted = f"{view.total_items} open, oldest first" + (
            f" · page {view.page + 1} of {view.pages}" if view.pages > 1 else ""
        )
        blocks.append(_context(counted))
        for index, item in enumerate(view.items):
            blocks += [
                mrkdwn_section(item_line(item, view.now, view.rca_links)),
                {"type": "actions", "block_id": f"home_item_{index}", "elements": item_buttons(item)},
            ]
        if view.pages > 1:
            blocks.append(_pager(view))
    blocks += [{"type": "divider"}, _header("Open incidents")]
    if view.open_incidents:
        blocks += [mrkdwn_section(_incident_line(i, view)) for i in view.open_incidents]
    else:
        blocks.append(mrkdwn_section("_No open incidents._"))
    if view.resolved:
        blocks += [{"type": "divider"}, _header("Your recent incidents")]
        blocks += [mrkdwn_section(_resolved_line(i, view)) for i in view.resolved]
    if view.numbers is not None:
        blocks += [{"type": "divider"}, _header(f"The last {NUMBERS_DAYS} days"), mrkdwn_section(numbers_text(view))]
        blocks.append(_context("The bot's incidents and the docs repo's, as of the last pull · `incident-bot stats`"))
    return blocks


def numbers_text(view: HomeView) -> str:
    """The last days' numbers in a few lines: counts and durations only, so nothing private shows."""
    report = view.numbers
    if report is None:
        return ""
    from bot.core.stats_facts import format_minutes  # with the numbers: a tab without them needs none of it

    totals, items = report.totals, report.action_items
    levels = " · ".join(f"{level} {row.count}" for level, row in report.by_level.items())
    lines = [f"*{totals.incidents} incident(s)*: {levels}" + (f" ({totals.private} private)" if totals.private else "")]
    resolved = [
        f"{level} {format_minutes(row.resolve_minutes_median)}"
        for level, row in report.by_level.items()
        if row.resolved
    ]
    if resolved:
        lines.append("Median time to resolve: " + " · ".join(resolved))
    updates = [
        f"{level} {format_minutes(row.first_update_minutes_median)}"
        for level, row in report.by_level.items()
        if row.first_update
    ]
    if updates:
        lines.append("Median time to the first status update: " + " · ".join(updates))
    rate = f" ({items.completion_rate:.0%} done)" if items.completion_rate is not None else ""
    overdue = sum(owner.count for owner in report.overdue)
    lines.append(
        f"Action items: {items.opened} opened, {items.done} done{rate}, {items.open} open · {overdue} overdue · "
        f"{len(report.missing_rca)} incident(s) without the RCA their level requires"
    )
    return clip("\n".join(lines), 3000)


def _header(text: str) -> Block:
    return {"type": "header", "text": plain(text, 150)}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, 3000)}]}


def _pager(view: HomeView) -> Block:
    elements = []
    if view.page > 0:
        elements.append(
            {"type": "button", "action_id": f"{HOME_PAGE}_newer", "text": plain("‹ Newer"), "value": str(view.page - 1)}
        )
    if view.page < view.pages - 1:
        elements.append(
            {"type": "button", "action_id": f"{HOME_PAGE}_older", "text": plain("Older ›"), "value": str(view.page + 1)}
        )
    return {"type": "actions", "block_id": "home_pager", "elements": elements}


def _incident_line(incident: Incident, view: HomeView) -> str:
    where = f" · <#{incident.room_id}>" if incident.room_id else ""
    lock = " :lock:" if incident.private else ""
    age = humanize_age(incident.age(view.now).total_seconds())
    return clip(f"*{incident.severity}* {as_mrkdwn(clip(incident.title, 200))}{lock} · open {age}{where}", 3000)


def _resolved_line(incident: Incident, view: HomeView) -> str:
    link = view.rca_links.get(incident.rca_path or "")
    rca = f" · <{link}|RCA>" if link else (f" · `{incident.rca_path}`" if incident.rca_path else "")
    when = (
        f" · resolved {humanize_age((view.now - incident.resolved_at).total_seconds())} ago"
        if incident.resolved_at
        else ""
    )
    return clip(f"*{incident.severity}* {as_mrkdwn(clip(incident.title, 200))}{when}{rca}", 3000)
