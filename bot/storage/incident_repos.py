"""Repositories for incidents, their timelines, timeline pins and action items."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Connection, Result, RowMapping, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.core.models import (
    ActionItem,
    ActionStatus,
    Incident,
    IncidentStatus,
    TimelineEntry,
    TimelineKind,
    TimelineLine,
)
from bot.storage.sql import DriverStatement, insert_if_absent, insert_ignoring_conflicts
from bot.storage.tables import action_items, as_utc, incident_roles, incidents, timeline_entries, timeline_pins

ConnectionSource = Callable[[], Connection]
M = TypeVar("M", bound=BaseModel)

# Incident fields that are not columns of `incidents`: the id is generated, roles have a table of their own.
_NOT_COLUMNS = {"id", "roles"}
_ROLE_QUERY_CHUNK = 500

# Each retry happens only after a concurrent writer committed the number we tried, so a handful
# covers any realistic burst of people adding action items at the same moment.
_MAX_NUMBERING_ATTEMPTS = 50
# The lookups every request makes, built once: the incident's row with its role holders joined (one
# row per holder), in one statement. PostgreSQL: FOR UPDATE OF locks the incident's row (the roles'
# side of an outer join cannot be locked); SQLite's BEGIN IMMEDIATE already holds the database.
_ROLE_KEY, _ROLE_HOLDER = "role_key", "role_holder"
_WITH_ROLES = select(
    incidents, incident_roles.c.role.label(_ROLE_KEY), incident_roles.c.user_id.label(_ROLE_HOLDER)
).select_from(incidents.outerjoin(incident_roles))
_BY = {
    (column, for_update): (
        _WITH_ROLES.where(incidents.c[column] == bindparam("value")).with_for_update(of=incidents)
        if for_update
        else _WITH_ROLES.where(incidents.c[column] == bindparam("value"))
    )
    for column in ("id", "room_id")
    for for_update in (False, True)
}
_LOCK = select(incidents.c.id).where(incidents.c.id == bindparam("incident_id")).with_for_update()
# What the access rule decides on (bot.core.access), locked against changes to the incident until the
# commit. PostgreSQL: FOR NO KEY UPDATE, which every UPDATE of the row waits for, but not the KEY SHARE
# locks that inserting rows which point at the incident takes: a pin takes this lock after its inserts,
# and two pins of one incident that each hold a KEY SHARE would deadlock over FOR UPDATE.
_ACCESS = DriverStatement(
    lambda _: (
        select(incidents.c.room_id, incidents.c.commander_id, incidents.c.private)
        .where(incidents.c.id == bindparam("incident_id"))
        .with_for_update(key_share=True)
    )
)
# A timeline entry written in the same statement that finds (and locks) its incident's row with what the
# access rule decides on unchanged: one statement instead of two on the path of every note.
_ENTRY_COLUMNS = ("kind", "occurred_at", "author_id", "text", "source_room_id", "source_message_id", "permalink")
_ADD_IF_ACCESS_UNCHANGED = DriverStatement(
    lambda _: (
        insert(timeline_entries)
        .from_select(
            ["incident_id", *_ENTRY_COLUMNS],
            select(incidents.c.id, *(bindparam(name, type_=timeline_entries.c[name].type) for name in _ENTRY_COLUMNS))
            .where(
                incidents.c.id == bindparam("incident_id"),
                incidents.c.room_id == bindparam("room_id"),
                incidents.c.commander_id == bindparam("commander_id"),
                incidents.c.private == bindparam("private"),
            )
            .with_for_update(of=incidents),
        )
        .returning(timeline_entries.c.id)
    )
)
_ENTRY_BY_SOURCE = select(timeline_entries).where(
    timeline_entries.c.incident_id == bindparam("incident_id"),
    timeline_entries.c.source_room_id == bindparam("room_id"),
    timeline_entries.c.source_message_id == bindparam("message_id"),
)
_ENTRIES_BY_MESSAGE = (
    select(timeline_entries)
    .where(
        timeline_entries.c.source_room_id == bindparam("room_id"),
        timeline_entries.c.source_message_id == bindparam("message_id"),
    )
    .order_by(timeline_entries.c.incident_id, timeline_entries.c.id)
)
_PINS_OF_MESSAGE = (
    timeline_pins.c.incident_id == bindparam("incident_id"),
    timeline_pins.c.room_id == bindparam("room_id"),
    timeline_pins.c.message_id == bindparam("message_id"),
)
_COUNT_PINS = DriverStatement(lambda _: select(func.count()).select_from(timeline_pins).where(*_PINS_OF_MESSAGE))
_REMOVE_PIN = delete(timeline_pins).where(*_PINS_OF_MESSAGE, timeline_pins.c.user_id == bindparam("user_id"))


def row_values(model: BaseModel, *, exclude: set[str]) -> dict[str, Any]:
    """A model's fields as column values, with enums stored as their plain values."""
    # Enum values are converted explicitly rather than trusting each driver to adapt str enums alike.
    return {
        key: value.value if isinstance(value, Enum) else value
        for key, value in model.model_dump(exclude=exclude).items()
    }


