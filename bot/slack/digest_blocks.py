"""The weekly digest as Slack text: the week's incidents by level, time to resolve and to the first status
update, action items, overdue owners and missing RCAs. Private incidents are counted, never titled."""

from __future__ import annotations

from bot.core.digest import Digest
from bot.core.stats import format_minutes
from bot.core.stats_report import IncidentOut, StatsReport
from bot.slack.text import as_mrkdwn, clip, user

MAX_LISTED = 10
DIGEST_LIMIT = 3500


def digest_text(digest: Digest) -> str:
    """The digest's message (mrkdwn, under Slack's section size)."""
    week, numbers = digest.week, digest.numbers
    totals = numbers.totals
    lines = [
        f"*Weekly incident digest*: {week.since:%d %b} – {week.until:%d %b %Y} ({numbers.timezone})",
        f"*{totals.incidents} incident(s)*: "
        + _levels(numbers)
        + (f" ({totals.private} private)" if totals.private else ""),
    ]
    resolved = [
        f"{level} {format_minutes(row.resolve_minutes_median)} / {format_minutes(row.resolve_minutes_p90)}"
        for level, row in numbers.by_level.items()
        if row.resolved
    ]
    if resolved:
        lines.append("Time to resolve (median / p90): " + " · ".join(resolved))
    updates = [
        f"{level} {format_minutes(row.first_update_minutes_median)}"
        for level, row in numbers.by_level.items()
        if row.first_update
    ]
    if updates:
        lines.append("Time to the first status update (median): " + " · ".join(updates))
    items = numbers.action_items
    if items.opened:
        rate = f", {items.completion_rate:.0%} done" if items.completion_rate is not None else ""
        lines.append(f"Their action items: {items.opened} opened, {items.done} done, {items.open} open{rate}")
    trend = digest.trend
    span = f"incidents of the {len(trend.by_week)} weeks to {week.until:%d %b}"
    if trend.overdue:
        owners = [
            f"{user(o.owner_id) if o.owner_id else as_mrkdwn(o.owner)} {o.count}" for o in trend.overdue[:MAX_LISTED]
        ]
        more = f" and {len(trend.overdue) - MAX_LISTED} more" if len(trend.overdue) > MAX_LISTED else ""
        lines.append(f":warning: Overdue action items ({span}): " + ", ".join(owners) + more)
    if trend.missing_rca:
        lines.append(f":memo: Without the RCA their level requires ({span}):")
        lines += [f"• {_incident(i)}" for i in trend.missing_rca[:MAX_LISTED]]
        if len(trend.missing_rca) > MAX_LISTED:
            lines.append(f"• …and {len(trend.missing_rca) - MAX_LISTED} more (`incident-bot stats`)")
    if not totals.incidents and not trend.overdue and not trend.missing_rca:
        lines.append(":white_check_mark: A quiet week: no incidents, nothing overdue, every RCA written.")
    return clip("\n".join(lines), DIGEST_LIMIT)


def _levels(report: StatsReport) -> str:
    return " · ".join(f"{level} {row.count}" for level, row in report.by_level.items())


def _incident(incident: IncidentOut) -> str:
    name = "private incident" if incident.private else as_mrkdwn(clip(incident.title or "untitled", 150))
    return f"{incident.level or 'SEV-?'} {name} ({incident.declared_on or 'no date'})"
