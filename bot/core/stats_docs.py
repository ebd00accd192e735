"""What the docs repo says about past incidents, for the numbers: an RCA's times and action items, the
runbook's Incident History rows and fleet-status.md's incident entries, bot-made or hand-written.

Each reader keeps only what a line states: a row without a time gives a day, an entry without an end
gives no resolve time, so the numbers can say what could not be determined.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import PurePosixPath
from typing import Protocol
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.markdown import cell_text, split_table_row
from bot.core.models import ActionStatus, Severity
from bot.core.open_items import rca_date
from bot.core.rca_parse import parse_action_status, parse_rca

_STAMP = re.compile(
    r"\b(?P<what>declared|started|detected|began|date|occurred|resolved|ended|fixed|mitigated)\b\**\s*:?\s*\**:?\s*"
    r"(?P<day>[0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T]+(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2}))?"
    r"(?:[ \t]*(?P<zone>[A-Za-z][\w/+-]*))?",
    re.IGNORECASE,
)
_ANY_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_START_WORDS = frozenset({"declared", "started", "detected", "began", "date", "occurred"})
_HISTORY_HEADING = re.compile(r"^##\s+Incident History\s*#*\s*$", re.IGNORECASE)
_ANY_HEADING = re.compile(r"^\s{0,3}#{1,6}(?:\s|$)")
_DELIMITER = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_LEVEL = re.compile(r"^\s*sev[-_ ]?([0-9]{1,2})\s*$", re.IGNORECASE)
_FLEET = re.compile(
    r"^\s{0,3}[-*+]\s+(?:\[[^\]]*\]\s*)?\*\*INCIDENT\s*[—–-]+\s*(?P<level>SEV-?[0-9]{1,2})\s+(?P<title>.*)"
    r"\s+\((?P<when>[^()]*)\)\.?\*\*",
    re.IGNORECASE,
)
_FULL_RCA = re.compile(r"Full RCA:\s*`([^`]+)`")
_WHEN = re.compile(
    r"^\s*(?P<d1>[0-9]{4}-[0-9]{2}-[0-9]{2})(?:\s+(?P<t1>[0-9]{1,2}:[0-9]{2}))?(?:\s*(?P<z1>[A-Za-z][\w/+-]*))?"
    r"\s*(?:[—–-]\s*(?:(?P<d2>[0-9]{4}-[0-9]{2}-[0-9]{2})\s+)?(?P<t2>[0-9]{1,2}:[0-9]{2})?"
    r"\s*(?P<z2>[A-Za-z][\w/+-]*)?)?\s*$"
)
_ONGOING = "ongoing"
# A plain Action items table, and the title, severity and owner cells as `bot.core.rca_parse` reads them
# (tests/core/test_stats_docs.py checks that both readers agree).
_ACTIONS_AT = re.compile(r"^##[ \t]+Action items[ \t]*#*[ \t]*$", re.IGNORECASE | re.MULTILINE)
_NEXT_HEADING = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)", re.MULTILINE)
_CELL_MARKUP = ("\\", "`", "<", "&")
_PLAIN_HEADER = ["#", "Action", "Owner", "Status"]
_TITLE = re.compile(r"^#\s+(?:RCA:\s*)?(.*?)\s*#*\s*$")
_TITLE_LINE = re.compile(r"^#\s.*$", re.MULTILINE)
# rca_parse's `severity:?\**:?\s*\**\s*SEV-?…` read line by line, here over the header at once.
_SEVERITY_IN_LINE = re.compile(r"severity:?\**:?[ \t\f\v]*\**[ \t\f\v]*SEV-?([1-9][0-9]?)\b", re.IGNORECASE)
_OWNER_WITH_ID = re.compile(r"^(?P<name>.*?)\s*\((?P<id>[UW][A-Z0-9]{2,})\)$")
_OWNER_ID_ONLY = re.compile(r"^@(?P<id>[UW][A-Z0-9]{2,})$")


@dataclass(frozen=True)
class RowFacts:
    """A row of an RCA's Action items table, as far as the numbers need it."""

    number: int
    owner: str
    owner_id: str | None
    status: ActionStatus


@dataclass(frozen=True)
class RcaFacts:
    """An RCA file as the numbers see it; `declared`/`resolved` are exact moments (UTC) when it gives them."""

    path: str
    title: str | None
    level: Severity | None
    declared: datetime | None
    declared_on: date | None
    resolved: datetime | None
    rows: tuple[RowFacts, ...]


class FactsCache(Protocol):
    """Parsed RCAs kept between runs, by (path, blob id), so an unchanged file is not read or parsed again."""

    def load(self) -> dict[tuple[str, str], RcaFacts]: ...
    def save(self, facts: Mapping[tuple[str, str], RcaFacts]) -> None: ...


@dataclass(frozen=True)
class HistoryRow:
    """A row of the runbook's Incident History table (`Date | SEV | Summary | RCA`)."""

    line: int
    day: date | None
    level: Severity | None
    summary: str
    rca: str | None  # the repo path its RCA cell links to


