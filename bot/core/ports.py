"""What the services need from the outside world, as typed Protocols."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Protocol

from bot.core.errors import IncidentBotError
from bot.core.home import HomeView
from bot.core.jobs import ClaimedJob, Job, Next
from bot.core.models import (
    ActionItem,
    ActionStatus,
    Incident,
    IncidentStatus,
    Reply,
    Severity,
    TimelineEntry,
    TimelineKind,
    TimelineLine,
)
from bot.core.open_items import OpenItem, Person
from bot.core.past_incidents import PastIncident
from bot.core.reminders import BriefingGroup
from bot.core.roles import Role


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class IncidentRepo(Protocol):
    def add(self, incident: Incident) -> Incident: ...
    def get(self, incident_id: int, *, for_update: bool = False) -> Incident | None:
        """The incident; `for_update` locks its row until the transaction ends, so that a change decided
        on what was read cannot be lost to a concurrent one (SQLite's write lock already does this)."""
        ...

    def lock(self, incident_id: int) -> bool:
        """`get(for_update=True)` for a change that needs no field of the incident: False when there is none
        (incidents are never deleted, so where the write transaction holds the whole database, SQLite's,
        nothing is read)."""
        ...

    def lock_if_access_unchanged(self, incident: Incident) -> bool:
        """Lock the incident's row; True while what the access rule reads of it (its room, commander and
        privacy) is still as in `incident`, so that a decision made on that copy stands."""
        ...

    def by_room(self, room_id: str) -> Incident | None: ...
    def save(self, incident: Incident) -> None: ...
    def set_room(self, incident_id: int, room_id: str, room_name: str) -> None: ...
    def set_room_name(self, incident_id: int, name: str) -> None: ...
    def set_summary_message(self, incident_id: int, message_id: str) -> None: ...
    def claim_rca_path(self, incident_id: int, path: str) -> bool:
        """Give the incident this RCA file; False when another incident has it (paths are unique)."""
        ...

    def set_rca_commit(self, incident_id: int, commit: str) -> None: ...
    def save_if_status(self, incident: Incident, expected: IncidentStatus) -> bool:
        """Save only while the stored status is still `expected` (guards concurrent transitions)."""
        ...

    def list_active(self) -> list[Incident]: ...
    def list_resolved(self) -> list[Incident]: ...


class TimelineRepo(Protocol):
    def add(self, entry: TimelineEntry) -> TimelineEntry: ...
    def add_if_access_unchanged(self, entry: TimelineEntry, incident: Incident) -> TimelineEntry | None:
        """Add an entry of no chat message while what the access rule reads of its incident (room, commander,
        privacy) is still as in `incident`, its row locked; None, adding nothing, when it changed."""
        ...

    def for_incident(self, incident_id: int) -> list[TimelineEntry]: ...
    def lines(self, incident_id: int, *, after: int | None = None) -> list[TimelineLine]:
        """The incident's timeline as the RCA shows it, in the order things happened (a render's read);
        `after`: only the entries whose id is greater, in no particular order."""
        ...

    def edits(self, incident_id: int) -> int:
        """How many times an entry of the incident's timeline was changed or removed (added ones do not count)."""
        ...

    def of_kinds(self, incident_id: int, kinds: Collection[TimelineKind]) -> list[TimelineEntry]:
        """The incident's entries of these kinds only, in the order things happened (for looks that need a
        few kinds: a timeline may hold 10,000 entries)."""
        ...

    def get(self, entry_id: int) -> TimelineEntry | None: ...
    def by_source(self, incident_id: int, room_id: str, message_id: str) -> TimelineEntry | None: ...
    def by_message(self, room_id: str, message_id: str) -> list[TimelineEntry]: ...
    def update(self, entry: TimelineEntry) -> None: ...
    def delete(self, entry_id: int) -> None: ...
    def count(self, incident_id: int) -> int: ...


class PinRepo(Protocol):
    """Who reacted with the timeline emoji on which message."""

    def add(self, incident_id: int, room_id: str, message_id: str, user_id: str) -> bool: ...
    def remove(self, incident_id: int, room_id: str, message_id: str, user_id: str) -> bool: ...
    def count(self, incident_id: int, room_id: str, message_id: str) -> int: ...


class ActionItemRepo(Protocol):
    def add(self, item: ActionItem) -> ActionItem:
        """Store a new item, numbering it 1, 2, … within its incident (item.number is ignored)."""
        ...

    def for_incident(self, incident_id: int) -> list[ActionItem]: ...
    def get(self, incident_id: int, number: int) -> ActionItem | None: ...
    def save(self, item: ActionItem) -> None: ...
    def open_items(self) -> list[ActionItem]: ...
    def version(self) -> str:
        """A value that changes whenever any item is added or changed."""
        ...


class EventLog(Protocol):
    def first_delivery(self, event_id: str) -> bool:
        """Record an event id; False when it was seen before (a retry or duplicate)."""
        ...

    def forget_before(self, cutoff: datetime) -> int:
        """Drop ids older than any redelivery could be; returns how many."""
        ...


class DailyClaims(Protocol):
    """Once-a-day nudges (reminders, the briefing): claimed in the database, so sent once."""

    def claim(self, kind: str, subject: str, day: date) -> bool: ...
    def claim_many(self, kind: str, wanted: Sequence[tuple[str, date]]) -> set[tuple[str, date]]:
        """Claim each (subject, day) at once; returns those this call claimed (the others were already)."""
        ...

    def claimed(self, kind: str, subject: str, day: date) -> bool: ...
    def release(self, kind: str, subject: str, day: date) -> None:
        """Give a claim back (its nudge could not be sent), so that a later check sends it."""
        ...


class HomeTabs(Protocol):
    """The page of the Home tab each person last asked for, and when they asked."""

    def looked_at(self, user_id: str, page: int) -> None:
        """`user_id` opened their Home tab at `page` (or turned to it) just now."""
        ...

    def page_of(self, user_id: str) -> int:
        """The page `user_id` last asked for (0 for someone who never opened the tab)."""
        ...

    def recent(self, since: datetime, *, limit: int) -> list[str]:
        """People who looked at their Home tab since `since`, most recent first (at most `limit`)."""
        ...


class JobQueue(Protocol):
    def rows_being_written(self) -> dict[tuple[str, int], ActionStatus]:
        """The new status of each (RCA path, item number) row whose rewrite is still queued, oldest first."""
        ...

    def enqueue(self, job: Job, *, run_at: datetime | None = None, key: str | None = None) -> None:
        """Store `job` to run at `run_at` (default now) once the transaction commits; a job with a `key`
        that was stored before is not stored again."""
        ...

    def enqueue_many(self, jobs: Sequence[Job]) -> None:
        """Store these jobs to run now, in one statement, once the transaction commits."""
        ...


class UnitOfWork(Protocol):
    """One database transaction: everything in it is committed together or not at all."""

    incidents: IncidentRepo
    timeline: TimelineRepo
    pins: PinRepo
    actions: ActionItemRepo
    events: EventLog
    claims: DailyClaims
    jobs: JobQueue
    home_tabs: HomeTabs

    def __enter__(self) -> UnitOfWork: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...
    def commit(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]


class Metrics(Protocol):
    """What the services count (exported as Prometheus metrics by `bot.ops.metrics`)."""

    def published(self, *, ok: bool) -> None: ...
    def reminder_sent(self, reason: str) -> None: ...
    def rca_rows(self, outcome: str) -> None:
        """An RCA timeline's rows made while its resolve form was open: made, used, stale (read again), failed."""
        ...


class NoMetrics:
    def published(self, *, ok: bool) -> None:
        pass

    def reminder_sent(self, reason: str) -> None:
        pass

    def rca_rows(self, outcome: str) -> None:
        pass


class JobStore(Protocol):
    """The worker's side of the durable job queue."""

    def claim(self, worker_id: str, now: datetime, lease_seconds: float, *, fan_out: bool = True) -> ClaimedJob | None:
        """Lease the oldest due job (incident work before fan-out); `fan_out=False`: no fan-out job."""
        ...

    def complete(self, job_id: int, now: datetime, *, then: Sequence[Next] = (), holder: str | None = None) -> bool:
        """Mark the job done and store what follows from it, in one transaction.

        `holder` (here and below): record it only while that worker still holds the lease (False if not).
        """
        ...

    def retry(
        self,
        job_id: int,
        error: str,
        run_at: datetime,
        *,
        now: datetime | None = None,
        then: Sequence[Next] = (),
        holder: str | None = None,
    ) -> bool: ...
    def fail(
        self, job_id: int, error: str, now: datetime, *, then: Sequence[Next] = (), holder: str | None = None
    ) -> bool: ...
    def defer(self, job_id: int, run_at: datetime, *, booked_for: str, holder: str | None = None) -> bool:
        """Put the job back until `run_at` (a rate limit): not an attempt, and the call `booked_for` is booked."""
        ...

    def renew(self, job_ids: Sequence[int], worker_id: str, until: datetime) -> None:
        """Extend the leases this worker holds (its heartbeat while jobs run)."""
        ...

    def release(self, job_ids: Sequence[int], worker_id: str) -> None:
        """Give up leases (a stopping worker), so another worker takes the jobs at once."""
        ...

    def pending(self) -> int: ...
    def purge_finished(self, before: datetime) -> int: ...


class ChatError(Exception):
    """A chat platform call failed; `retryable` failures are tried again later."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


Edit = Callable[[str | None], str]


@dataclass(frozen=True)
class PublishResult:
    """`commit_sha` is the commit this call made (None: nothing changed); `pushed`: the remote has it all."""

    commit_sha: str | None
    pushed: bool
    files: list[str] = field(default_factory=list)


class PublishError(IncidentBotError):
    """Publishing failed; `retryable` when trying again later can work, `commit_sha` if one is kept locally.

    `user_message` is what people in chat read: the problem and the fix, never a path on the bot's host
    or a remote's address. `detail` (and `str(error)`) adds what an operator needs, for logs and the CLI.
    """

    def __init__(
        self, user_message: str, *, retryable: bool = False, commit_sha: str | None = None, detail: str | None = None
    ) -> None:
        super().__init__(user_message)
        self.args = (f"{user_message} ({detail})" if detail else user_message,)
        self.retryable = retryable
        self.commit_sha = commit_sha
        self.detail = detail


class Publisher(Protocol):
    """The team's docs repository: read files, and write several in one published change."""

    def publish(self, *, edits: Mapping[str, Edit], message: str, pulled: bool = False) -> PublishResult:
        """Commit `edits` alone and push; `pulled`: the caller pulled just before (no second fetch)."""
        ...

    def pull(self) -> None: ...
    def read(self, path: str) -> str | None: ...
    def list_files(self, folder: str, *, suffix: str = ".md") -> list[str]: ...
    def head(self) -> str | None:
        """The commit the clone is at (None: no commit yet)."""
        ...

    def list_blobs(self, folder: str, *, suffix: str = ".md") -> dict[str, str]:
        """The files directly in `folder` at HEAD, each with its content's id (which changes with it)."""
        ...

    def read_blobs(self, blob_ids: Sequence[str]) -> dict[str, str]:
        """The contents of these blobs, read in one go."""
        ...


class RoomNameTaken(Exception):
    """The chat platform already has a room of that name."""


@dataclass(frozen=True)
class Room:
    id: str
    name: str


@dataclass(frozen=True)
class ChatMessage:
    room_id: str
    message_id: str
    author_id: str | None
    text: str
    posted_at: datetime


class Membership(Protocol):
    """Who is in which chat room (asked while the person waits, so answers may be cached briefly)."""

    def is_member(self, room_id: str, user_id: str) -> bool: ...


class Chat(Protocol):
    """Everything the services ask of the chat platform."""

    def create_room(self, name: str, *, private: bool) -> Room: ...
    def find_own_room(self, name: str) -> Room | None:
        """The room called `name` that the bot itself created (say, just before it crashed), if any."""
        ...

    def invite(self, room_id: str, user_ids: Sequence[str]) -> None: ...
    def set_topic(self, room_id: str, topic: str) -> None: ...
    def post_summary(self, incident: Incident) -> str: ...
    def pin(self, room_id: str, message_id: str) -> None: ...
    def update_summary(self, incident: Incident) -> None: ...
    def post_in_room(self, room_id: str, text: str) -> str: ...
    def announce_declared(self, channel: str, incident: Incident, *, groups: Sequence[str] = ()) -> str:
        """Post the incident's announcement in `channel`, mentioning the user `groups`; returns the message's id
        (status updates thread under it)."""
        ...

    def announce_severity_change(
        self, channel: str, incident: Incident, previous: Severity, *, groups: Sequence[str] = ()
    ) -> None: ...
    def escalate_to(self, user_id: str, incident: Incident) -> None: ...
    def incident_ready(self, reply: Reply, incident: Incident) -> None: ...
    def severity_changed(self, incident: Incident, previous: Severity, by: str) -> None: ...
    def commander_changed(self, incident: Incident, by: str) -> None: ...
    def role_changed(self, incident: Incident, role: Role, by: str) -> None: ...
    def tell(self, reply: Reply, text: str) -> None: ...
    def fetch_message(self, room_id: str, message_id: str) -> ChatMessage | None: ...
    def permalink(self, room_id: str, message_id: str) -> str | None: ...
    def confirm_recorded(self, room_id: str, message_id: str) -> None: ...
    def unconfirm_recorded(self, room_id: str, message_id: str) -> None: ...
    def display_names(self, user_ids: Sequence[str]) -> dict[str, str]: ...
    def action_item_added(self, incident: Incident, item: ActionItem, by: str) -> None: ...
    def resolved_notice(self, incident: Incident, by: str) -> None: ...
    def announce_resolved(self, channel: str, incident: Incident, by: str) -> None: ...
    def reopened_notice(self, incident: Incident, by: str) -> None: ...
    def share_draft(self, reply: Reply, incident: Incident, markdown: str) -> None: ...
    def post_status_update(self, incident: Incident, update: TimelineEntry, *, every: timedelta | None) -> str:
        """Post a status update in the incident's room (`every`: when the next one is due)."""
        ...

    def announce_status_update(
        self, channel: str, thread: str | None, incident: Incident, update: TimelineEntry
    ) -> None:
        """Post a status update in the thread of the incident's announcement (`thread` None: in `channel`)."""
        ...

    def nudge_for_update(self, incident: Incident, *, target: str, every: timedelta, silent_for: timedelta) -> None:
        """Ask `target`, in the incident's room, for the status update that is due."""
        ...

    def similar_incidents(self, incident: Incident, past: Sequence[PastIncident]) -> None:
        """Show the incident's channel the past incidents most like it, best first."""
        ...

    def people(self) -> list[Person]: ...
    def is_member(self, room_id: str, user_id: str) -> bool: ...
    def action_status_changed(self, incident: Incident, item: ActionItem, by: str) -> None: ...
    def send_action_items(
        self, user_id: str, items: Sequence[OpenItem], *, reason: str, now: datetime, rca_links: Mapping[str, str]
    ) -> None: ...
    def publish_home(self, view: HomeView) -> None:
        """Show `view` as its person's Home tab."""
        ...

    def post_briefing(
        self,
        channel: str,
        groups: Sequence[BriefingGroup],
        missing_rcas: Sequence[Incident],
        *,
        now: datetime,
        rca_links: Mapping[str, str],
        guide_problems: Sequence[str] = (),
    ) -> None: ...
    def rca_published(
        self,
        incident: Incident,
        *,
        path: str | None,
        fleet_status_path: str,
        web_link: str | None,
        commit: str | None,
        pushed: bool,
    ) -> None: ...


class RoomUpkeep(Protocol):
    """What keeping an incident's channel asks of the chat platform: bookmarks, archiving, bringing it back."""

    def add_bookmark(self, room_id: str, *, title: str, link: str) -> None:
        """Add a link to the room's bookmarks (once: a retry finds the one an earlier attempt added)."""
        ...

    def archive_notice(self, room_id: str, *, room_name: str | None, resolved_at: datetime) -> bool:
        """Tell the room it is being archived; False when it is archived already."""
        ...

    def archive(self, room_id: str) -> None: ...
    def is_archived(self, room_id: str) -> bool | None:
        """Whether the room is archived; None when the platform no longer shows it to the bot."""
        ...

    def unarchive(self, room_id: str) -> bool:
        """Bring the room back; False when the platform refuses (Slack refuses bot tokens today)."""
        ...

    def members(self, room_id: str) -> list[str]:
        """Who is in the room (empty when that cannot be read)."""
        ...

    def moved_notice(self, room_id: str, *, from_room_id: str) -> None:
        """Tell a reopened incident's new room where its archived first room is."""
        ...
