"""The RCA the runbook asks for: render the draft, name its file, and write the fleet-status line.

Editing fleet-status.md and the runbook's history table lives in `bot.core.doc_updates`, reading
RCAs back in `bot.core.rca_parse`; both are re-exported here so callers need one import.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.doc_updates import add_history_row, insert_fleet_status_entry, relative_link
from bot.core.errors import InvalidInput
from bot.core.markdown import link_cell, markdown_inline, slack_table_cell, slack_to_markdown, table_cell
from bot.core.models import ActionItem, Incident, TimelineEntry, TimelineLine
from bot.core.naming import slugify
from bot.core.roles import COMMANDER, DEFAULT_ROLES, Role, commander_first
from bot.core.status_updates import timeline_text

if TYPE_CHECKING:
    import jinja2

from bot.core.rca_parse import (
    ActionRow,
    ParsedRca,
    RcaEditError,
    RcaProblem,
    parse_action_status,
    parse_rca,
    set_action_status,
)

__all__ = [
    "RCA_TEMPLATE",
    "ActionRow",
    "ParsedRca",
    "RcaEditError",
    "RcaProblem",
    "add_history_row",
    "fleet_status_line",
    "insert_fleet_status_entry",
    "owner_markdown",
    "parse_action_status",
    "parse_rca",
    "rca_environment",
    "rca_filename",
    "relative_link",
    "render_rca",
    "safe_join",
    "set_action_status",
    "time_range",
    "zone_for",
]

RCA_TEMPLATE = "rca.md.j2"
PLACEHOLDER = "_TBD_"
MAX_SLUG = 60


def rca_environment(loader: jinja2.BaseLoader) -> jinja2.Environment:
    """The Jinja environment RCA templates render in: Markdown (no HTML escaping), every variable required."""
    import jinja2

    # HTML autoescaping would mangle Markdown; people's text is escaped for Markdown before rendering.
    return jinja2.Environment(
        loader=loader,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_rca(
    *,
    incident: Incident,
    timeline: Sequence[TimelineEntry | TimelineLine],
    action_items: Sequence[ActionItem],
    names: Mapping[str, str],
    summary: str = "",
    root_causes: str = "",
    resolution: str = "",
    lessons: str = "",
    tz: str = "UTC",
    resolved_at: datetime | None = None,
    templates: jinja2.Environment,
    roles: Sequence[Role] = DEFAULT_ROLES,
) -> str:
    """The RCA draft as Markdown, from the `rca.md.j2` that `templates` finds first.

    `roles` names and orders the roles; the header names each one that somebody held.
    """
    zone = zone_for(tz)
    resolved = resolved_at or incident.resolved_at
    entries = sorted(timeline, key=lambda entry: (_utc(entry.occurred_at), entry.id or 0))
    # Per-entry work is done once per entry (a timeline may have 10,000), and once per author.
    local_times = [_local(entry.occurred_at, zone) for entry in entries]
    days = {moment.date() for moment in local_times}
    days.update(_local(moment, zone).date() for moment in (incident.declared_at, resolved) if moment)
    with_date = len(days) > 1
    authors: dict[str, str] = {}
    context = {
        "title": markdown_inline(incident.title, names),
        "severity": incident.severity.value,
        "declared": _stamp(incident.declared_at, zone, tz),
        "resolved": _stamp(resolved, zone, tz) if resolved else PLACEHOLDER,
        "commander": markdown_inline(_display_name(incident.commander_id, names)),
        "roles": _role_holders(incident, roles, names),
        "summary": slack_to_markdown(summary, names) if summary.strip() else "",
        "zone": tz,
        "time_header": table_cell(f"Time ({tz})"),
        "timeline": [
            _Row(
                time=_clock(moment, with_date=with_date),
                author=_author_cell(entry.author_id, names, authors) if entry.author_id else "",
                event=slack_table_cell(timeline_text(entry), names),
                link=link_cell(entry.permalink, "link") if entry.permalink else "",
            )
            for entry, moment in zip(entries, local_times, strict=True)
        ],
        "root_causes": _section(root_causes, names),
        "resolution": _section(resolution, names),
        "lessons": _section(lessons, names),
        "action_items": [
            {
                "number": str(item.number),
                "action": slack_table_cell(item.action, names),
                "owner": owner_markdown(item, names),
                "status": item.status.value,
            }
            for item in sorted(action_items, key=lambda item: item.number)
        ],
    }
    # Values are passed as data, never compiled, so `{{ }}` in what people wrote stays text.
    rendered = templates.get_template(RCA_TEMPLATE).render(context)
    return rendered.rstrip("\n") + "\n"


class _Row(dict[str, str]):
    """A template row: `row.time` and `row["time"]` both work, and the first finds its value at once
    (Jinja tries an attribute before an item, and a plain dict's failed attribute lookup, once per cell
    of a 10,000-row timeline, costs more than the rest of the template)."""

    def __init__(self, **cells: str) -> None:
        super().__init__(cells)
        self.__dict__ = cells


def owner_markdown(item: ActionItem, names: Mapping[str, str]) -> str:
    """The Owner cell: `@alice (U123)` for a Slack user, so people read a name and the bot an id."""
    if item.owner_id:
        name = names.get(item.owner_id)
        shown = f"@{_bare(name)} ({item.owner_id})" if name else f"@{item.owner_id}"
        return table_cell(shown)
    return table_cell(item.owner_label)


def fleet_status_line(
    *,
    incident: Incident,
    summary: str,
    rca_path: str | None,
    tz: str = "UTC",
    names: Mapping[str, str] | None = None,
) -> str:
    """The runbook's `- [system] **INCIDENT — …**` entry for fleet-status.md's Recent Activity."""
    title = markdown_inline(incident.title, names or {})
    when = time_range(incident.declared_at, incident.resolved_at, tz=tz)
    line = f"- [system] **INCIDENT — {incident.severity.value} {title} ({when}).**"
    sentence = markdown_inline(summary, names or {}).rstrip(". ")
    if sentence:
        # A summary ending in ? or ! already ends its sentence; anything else gets exactly one period.
        line += f" {sentence}" + ("" if sentence.endswith(("?", "!")) else ".")
    if rca_path:
        line += f" Full RCA: `{rca_path.replace('`', '')}`"
    return line


def time_range(start: datetime, end: datetime | None, *, tz: str = "UTC") -> str:
    """`2026-02-23 06:10–08:45 UTC` within a day, `… 22:10 – 2026-02-24 01:45 UTC` across days."""
    zone = zone_for(tz)
    first = _local(start, zone)
    if end is None:
        return f"{first:%Y-%m-%d %H:%M} {tz} – ongoing"
    last = _local(end, zone)
    if first.date() == last.date():
        return f"{first:%Y-%m-%d %H:%M}–{last:%H:%M} {tz}"
    return f"{first:%Y-%m-%d %H:%M} – {last:%Y-%m-%d %H:%M} {tz}"


def rca_filename(*, declared_on: date, title: str, taken: Collection[str]) -> str:
    """`YYYY-MM-DD-<slug>-rca.md`, with `-2`, `-3`, … before `-rca.md` when the name is taken."""
    slug = slugify(title)[:MAX_SLUG].rstrip("-") or "incident"
    base = f"{declared_on:%Y-%m-%d}-{slug}"
    name, attempt = f"{base}-rca.md", 1
    while name in taken:
        attempt += 1
        name = f"{base}-{attempt}-rca.md"
    return name


def safe_join(incidents_dir: str, filename: str) -> str:
    """`incidents_dir/filename` as a posix path; ValueError for anything that could leave the folder."""
    path = PurePosixPath(filename)
    escapes = (
        not filename
        or "\\" in filename
        or "\x00" in filename
        or re.match(r"^[A-Za-z]:", filename) is not None
        or path.is_absolute()
        or any(part in ("..", ".") for part in filename.split("/"))
    )
    if escapes:
        raise ValueError(f"{filename!r} is not a file name inside {incidents_dir}")
    return str(PurePosixPath(incidents_dir) / path)


def zone_for(tz: str) -> tzinfo:
    """The time zone named `tz` (an IANA name such as `Europe/Berlin`, or `UTC`)."""
    if tz.upper() in ("UTC", "ETC/UTC"):
        return UTC
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as error:
        message = f"{tz!r} is not a time zone I know; use an IANA name such as Europe/Berlin or UTC."
        raise InvalidInput(message, field="tz") from error


def _role_holders(incident: Incident, roles: Sequence[Role], names: Mapping[str, str]) -> list[dict[str, str]]:
    """Each role but the commander's that has a holder, in the team's order (a role no longer configured last)."""
    known = [role for role in commander_first(roles) if role.key != COMMANDER.key]
    keys = {role.key for role in known}
    known += [Role(key=key, label=key) for key in sorted(incident.roles) if key not in keys]
    return [
        {"label": markdown_inline(role.label), "holder": markdown_inline(_display_name(holder, names))}
        for role in known
        if (holder := incident.roles.get(role.key))
    ]


def _section(text: str, names: Mapping[str, str]) -> str:
    return slack_to_markdown(text, names).strip("\n") if text.strip() else PLACEHOLDER


def _display_name(user_id: str | None, names: Mapping[str, str]) -> str:
    if not user_id:
        return ""
    return f"@{_bare(names.get(user_id) or user_id)}"


def _author_cell(user_id: str, names: Mapping[str, str], cells: dict[str, str]) -> str:
    cell = cells.get(user_id)
    if cell is None:
        cell = cells[user_id] = table_cell(_display_name(user_id, names))
    return cell


def _clock(moment: datetime, *, with_date: bool) -> str:
    """`%H:%M` (`%Y-%m-%d %H:%M` with the date), without strftime's cost per timeline row."""
    if moment.year < 1000:
        return f"{moment:{'%Y-%m-%d %H:%M' if with_date else '%H:%M'}}"  # strftime does not pad such years
    if with_date:
        return f"{moment.year:04}-{moment.month:02}-{moment.day:02} {moment.hour:02}:{moment.minute:02}"
    return f"{moment.hour:02}:{moment.minute:02}"


def _bare(name: str) -> str:
    return " ".join(name.split()).lstrip("@")


def _utc(moment: datetime) -> datetime:
    # Stored times are UTC; a naive one is read as UTC rather than as the server's local time.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _local(moment: datetime, zone: tzinfo) -> datetime:
    return _utc(moment).astimezone(zone)


def _stamp(moment: datetime, zone: tzinfo, tz: str) -> str:
    return f"{_local(moment, zone):%Y-%m-%d %H:%M} {tz}"