@dataclass(frozen=True)
class FleetEntry:
    """A `- [system] **INCIDENT — SEV-2 <title> (<time range>).**` entry of fleet-status.md."""

    line: int
    level: Severity
    title: str
    declared: datetime | None
    declared_on: date | None
    resolved: datetime | None
    rca: str | None


def rca_facts(*, path: str, text: str, tz: str) -> RcaFacts:
    """The level, title, declared and resolved moments and action items an RCA states (times without a zone
    are read in `tz`)."""
    plain = _plain_rca(text)
    if plain is None:
        parsed = parse_rca(text)
        rows = tuple(RowFacts(r.number, r.owner, r.owner_id, r.status) for r in parsed.action_items)
        plain = (parsed.title, parsed.severity, rows)
    title, level, rows = plain
    declared: datetime | None = None
    declared_on: date | None = None
    resolved: datetime | None = None
    zone = _zone(tz, UTC)
    header = _header(text)
    dated = [line for line in header if _ANY_DATE.search(line)]
    for line in dated:  # most header lines hold no date: no need for the longer pattern
        for match in _STAMP.finditer(line):
            moment, day = _moment(match, zone)
            if match.group("what").lower() in _START_WORDS:
                if declared is None and moment is not None:
                    declared = moment
                declared_on = declared_on or day
            elif resolved is None and moment is not None:
                resolved = moment
    if declared is not None:
        declared_on = declared.astimezone(zone).date()
    return RcaFacts(
        path=path,
        title=title,
        level=level,
        declared=declared,
        declared_on=declared_on or rca_date(path),
        resolved=resolved if declared is None or resolved is None or resolved >= declared else None,
        rows=rows,
    )


