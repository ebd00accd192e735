"""One list of incidents from the bot's database and the docs repo, each counted once.

The database is the truth for the incidents the bot ran (their level, times, privacy); an RCA file is
the truth for its action items' status, as everywhere else in the bot. What the docs repo adds are the
incidents the bot never saw: hand-written RCAs, Incident History rows and fleet-status entries from
before it. They are matched to each other and to the bot's incidents by RCA path first, then by day and
title, so an incident written down in three places is one incident.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from pathlib import PurePosixPath

from bot.core.models import ActionItem, ActionStatus, Incident, Severity, TimelineEntry, TimelineKind
from bot.core.open_items import Directory
from bot.core.reminders import zone_or_utc
from bot.core.stats import IncidentFacts, ItemFacts
from bot.core.stats_docs import FleetEntry, HistoryRow, RcaFacts
from bot.core.stats_report import Source

# The timeline kind of a posted status update (`/incident update`). Set it to None for a bot that records
# none: the time to the first status update is then reported as unknown rather than as "none yet".
STATUS_UPDATE_KIND: TimelineKind | None = TimelineKind.STATUS_UPDATE
OwnerMatch = Callable[[str, str | None], str | None]
_NOT_WORD = re.compile(r"[^\w]+")
_FILE_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}-?")


@dataclass(frozen=True)
class BotIncident:
    """An incident from the bot's database, with its action items and its first status update."""

    incident: Incident
    items: tuple[ActionItem, ...] = ()
    first_update: datetime | None = None


@dataclass(frozen=True)
class DocsFacts:
    """What the docs repo holds: RCA files at HEAD (by path), history rows, fleet-status entries."""

    rcas: Mapping[str, RcaFacts] = field(default_factory=dict)
    history: Sequence[HistoryRow] = ()
    fleet: Sequence[FleetEntry] = ()


@dataclass
class _Draft:
    level: Severity | None
    title: str
    source: Source
    declared: datetime | None = None
    declared_on: date | None = None
    resolved: datetime | None = None
    active: bool = False
    private: bool = False
    first_update: datetime | None = None
    rca: str | None = None
    incident_id: int | None = None
    rca_wanted: bool = False
    items: tuple[ItemFacts, ...] = ()
    unknown: set[str] = field(default_factory=set)

    def fill(
        self, *, level: Severity | None, declared: datetime | None, day: date | None, resolved: datetime | None
    ) -> None:
        """Take what another document states and this one did not (never over what the bot recorded)."""
        if self.source == "bot":
            return
        self.level = self.level or level
        if self.declared is None and declared is not None:
            self.declared = declared
        self.declared_on = self.declared_on or day
        if self.resolved is None and resolved is not None and (self.declared is None or resolved >= self.declared):
            self.resolved = resolved

    def frozen(self) -> IncidentFacts:
        unknown = set(self.unknown)
        if self.source != "bot":
            unknown |= {"first_update"}
            unknown |= {name for name, value in (("level", self.level), ("declared_on", self.declared_on)) if not value}
            unknown |= {"declared"} if self.declared is None else set()
            unknown |= {"resolved"} if self.resolved is None else set()
        return IncidentFacts(
            level=self.level,
            title=self.title,
            source=self.source,
            declared=self.declared,
            declared_on=self.declared_on,
            resolved=self.resolved,
            active=self.active,
            private=self.private,
            first_update=self.first_update,
            rca=self.rca,
            incident_id=self.incident_id,
            rca_wanted=self.rca_wanted,
            items=self.items,
            unknown=frozenset(unknown),
        )


def first_status_update(entries: Iterable[TimelineEntry]) -> datetime | None:
    """When the incident's first status update was posted; None while the bot records no status updates."""
    if STATUS_UPDATE_KIND is None:
        return None
    moments = [_utc(entry.occurred_at) for entry in entries if entry.kind is STATUS_UPDATE_KIND]
    return min(moments, default=None)


