"""Open action items across bot-made and hand-written RCAs, and who owns them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

from bot.core.models import ActionItem, ActionStatus, Incident, Severity
from bot.core.rca_parse import ParsedRca, parse_rca

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_TRAILING_ID = re.compile(r"\(([UW][A-Z0-9]{2,})\)\s*$")
_FILE_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})-")


@dataclass(frozen=True)
class Person:
    """A workspace member, as far as matching owners and time zones go."""

    id: str
    name: str
    display_name: str = ""
    real_name: str = ""
    tz: str | None = None
    deleted: bool = False


@dataclass(frozen=True)
class OpenItem:
    """An action item that is not done, wherever it is written down."""

    source: str | None
    incident_id: int | None
    incident_title: str
    severity: Severity | None
    number: int
    action: str
    owner: str
    owner_id: str | None
    status: ActionStatus
    since: datetime
    room_id: str | None = None
    line: int | None = None

    def age(self, now: datetime) -> timedelta:
        return now - self.since

    def overdue(self, now: datetime) -> bool:
        """Past its incident's SEV response time (unknown severity: never)."""
        return self.severity is not None and self.age(now) > self.severity.info.response_window


@dataclass(frozen=True)
class FileProblem:
    path: str
    line: int
    message: str


@dataclass(frozen=True)
class OpenItems:
    items: list[OpenItem] = field(default_factory=list)
    problems: list[FileProblem] = field(default_factory=list)
    # Bot-made RCA rows whose status differs from the database: the file is the source of truth.
    status_changes: list[tuple[int, int, ActionStatus]] = field(default_factory=list)


def _key(text: str) -> str:
    return " ".join(text.strip().lstrip("@").split()).casefold()


_ATTRIBUTES = ("id", "display_name", "name", "real_name")


class Directory:
    """The workspace's people and OWNER_MAP, indexed once, for matching many Owner cells.

    Matching is a few dictionary lookups per cell, so a scan of 10,000 items among 2,000 people
    costs no more than reading them.
    """

    def __init__(self, people: Sequence[Person], owner_map: Mapping[str, str] | None = None) -> None:
        living = [person for person in people if not person.deleted]
        # A deleted user cannot be reminded: their items show as unassigned instead.
        self._gone = {person.id for person in people if person.deleted} - {person.id for person in living}
        self._overrides = {_key(name): user for name, user in (owner_map or {}).items()}
        self._index: dict[str, dict[str, list[Person]]] = {attribute: {} for attribute in _ATTRIBUTES}
        for person in living:
            for attribute in _ATTRIBUTES:
                value = getattr(person, attribute)
                if value:
                    self._index[attribute].setdefault(_key(value), []).append(person)

    def match(self, owner: str, owner_id: str | None) -> str | None:
        """A Slack user for an Owner cell: by ID, then OWNER_MAP, then display name or username."""
        if owner_id:
            return None if owner_id in self._gone else owner_id
        mention = _MENTION.search(owner) or _TRAILING_ID.search(owner)
        if mention:
            return None if mention.group(1) in self._gone else mention.group(1)
        wanted = _key(owner)
        if not wanted:
            return None
        if wanted in self._overrides:
            return None if self._overrides[wanted] in self._gone else self._overrides[wanted]
        candidates: set[str] | None = None  # None: everyone still living
        for attribute in _ATTRIBUTES:
            matched = [
                person
                for person in self._index[attribute].get(wanted, [])
                if candidates is None or person.id in candidates
            ]
            if len({person.id for person in matched}) == 1:
                return matched[0].id
            if matched:
                # Several people answer to this name: only a later attribute may tell them apart, never a guess.
                candidates = {person.id for person in matched}
        return None


def match_owner(
    owner: str, owner_id: str | None, people: Sequence[Person], owner_map: Mapping[str, str] | None = None
) -> str | None:
    """A Slack user for one Owner cell (to match many, build a `Directory` once)."""
    return Directory(people, owner_map).match(owner, owner_id)