def _require_id(value: int | None, what: str) -> int:
    if value is None:
        raise ValueError(f"cannot save a {what} that was never added (it has no id)")
    return value


class SqlIncidentRepo:
    """Incidents, looked up by id or by their chat room."""

    def __init__(self, connection: ConnectionSource) -> None:
        self._conn = connection

    def add(self, incident: Incident) -> Incident:
        """Insert the incident and return it with its new id."""
        stmt = insert(incidents).values(row_values(incident, exclude=_NOT_COLUMNS)).returning(incidents.c.id)
        added = incident.model_copy(update={"id": self._conn().execute(stmt).scalar_one()})
        self._write_roles(added)
        return added

    def get(self, incident_id: int, *, for_update: bool = False) -> Incident | None:
        """The incident with this id, if any; `for_update` locks its row for the rest of the transaction."""
        return self._one("id", incident_id, for_update=for_update)

    def lock(self, incident_id: int) -> bool:
        """Lock the incident's row for the rest of the transaction; False when there is no such incident."""
        conn = self._conn()
        if conn.dialect.name == "sqlite":
            # BEGIN IMMEDIATE holds the whole database already, and incidents are never deleted.
            return True
        return conn.execute(_LOCK, {"incident_id": incident_id}).first() is not None

    def lock_if_access_unchanged(self, incident: Incident) -> bool:
        """Lock the incident's row; True while its room, commander and privacy are still those of `incident`."""
        rows = _ACCESS.rows(self._conn(), {"incident_id": _require_id(incident.id, "incident")})
        if not rows:
            return False
        room_id, commander_id, private = rows[0]
        return (room_id, commander_id, bool(private)) == (incident.room_id, incident.commander_id, incident.private)

    def by_room(self, room_id: str) -> Incident | None:
        """The incident whose chat room this is, if any."""
        return self._one("room_id", room_id)

    def save(self, incident: Incident) -> None:
        """Write every field of an incident that was added before."""
        incident_id = _require_id(incident.id, "incident")
        result = self._conn().execute(
            update(incidents).where(incidents.c.id == incident_id).values(row_values(incident, exclude=_NOT_COLUMNS))
        )
        if result.rowcount != 1:
            raise LookupError(f"incident {incident_id} does not exist")
        self._write_roles(incident)

    def set_room(self, incident_id: int, room_id: str, room_name: str) -> None:
        """Record the incident's chat room, leaving every other field as it is now."""
        self._set(incident_id, room_id=room_id, room_name=room_name)

    def set_room_name(self, incident_id: int, name: str) -> None:
        """Record the name a room is about to be created under (before it has an id)."""
        self._set(incident_id, room_name=name)

    def set_summary_message(self, incident_id: int, message_id: str) -> None:
        """Record the summary message in the incident's room."""
        self._set(incident_id, summary_message_id=message_id)

    def claim_rca_path(self, incident_id: int, path: str) -> bool:
        """Record the RCA's file, unless another incident has it; kept across resolves once chosen."""
        taken = self._conn().execute(
            select(incidents.c.id).where(incidents.c.rca_path == path, incidents.c.id != incident_id)
        )
        if taken.first() is not None:
            return False
        # The unique constraint decides between two replicas choosing the same name at the same moment.
        nested = self._conn().begin_nested()
        try:
            self._set(incident_id, rca_path=path)
        except IntegrityError:
            nested.rollback()
            return False
        nested.commit()
        return True

    def set_rca_commit(self, incident_id: int, commit: str) -> None:
        """Record the commit that last published the RCA."""
        self._set(incident_id, rca_commit=commit)

    def _set(self, incident_id: int, **values: str) -> None:
        # Only the named columns: a job must not write back a stale copy of what a person changed meanwhile.
        result = self._conn().execute(update(incidents).where(incidents.c.id == incident_id).values(**values))
        if result.rowcount != 1:
            raise LookupError(f"incident {incident_id} does not exist")

    def save_if_status(self, incident: Incident, expected: IncidentStatus) -> bool:
        """Save only if the stored status is still `expected`; False when a concurrent change won."""
        incident_id = _require_id(incident.id, "incident")
        result = self._conn().execute(
            update(incidents)
            .where(incidents.c.id == incident_id, incidents.c.status == expected.value)
            .values(row_values(incident, exclude=_NOT_COLUMNS))
        )
        if result.rowcount != 1:
            return False
        self._write_roles(incident)
        return True

    def list_resolved(self) -> list[Incident]:
        """Resolved incidents, newest first."""
        rows = self._conn().execute(
            select(incidents)
            .where(incidents.c.status == IncidentStatus.RESOLVED.value)
            .order_by(incidents.c.resolved_at.desc(), incidents.c.id.desc())
        )
        return self._with_roles(rows.mappings())

    def list_active(self) -> list[Incident]:
        """Active incidents, oldest first."""
        rows = self._conn().execute(
            select(incidents)
            .where(incidents.c.status == IncidentStatus.ACTIVE.value)
            .order_by(incidents.c.declared_at, incidents.c.id)
        )
        return self._with_roles(rows.mappings())

    def _one(self, column: str, value: Any, *, for_update: bool = False) -> Incident | None:
        rows = self._conn().execute(_BY[(column, for_update)], {"value": value}).mappings().all()
        if not rows:
            return None
        fields = dict(rows[0])
        del fields[_ROLE_KEY], fields[_ROLE_HOLDER]
        fields["roles"] = {row[_ROLE_KEY]: row[_ROLE_HOLDER] for row in rows if row[_ROLE_KEY] is not None}
        return Incident.model_validate(fields)

    def _with_roles(self, rows: Iterable[RowMapping]) -> list[Incident]:
        """Incidents from their rows, each with its role holders (one query for all of them)."""
        found = [dict(row) for row in rows]
        if not found:
            return []
        holders: dict[int, dict[str, str]] = {row["id"]: {} for row in found}
        # Chunked: a database limits how many values one IN (…) may bind.
        ids = list(holders)
        for start in range(0, len(ids), _ROLE_QUERY_CHUNK):
            chunk = ids[start : start + _ROLE_QUERY_CHUNK]
            for role_row in (
                self._conn().execute(select(incident_roles).where(incident_roles.c.incident_id.in_(chunk))).mappings()
            ):
                holders[role_row["incident_id"]][role_row["role"]] = role_row["user_id"]
        return [Incident.model_validate({**row, "roles": holders[row["id"]]}) for row in found]

    def _write_roles(self, incident: Incident) -> None:
        # Rewritten whole: callers hold the incident's row (or just added it), so no other writer interleaves.
        incident_id = _require_id(incident.id, "incident")
        conn = self._conn()
        conn.execute(delete(incident_roles).where(incident_roles.c.incident_id == incident_id))
        if incident.roles:
            conn.execute(
                insert(incident_roles),
                [{"incident_id": incident_id, "role": key, "user_id": user} for key, user in incident.roles.items()],
            )