def merge_incidents(
    *,
    bot: Sequence[BotIncident],
    docs: DocsFacts,
    tz: str = "UTC",
    owner_map: Mapping[str, str] | None = None,
    rows_being_written: Mapping[tuple[str, int], ActionStatus] | None = None,
) -> list[IncidentFacts]:
    """Every incident once: the bot's, then the docs repo's that match none of them."""
    zone = zone_or_utc(tz)
    match = _owner_matcher(Directory([], owner_map))
    pending = rows_being_written or {}
    drafts: list[_Draft] = []
    by_rca: dict[str, _Draft] = {}
    by_day: dict[date, list[_Draft]] = {}

    def add(draft: _Draft) -> None:
        drafts.append(draft)
        if draft.rca:
            by_rca.setdefault(draft.rca, draft)
        if draft.declared_on is not None:
            by_day.setdefault(draft.declared_on, []).append(draft)

    for record in bot:
        incident = record.incident
        file = docs.rcas.get(incident.rca_path) if incident.rca_path else None
        draft = _Draft(
            level=incident.severity,
            title=incident.title,
            source="bot",
            declared=_utc(incident.declared_at),
            declared_on=_utc(incident.declared_at).astimezone(zone).date(),
            resolved=_utc(incident.resolved_at) if incident.resolved_at and not incident.is_active else None,
            active=incident.is_active,
            private=incident.private,
            first_update=record.first_update,
            rca=incident.rca_path if file is not None else None,
            incident_id=incident.id,
            rca_wanted=incident.rca_wanted,
            items=_bot_items(incident, record.items, file, match, pending),
            unknown={"first_update"} if STATUS_UPDATE_KIND is None else set(),
        )
        add(draft)
        if incident.rca_path:
            by_rca.setdefault(incident.rca_path, draft)  # a history row may link it before its file is pulled
    for path in sorted(docs.rcas):
        if path in by_rca:
            continue
        facts = docs.rcas[path]
        add(
            _Draft(
                level=facts.level,
                title=facts.title or _title_from_path(path),
                source="rca",
                declared=facts.declared,
                declared_on=facts.declared_on,
                resolved=facts.resolved,
                rca=path,
                items=_file_items(facts, match, pending, zone),
            )
        )
    for entry in docs.fleet:
        found = by_rca.get(entry.rca) if entry.rca else None
        found = found or _same_title(by_day, entry.declared_on, entry.title, exact=True)
        if found is None:
            add(
                _Draft(
                    level=entry.level,
                    title=entry.title,
                    source="fleet_status",
                    declared=entry.declared,
                    declared_on=entry.declared_on,
                    resolved=entry.resolved,
                )
            )
        else:
            found.fill(level=entry.level, declared=entry.declared, day=entry.declared_on, resolved=entry.resolved)
    for row in docs.history:
        found = by_rca.get(row.rca) if row.rca else None
        found = found or _same_title(by_day, row.day, row.summary, exact=False)
        if found is None:
            add(_Draft(level=row.level, title=row.summary or "(no summary)", source="history", declared_on=row.day))
        else:
            found.fill(level=row.level, declared=None, day=row.day, resolved=None)
    return [draft.frozen() for draft in drafts]


def _bot_items(
    incident: Incident,
    items: Sequence[ActionItem],
    file: RcaFacts | None,
    match: OwnerMatch,
    pending: Mapping[tuple[str, int], ActionStatus],
) -> tuple[ItemFacts, ...]:
    known = {item.number: item for item in items}
    if file is None:
        return tuple(_db_item(item) for item in sorted(items, key=lambda i: i.number))
    found: list[ItemFacts] = []
    for row in file.rows:
        stored = known.pop(row.number, None)
        status = pending.get((file.path, row.number), row.status)
        done = (
            _utc(stored.updated_at)
            if stored is not None and status is ActionStatus.DONE and stored.status is ActionStatus.DONE
            else None
        )
        found.append(
            ItemFacts(
                number=row.number,
                owner=row.owner,
                owner_id=match(row.owner, row.owner_id) or (stored.owner_id if stored else None),
                status=status,
                opened=_utc(stored.created_at) if stored is not None else _utc(incident.declared_at),
                done=done,
            )
        )
    # Items added after the RCA was published (or whose row is malformed) still count.
    found += [_db_item(item) for _, item in sorted(known.items())]
    return tuple(found)


def _db_item(item: ActionItem) -> ItemFacts:
    return ItemFacts(
        number=item.number,
        owner=item.owner_label or (f"<@{item.owner_id}>" if item.owner_id else ""),
        owner_id=item.owner_id,
        status=item.status,
        opened=_utc(item.created_at),
        done=_utc(item.updated_at) if item.status is ActionStatus.DONE else None,
    )


def _file_items(
    facts: RcaFacts, match: OwnerMatch, pending: Mapping[tuple[str, int], ActionStatus], zone: tzinfo
) -> tuple[ItemFacts, ...]:
    opened = facts.declared
    if opened is None and facts.declared_on is not None:
        # A hand-written row says nothing of when it was written: the incident's day is the best start.
        opened = datetime.combine(facts.declared_on, time(0, 0), tzinfo=zone).astimezone(UTC)
    return tuple(
        ItemFacts(
            number=row.number,
            owner=row.owner,
            owner_id=match(row.owner, row.owner_id),
            status=pending.get((facts.path, row.number), row.status),
            opened=opened,
        )
        for row in facts.rows
    )


def _owner_matcher(directory: Directory) -> OwnerMatch:
    """`directory.match`, once per distinct Owner cell (a big repo has thousands of rows, few owners)."""
    known: dict[tuple[str, str | None], str | None] = {}

    def match(owner: str, owner_id: str | None) -> str | None:
        key = (owner, owner_id)
        if key not in known:
            known[key] = directory.match(owner, owner_id)
        return known[key]

    return match


def _same_title(by_day: Mapping[date, list[_Draft]], day: date | None, title: str, *, exact: bool) -> _Draft | None:
    """The incident of that day with this title (`exact=False`: a history summary that starts with it)."""
    if day is None:
        return None
    wanted = _title_key(title)
    for draft in by_day.get(day, []):
        known = _title_key(draft.title)
        if known and (wanted == known if exact else wanted.startswith(known) or known.startswith(wanted)):
            return draft
    return None


def _title_key(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def _title_from_path(path: str) -> str:
    stem = PurePosixPath(path).name.removesuffix(".md").removesuffix("-rca")
    words = " ".join(_FILE_DATE.sub("", stem).replace("-", " ").replace("_", " ").split())
    return words[:1].upper() + words[1:] if words else "Untitled incident"


def _utc(moment: datetime) -> datetime:
    # Stored times are UTC; a naive one is read as UTC, never as the server's local time.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
