"""The RCA the runbook asks for: render the draft, name its file, and write the fleet-status line.

Editing fleet-status.md and the runbook's history table lives in `bot.core.doc_updates`, reading
RCAs back in `bot.core.rca_parse`; both are re-exported here so callers need one import.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from operator import itemgetter
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.doc_updates import add_history_row, insert_fleet_status_entry, relative_link
from bot.core.errors import InvalidInput
from bot.core.markdown import (
    link_cell,
    markdown_inline,
    mentioned_user_ids,
    slack_table_cell,
    slack_to_markdown,
    table_cell,
)
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
    "TimelineTable",
    "add_history_row",
    "fleet_status_line",
    "insert_fleet_status_entry",
    "make_timeline_table",
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
    "timeline_user_ids",
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
    made: TimelineTable | None = None,
) -> str:
    """The RCA draft as Markdown, from the `rca.md.j2` that `templates` finds first.

    `roles` names and orders the roles; the header names each one that somebody held. `made`: rows made
    earlier for some of the timeline's entries (by id), used when they were made in `tz` with these names.
    """
    zone = zone_for(tz)
    resolved = resolved_at or incident.resolved_at
    ends = [moment for moment in (incident.declared_at, resolved) if moment]
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
        "timeline": _timeline_rows(timeline, names, tz=tz, zone=zone, ends=ends, made=made),
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


def timeline_user_ids(timeline: Iterable[TimelineEntry | TimelineLine]) -> set[str]:
    """Everyone the timeline's rows name: the entries' authors and the people their text mentions."""
    ids: set[str] = set()
    for entry in timeline:
        if entry.author_id:
            ids.add(entry.author_id)
        if "<@" in entry.text:
            ids |= mentioned_user_ids(entry.text)
    return ids


# One entry's row as a table keeps it: (its place in the order, its local day and time, the row).
_Made = tuple[tuple[datetime, int], date, datetime, "_Row"]


@dataclass(frozen=True)
class TimelineTable:
    """The RCA's timeline rows, made ahead of a render for the entries of a timeline (a resolve form has them
    made while people fill it in: on a long timeline the rows are most of the render's work).

    A render reuses the row of each entry it has by id, when the table was made in the render's zone and
    each name its rows show is still the name the render has; whoever keeps a table must know that the
    entries it was made from have not changed since (the timeline's edit count, `TimelineRepo.edits`).
    """

    tz: str
    # The names the rows were made with, for everyone they name (None: the name was not known).
    names: Mapping[str, str | None]
    rows: Mapping[int, _Made]
    # Whether the rows' times show the date (they do when the entries span days).
    with_date: bool

    def fits(self, tz: str, names: Mapping[str, str]) -> bool:
        return tz == self.tz and all(names.get(user_id) == name for user_id, name in self.names.items())


def make_timeline_table(
    timeline: Sequence[TimelineEntry | TimelineLine], names: Mapping[str, str], *, tz: str
) -> TimelineTable:
    """The rows of `timeline` (its entries that have an id), made in `tz` with `names`."""
    zone = zone_for(tz)
    entries = [entry for entry in timeline if entry.id is not None]
    moments = [_local(entry.occurred_at, zone) for entry in entries]
    with_date = len({moment.date() for moment in moments}) > 1
    authors: dict[str, str] = {}
    rows = {
        made[0][1]: made
        for made in (
            _made(entry, moment, _row(entry, moment, names, authors, with_date))
            for entry, moment in zip(entries, moments, strict=True)
        )
    }
    shown = {user_id: names.get(user_id) for user_id in timeline_user_ids(entries)}
    return TimelineTable(tz=tz, names=shown, rows=rows, with_date=with_date)


def _timeline_rows(
    timeline: Sequence[TimelineEntry | TimelineLine],
    names: Mapping[str, str],
    *,
    tz: str,
    zone: tzinfo,
    ends: Sequence[datetime],
    made: TimelineTable | None,
) -> list[_Row]:
    """The timeline's rows in the order things happened, with the date in the time only when they span days."""
    ends_on = {_local(moment, zone).date() for moment in ends}
    # Per-entry work is done once per entry (a timeline may have 10,000), and once per author.
    authors: dict[str, str] = {}
    if made is None or not made.fits(tz, names):
        entries = sorted(timeline, key=lambda entry: (_utc(entry.occurred_at), entry.id or 0))
        moments = [_local(entry.occurred_at, zone) for entry in entries]
        with_date = len({moment.date() for moment in moments} | ends_on) > 1
        return [_row(entry, moment, names, authors, with_date) for entry, moment in zip(entries, moments, strict=True)]
    ready, made_with = made.rows, made.with_date
    rows: list[_Made] = []
    for entry in timeline:
        found = ready.get(entry.id) if entry.id is not None else None
        if found is None:
            moment = _local(entry.occurred_at, zone)
            found = _made(entry, moment, _row(entry, moment, names, authors, made_with))
        rows.append(found)
    rows.sort(key=itemgetter(0))
    with_date = len({row[1] for row in rows} | ends_on) > 1
    if with_date is made_with:
        return [row[3] for row in rows]
    return [_Row(**{**row[3], "time": _clock(row[2], with_date=with_date)}) for row in rows]


def _made(entry: TimelineEntry | TimelineLine, moment: datetime, row: _Row) -> _Made:
    return (_utc(entry.occurred_at), entry.id or 0), moment.date(), moment, row


def _row(
    entry: TimelineEntry | TimelineLine,
    moment: datetime,
    names: Mapping[str, str],
    authors: dict[str, str],
    with_date: bool,
) -> _Row:
    return _Row(
        time=_clock(moment, with_date=with_date),
        author=_author_cell(entry.author_id, names, authors) if entry.author_id else "",
        event=slack_table_cell(timeline_text(entry), names),
        link=link_cell(entry.permalink, "link") if entry.permalink else "",
    )


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