_TIMELINE = (
    select(timeline_entries)
    .where(timeline_entries.c.incident_id == bindparam("incident_id"))
    .order_by(timeline_entries.c.occurred_at, timeline_entries.c.id)
)
# Looks that need a few kinds of entry (the status updates of the cadence, the "declared" entry) read
# only those: the incident's rows are found through its index, and a 10,000-entry timeline is not
# turned into models to find one entry.
_TIMELINE_OF_KINDS = _TIMELINE.where(timeline_entries.c.kind.in_(bindparam("kinds", expanding=True)))
_ENTRY = select(timeline_entries).where(timeline_entries.c.id == bindparam("entry_id"))
_ACTIONS = (
    select(action_items).where(action_items.c.incident_id == bindparam("incident_id")).order_by(action_items.c.number)
)
# A render's read of the timeline (the same rows and order), run on the driver itself: rows as tuples,
# no models (see `lines`).
_LINES_COLUMNS = _TIMELINE.with_only_columns(
    timeline_entries.c.id,
    timeline_entries.c.kind,
    timeline_entries.c.occurred_at,
    timeline_entries.c.author_id,
    timeline_entries.c.text,
    timeline_entries.c.permalink,
)
_LINES = DriverStatement(lambda _dialect: _LINES_COLUMNS)
# The entries added after one (the newest a table of rows was made from): found by the primary key.
_LINES_AFTER = DriverStatement(
    lambda _dialect: _LINES_COLUMNS.where(timeline_entries.c.id > bindparam("after_id")).order_by(None)
)
_KINDS = {kind.value: kind for kind in TimelineKind}
_EDITS = DriverStatement(lambda _: select(incidents.c.timeline_edits).where(incidents.c.id == bindparam("incident_id")))
# An entry changed or removed counts as an edit of its incident's timeline (see `edits`).
_COUNT_EDIT = DriverStatement(
    lambda _: (
        update(incidents)
        .where(incidents.c.id == bindparam("incident_id"))
        .values(timeline_edits=incidents.c.timeline_edits + 1)
    )
)
_COUNT_EDIT_OF_ENTRY = DriverStatement(
    lambda _: (
        update(incidents)
        .where(
            incidents.c.id
            == select(timeline_entries.c.incident_id)
            .where(timeline_entries.c.id == bindparam("entry_id"))
            .scalar_subquery()
        )
        .values(timeline_edits=incidents.c.timeline_edits + 1)
    )
)
# A listing is validated in one call over all its rows, from tuples: on a 10,000-entry timeline that
# costs a third less than a mapping and a model_validate per row, and gives the very same models.
_ENTRY_LIST = TypeAdapter(list[TimelineEntry])
_ACTION_LIST = TypeAdapter(list[ActionItem])