def rca_date(path: str) -> date | None:
    """The date an RCA's file name starts with (`YYYY-MM-DD-…-rca.md`)."""
    match = _FILE_DATE.match(path.rsplit("/", 1)[-1])
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def collect_open_items(
    *,
    rca_files: Mapping[str, str | ParsedRca],
    incidents: Sequence[Incident],
    db_items: Mapping[int, Sequence[ActionItem]],
    people: Sequence[Person],
    owner_map: Mapping[str, str] | None = None,
    rows_being_written: Mapping[tuple[str, int], ActionStatus] | None = None,
) -> OpenItems:
    """Every open item: RCA files are the source of truth; items of incidents without an RCA come from the bot.

    `rows_being_written`: the status of each (RCA path, item number) row the bot is about to rewrite (a
    status changed in Slack, its commit still queued): it counts, not the file's older one.
    """
    by_path = {incident.rca_path: incident for incident in incidents if incident.rca_path}
    directory = Directory(people, owner_map)
    result = OpenItems()
    covered: set[int] = set()
    for path in sorted(rca_files):
        given = rca_files[path]
        parsed = given if isinstance(given, ParsedRca) else parse_rca(given)
        result.problems.extend(FileProblem(path, problem.line, problem.message) for problem in parsed.problems)
        incident = by_path.get(path)
        known = {item.number: item for item in db_items.get(incident.id, [])} if incident and incident.id else {}
        if incident is not None and incident.id is not None:
            covered.add(incident.id)
            # Items added after the RCA was published, or whose row is malformed, are still the bot's to track.
            in_file = {row.number for row in parsed.action_items}
            title, severity = parsed.title or incident.title, parsed.severity or incident.severity
            result.items.extend(
                _db_item(incident, item, directory, source=path, title=title, severity=severity)
                for number, item in sorted(known.items())
                if number not in in_file and item.status is not ActionStatus.DONE
            )
        fallback = _file_time(path, incident)
        for row in parsed.action_items:
            stored = known.get(row.number)
            if rows_being_written and (pending := rows_being_written.get((path, row.number))) is not None:
                row = replace(row, status=pending)
            if incident is not None and incident.id is not None and stored is not None and stored.status != row.status:
                result.status_changes.append((incident.id, row.number, row.status))
            if row.status is ActionStatus.DONE:
                continue
            result.items.append(
                OpenItem(
                    source=path,
                    incident_id=incident.id if incident else None,
                    incident_title=parsed.title or (incident.title if incident else path),
                    severity=parsed.severity or (incident.severity if incident else None),
                    number=row.number,
                    action=row.action,
                    owner=row.owner,
                    owner_id=directory.match(row.owner, row.owner_id),
                    status=row.status,
                    since=_utc(stored.created_at) if stored else fallback,
                    room_id=incident.room_id if incident else None,
                    line=row.line,
                )
            )
    for incident in incidents:
        if incident.id is None or incident.id in covered:
            continue
        result.items.extend(
            _db_item(incident, item, directory, source=None, title=incident.title, severity=incident.severity)
            for item in db_items.get(incident.id, [])
            if item.status is not ActionStatus.DONE
        )
    result.items.sort(key=lambda item: (item.since, item.incident_title, item.number))
    return result


def open_items_of(incident: Incident, items: Iterable[ActionItem]) -> list[OpenItem]:
    """The bot's own open items of one incident (for the DMs sent when it is resolved)."""
    return [
        _db_item(
            incident, item, Directory([]), source=incident.rca_path, title=incident.title, severity=incident.severity
        )
        for item in items
        if item.status is not ActionStatus.DONE
    ]


def _db_item(
    incident: Incident,
    item: ActionItem,
    directory: Directory,
    *,
    source: str | None,
    title: str,
    severity: Severity | None,
) -> OpenItem:
    return OpenItem(
        source=source,
        incident_id=incident.id,
        incident_title=title,
        severity=severity,
        number=item.number,
        action=item.action,
        owner=item.owner_label or (f"<@{item.owner_id}>" if item.owner_id else ""),
        owner_id=directory.match(item.owner_label, item.owner_id),
        status=item.status,
        since=_utc(item.created_at),
        room_id=incident.room_id,
    )


def _file_time(path: str, incident: Incident | None) -> datetime:
    if incident is not None:
        return _utc(incident.declared_at)
    day = rca_date(path) or date(1970, 1, 1)
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    # Stored times are UTC; a naive one is read as UTC, never as the server's local time.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def by_owner(items: Iterable[OpenItem]) -> dict[str, list[OpenItem]]:
    """Open items grouped by their matched owner, each list oldest first; unmatched owners are left out."""
    grouped: dict[str, list[OpenItem]] = {}
    for item in sorted(items, key=lambda i: (i.since, i.number)):
        if item.owner_id:
            grouped.setdefault(item.owner_id, []).append(item)
    return grouped