def history_rows(text: str, *, runbook_path: str) -> list[HistoryRow]:
    """The rows of the runbook's `## Incident History` table; links are read as paths inside the repo."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    heading = next((i for i, line in enumerate(lines) if _HISTORY_HEADING.match(line)), None)
    if heading is None:
        return []
    end = next((i for i in range(heading + 1, len(lines)) if _ANY_HEADING.match(lines[i])), len(lines))
    start = next((i for i in range(heading + 1, end) if split_table_row(lines[i])), None)
    if start is None:
        return []
    header = [cell_text(lines[start][a:b]).lower() for a, b in split_table_row(lines[start]) or []]
    columns = {name: _column(header, name) for name in ("date", "sev", "summary", "rca")}
    rows: list[HistoryRow] = []
    for index in range(start + 1, end):
        line = lines[index]
        spans = split_table_row(line)
        if not spans:
            if line.strip():
                break
            continue
        if _DELIMITER.match(line):
            continue
        cells = [line[a:b] for a, b in spans]

        def cell(name: str, cells: list[str] = cells) -> str:
            position = columns[name]
            return cells[position] if position is not None and position < len(cells) else ""

        rows.append(
            HistoryRow(
                line=index + 1,
                day=_day(cell_text(cell("date"))),
                level=_level(cell_text(cell("sev"))),
                summary=cell_text(cell("summary")),
                rca=_linked_path(cell("rca"), runbook_path),
            )
        )
    return rows


def fleet_entries(text: str, *, tz: str) -> list[FleetEntry]:
    """Every incident entry in fleet-status.md (the bot's and people's), with the times its range states."""
    zone = _zone(tz, UTC)
    found: list[FleetEntry] = []
    for index, line in enumerate(text.split("\n")):
        if "INCIDENT" not in line.upper():
            continue  # most lines are other activity: no regex needed
        match = _FLEET.match(line.rstrip("\r"))
        if match is None:
            continue
        level = _level(match.group("level"))
        if level is None:
            continue
        declared, declared_on, resolved = _time_range(match.group("when"), zone)
        rca = _FULL_RCA.search(line)
        found.append(
            FleetEntry(
                line=index + 1,
                level=level,
                title=cell_text(match.group("title")),
                declared=declared,
                declared_on=declared_on,
                resolved=resolved,
                rca=rca.group(1).strip() if rca else None,
            )
        )
    return found


def _plain_rca(text: str) -> tuple[str | None, Severity | None, tuple[RowFacts, ...]] | None:
    """What `parse_rca` reads from an RCA whose Action items table is plain (the bot's, and most people's),
    read without its general machinery; None for anything else, which `parse_rca` then reads.

    The numbers read every RCA of the repo on each run, and a plain table is read ten times faster so.
    """
    if "\r" in text:
        return None
    plain = text.find("\n## Action items\n")  # the bot's own heading: found without a regex
    heading = _ACTIONS_AT.search(text, plain + 1) if plain >= 0 else _ACTIONS_AT.search(text)
    if heading is None:
        return None
    after = _NEXT_HEADING.search(text, heading.end())
    section = text[heading.end() : after.start() if after else len(text)]
    if any(mark in section for mark in _CELL_MARKUP):
        return None  # escapes, code, entities or <br>: cells need the full reader
    lines = section.split("\n")
    at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if at is None or not lines[at].startswith("|") or _cells(lines[at]) != _PLAIN_HEADER:
        return None
    if at + 1 >= len(lines) or not _DELIMITER.match(lines[at + 1]):
        return None
    rows: list[RowFacts] = []
    seen: set[int] = set()
    index = at + 2
    while index < len(lines) and lines[index].startswith("|"):
        cells = _cells(lines[index])
        if cells is None or len(cells) != len(_PLAIN_HEADER) or not cells[0].isdigit():
            return None
        number, status = int(cells[0]), _status(cells[3])
        if status is None or number in seen:
            return None
        seen.add(number)
        owner = cells[2]
        with_id = _OWNER_WITH_ID.match(owner) or _OWNER_ID_ONLY.match(owner) if "(" in owner or "@" in owner else None
        name = (with_id.groupdict().get("name") or owner) if with_id else owner
        rows.append(RowFacts(number, name, with_id.group("id") if with_id else None, status))
        index += 1
    if any(line.strip() for line in lines[index:]):
        return None  # a blank line inside the table, or text after it: the full reader reports it
    header = _header(text[: heading.start()])
    title_at = _TITLE_LINE.search(text)
    title = _TITLE.match(title_at.group(0)) if title_at else None
    found = _SEVERITY_IN_LINE.search("\n".join(header))
    severity = found.group(1) if found else None
    return (
        cell_text(title.group(1)) if title and title.group(1) else None,
        Severity(f"SEV-{severity}") if severity else None,
        tuple(rows),
    )


@functools.cache
def _status(text: str) -> ActionStatus | None:
    return parse_action_status(text)  # a handful of spellings, read thousands of times


def _cells(line: str) -> list[str] | None:
    body = line.rstrip()
    if len(body) < 2 or not body.endswith("|"):
        return None
    return [cell.strip() for cell in body[1:-1].split("|")]


def _header(text: str) -> list[str]:
    """The lines before the first `##` section: where RCAs state their level and times."""
    lines: list[str] = []
    for line in text.split("\n"):
        if line.startswith("## "):
            break
        lines.append(line)
    return lines


def _moment(match: re.Match[str], default: tzinfo) -> tuple[datetime | None, date | None]:
    day = _day(match.group("day"))
    if day is None or match.group("hour") is None:
        return None, day
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    if hour > 23 or minute > 59:
        return None, day
    zone = _zone(match.group("zone"), default)
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC), day


def _time_range(when: str, zone: tzinfo) -> tuple[datetime | None, date | None, datetime | None]:
    """`2026-02-23 06:10–08:45 UTC`, `… 22:10 – 2026-02-24 01:45 UTC`, `… 06:10 UTC – ongoing`, or a day."""
    match = _WHEN.match(when)
    if match is None:
        day = _day(when.strip()[:10])
        return None, day, None
    first_day = _day(match.group("d1"))
    ongoing = (match.group("z2") or "").lower() == _ONGOING or (match.group("z1") or "").lower() == _ONGOING
    named = next((z for z in (match.group("z2"), match.group("z1")) if z and z.lower() != _ONGOING), None)
    here = _zone(named, zone)
    start = _at(first_day, match.group("t1"), here)
    if start is None or ongoing or match.group("t2") is None:
        return start, first_day, None
    end = _at(_day(match.group("d2")) or first_day, match.group("t2"), here)
    if end is not None and end < start and match.group("d2") is None:
        end += timedelta(days=1)  # `23:50–00:20`: past midnight
    return start, first_day, end if end is not None and end >= start else None


def _at(day: date | None, clock: str | None, zone: tzinfo) -> datetime | None:
    if day is None or clock is None:
        return None
    hour, _, minute = clock.partition(":")
    if int(hour) > 23 or int(minute) > 59:
        return None
    return datetime.combine(day, time(int(hour), int(minute)), tzinfo=zone).astimezone(UTC)


def _zone(name: str | None, default: tzinfo) -> tzinfo:
    if not name:
        return default
    if name.upper() in ("UTC", "GMT", "Z", "ETC/UTC"):
        return UTC
    if "/" not in name:
        return default  # a word after the time ("and", "CET"): not a zone this reader can trust
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return default


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _level(text: str) -> Severity | None:
    match = _LEVEL.match(text)
    return Severity(f"SEV-{int(match.group(1))}") if match and int(match.group(1)) >= 1 else None


def _column(header: list[str], name: str) -> int | None:
    return next((i for i, cell in enumerate(header) if cell.startswith(name)), None)


def _linked_path(cell: str, from_file: str) -> str | None:
    """The repo path a Markdown link in `cell` points at, relative to `from_file` (None: no local link)."""
    match = _LINK.search(cell)
    if match is None:
        return None
    target = unquote(match.group(1).split("#", 1)[0])
    if not target or "://" in target or target.startswith(("mailto:", "/")):
        return None
    parts: list[str] = list(PurePosixPath(from_file).parent.parts)
    for part in PurePosixPath(target).parts:
        if part == "..":
            if not parts:
                return None  # leaves the repo
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts) or None