class SqlTimelineRepo:
    """Timeline entries; a chat message is recorded at most once per incident."""

    def __init__(self, connection: ConnectionSource) -> None:
        self._conn = connection

    def add(self, entry: TimelineEntry) -> TimelineEntry:
        """Insert the entry; if its source message is already recorded, return that entry instead."""
        conn = self._conn()
        stmt = insert_ignoring_conflicts(conn, timeline_entries, returning="id")
        new_id = conn.execute(stmt, row_values(entry, exclude={"id"})).scalar_one_or_none()
        if new_id is not None:
            return entry.model_copy(update={"id": new_id})
        # Only the source constraint can conflict, so both source fields are set here.
        assert entry.source_room_id is not None and entry.source_message_id is not None
        existing = self.by_source(entry.incident_id, entry.source_room_id, entry.source_message_id)
        if existing is None:  # pragma: no cover - the conflicting row cannot vanish inside a transaction
            raise LookupError("timeline entry conflicted but could not be found")
        return existing

    def add_if_access_unchanged(self, entry: TimelineEntry, incident: Incident) -> TimelineEntry | None:
        """Insert an entry of no chat message while the incident's room, commander and privacy are still those
        of `incident` (its row locked); None, writing nothing, when they changed."""
        if entry.source_room_id is not None or entry.source_message_id is not None:
            raise ValueError("an entry recording a chat message is added with add()")
        if incident.room_id is None or entry.incident_id != incident.id:
            return None
        values = row_values(entry, exclude={"id"})
        values.update(room_id=incident.room_id, commander_id=incident.commander_id, private=incident.private)
        rows = _ADD_IF_ACCESS_UNCHANGED.rows(self._conn(), values)
        return entry.model_copy(update={"id": rows[0][0]}) if rows else None

    def for_incident(self, incident_id: int) -> list[TimelineEntry]:
        """The incident's timeline in the order things happened."""
        return _models(_ENTRY_LIST, self._conn().execute(_TIMELINE, {"incident_id": incident_id}))

    def lines(self, incident_id: int, *, after: int | None = None) -> list[TimelineLine]:
        """The incident's timeline as the RCA shows it, in the order things happened: six columns read as
        the driver returns them (a 10,000-entry timeline in a third of the time its models take).

        `after`: only the entries whose id is greater (in no particular order).
        """
        kinds, moment = _KINDS, _utc_moment
        if after is None:
            rows = _LINES.rows(self._conn(), {"incident_id": incident_id})
        else:
            rows = _LINES_AFTER.rows(self._conn(), {"incident_id": incident_id, "after_id": after})
        return [
            TimelineLine(
                id=row[0],
                kind=kinds[row[1]],
                occurred_at=moment(row[2]),
                author_id=row[3],
                text=row[4],
                permalink=row[5],
            )
            for row in rows
        ]

    def edits(self, incident_id: int) -> int:
        """How many times an entry of the incident's timeline was changed or removed (0: never, or no such
        incident); entries added do not count."""
        rows = _EDITS.rows(self._conn(), {"incident_id": incident_id})
        return int(rows[0][0]) if rows else 0

    def of_kinds(self, incident_id: int, kinds: Collection[TimelineKind]) -> list[TimelineEntry]:
        """The incident's entries of these kinds, in the order things happened."""
        if not kinds:
            return []
        values = {"incident_id": incident_id, "kinds": sorted(kind.value for kind in kinds)}
        return _models(_ENTRY_LIST, self._conn().execute(_TIMELINE_OF_KINDS, values))

    def get(self, entry_id: int) -> TimelineEntry | None:
        """The entry with this id, if it exists."""
        row = self._conn().execute(_ENTRY, {"entry_id": entry_id}).mappings().one_or_none()
        return None if row is None else _entry(row)

    def by_source(self, incident_id: int, room_id: str, message_id: str) -> TimelineEntry | None:
        """The entry recording this chat message in this incident, if any."""
        values = {"incident_id": incident_id, "room_id": room_id, "message_id": message_id}
        row = self._conn().execute(_ENTRY_BY_SOURCE, values).mappings().one_or_none()
        return None if row is None else _entry(row)

    def by_message(self, room_id: str, message_id: str) -> list[TimelineEntry]:
        """Entries recording this chat message, in any incident."""
        rows = self._conn().execute(_ENTRIES_BY_MESSAGE, {"room_id": room_id, "message_id": message_id})
        return [_entry(row) for row in rows.mappings()]

    def update(self, entry: TimelineEntry) -> None:
        """Write every field of an entry that was added before."""
        entry_id = _require_id(entry.id, "timeline entry")
        # Counted first: two edits of one timeline queue on the incident's row, before either touches an entry.
        _COUNT_EDIT.rows(self._conn(), {"incident_id": entry.incident_id})
        result = self._conn().execute(
            update(timeline_entries).where(timeline_entries.c.id == entry_id).values(row_values(entry, exclude={"id"}))
        )
        if result.rowcount != 1:
            raise LookupError(f"timeline entry {entry_id} does not exist")

    def delete(self, entry_id: int) -> None:
        """Remove the entry; removing one that is already gone is not an error."""
        _COUNT_EDIT_OF_ENTRY.rows(self._conn(), {"entry_id": entry_id})
        self._conn().execute(delete(timeline_entries).where(timeline_entries.c.id == entry_id))

    def count(self, incident_id: int) -> int:
        """How many entries the incident's timeline has."""
        return (
            self._conn()
            .execute(
                select(func.count()).select_from(timeline_entries).where(timeline_entries.c.incident_id == incident_id)
            )
            .scalar_one()
        )


class SqlPinRepo:
    """Who reacted with the timeline emoji on which message."""

    def __init__(self, connection: ConnectionSource) -> None:
        self._conn = connection

    def add(self, incident_id: int, room_id: str, message_id: str, user_id: str) -> bool:
        """Record a pin; True only if this person had not pinned this message already."""
        values = {
            "incident_id": incident_id,
            "room_id": room_id,
            "message_id": message_id,
            "user_id": user_id,
        }
        return insert_if_absent(self._conn(), timeline_pins, values)

    def remove(self, incident_id: int, room_id: str, message_id: str, user_id: str) -> bool:
        """Forget a pin; True only if it existed."""
        values = {"incident_id": incident_id, "room_id": room_id, "message_id": message_id, "user_id": user_id}
        return self._conn().execute(_REMOVE_PIN, values).rowcount == 1

    def count(self, incident_id: int, room_id: str, message_id: str) -> int:
        """How many people pinned this message."""
        values = {"incident_id": incident_id, "room_id": room_id, "message_id": message_id}
        return int(_COUNT_PINS.rows(self._conn(), values)[0][0])


class SqlActionItemRepo:
    """Action items, numbered 1, 2, … within each incident."""

    def __init__(self, connection: ConnectionSource) -> None:
        self._conn = connection

    def add(self, item: ActionItem) -> ActionItem:
        """Insert the item under the incident's next number and return it with its id and number."""
        conn = self._conn()
        values = row_values(item, exclude={"id", "number"})
        for _ in range(_MAX_NUMBERING_ATTEMPTS):
            # Each statement sees what other transactions have committed (READ COMMITTED), so after
            # losing a race to the unique (incident_id, number) constraint the next try moves on.
            number = conn.execute(
                select(func.coalesce(func.max(action_items.c.number), 0) + 1).where(
                    action_items.c.incident_id == item.incident_id
                )
            ).scalar_one()
            stmt = insert_ignoring_conflicts(conn, action_items, returning="id")
            new_id = conn.execute(stmt, {**values, "number": number}).scalar_one_or_none()
            if new_id is not None:
                return item.model_copy(update={"id": new_id, "number": number})
        raise RuntimeError(f"could not number a new action item for incident {item.incident_id}")

    def for_incident(self, incident_id: int) -> list[ActionItem]:
        """The incident's action items by number."""
        return _models(_ACTION_LIST, self._conn().execute(_ACTIONS, {"incident_id": incident_id}))

    def get(self, incident_id: int, number: int) -> ActionItem | None:
        """The incident's action item with this number, if any."""
        row = (
            self._conn()
            .execute(
                select(action_items).where(action_items.c.incident_id == incident_id, action_items.c.number == number)
            )
            .mappings()
            .one_or_none()
        )
        return None if row is None else _action(row)

    def save(self, item: ActionItem) -> None:
        """Write the item's mutable fields; it is found by id, or by incident and number without one."""
        if item.id is not None:
            condition = action_items.c.id == item.id
        else:
            condition = (action_items.c.incident_id == item.incident_id) & (action_items.c.number == item.number)
        result = self._conn().execute(
            update(action_items)
            .where(condition)
            .values(row_values(item, exclude={"id", "incident_id", "number", "created_at"}))
        )
        if result.rowcount != 1:
            raise LookupError(f"action item {item.incident_id}#{item.number} does not exist")

    def version(self) -> str:
        """Changes whenever an item is added or changed (how many there are, and the latest change)."""
        count, latest = self._conn().execute(select(func.count(), func.max(action_items.c.updated_at))).one()
        return f"{count}:{latest}"

    def open_items(self) -> list[ActionItem]:
        """Items not done yet, across all incidents."""
        rows = self._conn().execute(
            select(action_items)
            .where(action_items.c.status != ActionStatus.DONE.value)
            .order_by(action_items.c.incident_id, action_items.c.number)
        )
        return [_action(row) for row in rows.mappings()]


def _utc_moment(value: datetime | str) -> datetime:
    """An aware UTC datetime from what the driver returned for a UTCDateTime column (SQLite: its text)."""
    return as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def _models(adapter: TypeAdapter[list[M]], result: Result[Any]) -> list[M]:
    keys = tuple(result.keys())
    return adapter.validate_python([dict(zip(keys, row, strict=True)) for row in result])


def _entry(row: RowMapping) -> TimelineEntry:
    return TimelineEntry.model_validate(dict(row))


def _action(row: RowMapping) -> ActionItem:
    return ActionItem.model_validate(dict(row))
