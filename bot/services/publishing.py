"""Writing the RCA, the fleet-status entry and the incident history into the docs repo."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from bot.core.doc_updates import add_history_row, insert_fleet_status_entry, relative_link
from bot.core.errors import RetryLater
from bot.core.jobs import DmOwners, Next, PublishProblemNotice, PublishRca, RcaPublishedNotice, UpdateRcaRow
from bot.core.markdown import mentioned_user_ids
from bot.core.models import ActionItem, Incident, TimelineLine
from bot.core.ports import Chat, Edit, Metrics, Publisher, PublishError, PublishResult, UnitOfWork
from bot.core.rca import (
    RCA_TEMPLATE,
    TimelineTable,
    fleet_status_line,
    make_timeline_table,
    rca_filename,
    render_rca,
    safe_join,
    timeline_user_ids,
    zone_for,
)
from bot.core.rca_parse import set_action_status
from bot.services.context import ServiceContext

if TYPE_CHECKING:
    import jinja2

log = logging.getLogger(__name__)

NEW_FLEET_STATUS = "# Fleet Status\n"
# A resolve form that opened fetched the docs repo: a publish within this long of it pushes without
# fetching again (if someone pushed meanwhile, the push is refused and the publish fetches and rebases).
FETCHED_FRESH_S = 300.0
# Timeline tables made for resolve forms, kept for this many incidents at most (a 10,000-entry timeline's
# takes about 10 MB), for this long at most (a form closed without a submit leaves one), and waited for
# this long by a publish that finds one still being made.
PREPARED_KEEP = 3
PREPARED_TTL_S = 3600.0
PREPARED_WAIT_S = 10.0


@dataclass(frozen=True)
class DocsLayout:
    """Where things live in the docs repo, and how they are rendered."""

    incidents_dir: str = "DOCS/incidents"
    fleet_status_path: str = "fleet-status.md"
    runbook_path: str | None = None
    tz: str = "UTC"
    web_url: str | None = None

    def web_link(self, path: str) -> str | None:
        return f"{self.web_url.rstrip('/')}/{path}" if self.web_url else None


@dataclass(frozen=True)
class IncidentRecord:
    incident: Incident
    timeline: list[TimelineLine]
    actions: list[ActionItem]
    # Rows made earlier for entries of `timeline` that have not changed since (see `PreparedTimelines`).
    made: TimelineTable | None = None


@dataclass(frozen=True)
class _Prepared:
    """A timeline as a resolve form's opening read it, and its rows."""

    edits: int
    lines: list[TimelineLine]
    table: TimelineTable
    last_id: int


class _Preparing:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.prepared: _Prepared | None = None
        self.started = time.monotonic()


class PreparedTimelines:
    """RCA timeline rows made while a resolve form is open, kept in this process for the publish that follows.

    A 10,000-entry timeline takes a few hundred milliseconds to read and turn into rows; people take far
    longer to fill the form. The publish uses a table only if its timeline's edit count is unchanged (no
    entry changed or removed) and every entry still there is one the table had or one added since, which it
    reads then (the resolve adds one). Anything else, or a publish in another process, reads and makes
    everything, as without a table.
    """

    def __init__(self, metrics: Metrics, *, keep: int = PREPARED_KEEP, ttl: float = PREPARED_TTL_S) -> None:
        self._metrics = metrics
        self._keep = keep
        self._ttl = ttl
        self._lock = threading.Lock()
        self._tables: OrderedDict[int, _Preparing] = OrderedDict()

    def start(self, incident_id: int) -> _Preparing | None:
        """A new slot for the incident's table, or None when one is being made now."""
        with self._lock:
            now = time.monotonic()
            for key in [key for key, slot in self._tables.items() if now - slot.started > self._ttl]:
                del self._tables[key]
            current = self._tables.get(incident_id)
            if current is not None and not current.done.is_set():
                return None
            slot = self._tables[incident_id] = _Preparing()
            self._tables.move_to_end(incident_id)
            while len(self._tables) > self._keep:
                self._tables.popitem(last=False)
            return slot

    def get(self, incident_id: int, *, wait: float = PREPARED_WAIT_S) -> _Prepared | None:
        """The incident's table, waiting a while for one being made."""
        with self._lock:
            slot = self._tables.get(incident_id)
        if slot is None or not slot.done.wait(wait):
            return None
        return slot.prepared

    def forget(self, incident_id: int) -> None:
        with self._lock:
            self._tables.pop(incident_id, None)

    def timeline(
        self, uow: UnitOfWork, incident_id: int, prepared: _Prepared | None
    ) -> tuple[list[TimelineLine], TimelineTable | None]:
        """The incident's timeline, and `prepared`'s table (`get`) when that still holds for it."""
        if prepared is not None:
            newer = uow.timeline.lines(incident_id, after=prepared.last_id)
            # In this order: the count after the entries added, the edits last. Entries are only added
            # while the edit count stays put, so if the count is what the table has plus those, no entry
            # is missing (one given a lower id but committed after the table was made would make it more).
            count = uow.timeline.count(incident_id)
            if count == len(prepared.lines) + len(newer) and uow.timeline.edits(incident_id) == prepared.edits:
                self._metrics.rca_rows("used")
                return [*prepared.lines, *newer], prepared.table
            self._metrics.rca_rows("stale")
        return uow.timeline.lines(incident_id), None


def retry_delay(attempts: int) -> float:
    """Half a minute, doubling, at most an hour: a docs repo outage rarely lasts long."""
    return float(min(30 * 2 ** max(attempts - 1, 0), 3600))


class RcaPublishing:
    """Renders an incident's RCA and publishes it with the runbook's other documents."""

    def __init__(
        self,
        ctx: ServiceContext,
        chat: Chat,
        publisher: Publisher | None,
        layout: DocsLayout,
        templates: Callable[[], jinja2.Environment],
    ) -> None:
        self._ctx = ctx
        self._chat = chat
        self._publisher = publisher
        self._layout = layout
        self._templates = templates
        self._prepared = PreparedTimelines(ctx.metrics)
        self._fetched_at: float | None = None

    def prepare_in_background(self, incident_id: int) -> None:
        """A resolve form has just opened: in a thread of its own, read the incident's timeline and make its
        RCA rows, load the RCA template and fetch the docs repo, so that the submit's publish has little
        left to do. Best effort: whatever fails here, the publish does itself."""
        slot = self._prepared.start(incident_id)
        if slot is not None:
            threading.Thread(target=self._prepare, args=(incident_id, slot), name="rca-prepare", daemon=True).start()

    def _prepare(self, incident_id: int, slot: _Preparing) -> None:
        try:
            slot.prepared = self._make_table(incident_id)
        except Exception:
            self._ctx.metrics.rca_rows("failed")
            log.info("could not make incident #%s's RCA rows ahead of its resolve", incident_id, exc_info=True)
        finally:
            slot.done.set()  # a publish waiting for the rows need not wait for the fetch
        try:
            self._templates().get_template(RCA_TEMPLATE)
            if self._publisher is not None:
                self._publisher.pull()
                self._fetched_at = time.monotonic()
        except Exception:
            log.info("could not get the docs repo ready ahead of a resolve", exc_info=True)
        if slot.prepared is not None:
            self._ctx.metrics.rca_rows("made")  # counted once all of it is done

    def _make_table(self, incident_id: int) -> _Prepared | None:
        with self._ctx.reader() as uow:
            incident = uow.incidents.get(incident_id)
            if incident is None:
                return None
            # The edit count before the entries: an edit in between makes the table look older, never newer.
            edits = uow.timeline.edits(incident_id)
            lines = uow.timeline.lines(incident_id)
        names = self._chat.display_names(sorted(timeline_user_ids(lines)))
        table = make_timeline_table(lines, names, tz=self._layout.tz)
        last_id = max((line.id for line in lines), default=0)
        return _Prepared(edits=edits, lines=lines, table=table, last_id=last_id)

    def load(self, incident_id: int) -> IncidentRecord:
        prepared = self._prepared.get(incident_id)  # waited for outside any transaction
        with self._ctx.reader() as uow:
            incident = uow.incidents.get(incident_id)
            if incident is None:
                raise PublishError(f"incident #{incident_id} no longer exists")
            timeline, made = self._prepared.timeline(uow, incident_id, prepared)
            return IncidentRecord(incident, timeline, uow.actions.for_incident(incident_id), made)

    def names_for(self, record: IncidentRecord) -> dict[str, str]:
        """Display names of everyone the RCA mentions."""
        ids = {record.incident.commander_id, record.incident.declared_by, *record.incident.roles.values()}
        ids |= {item.owner_id for item in record.actions if item.owner_id}
        if record.made is None:
            ids |= timeline_user_ids(record.timeline)
        else:
            rows = record.made.rows
            ids |= record.made.names.keys()
            ids |= timeline_user_ids(entry for entry in record.timeline if entry.id not in rows)
        for text in [
            record.incident.title,
            record.incident.summary,
            record.incident.root_causes,
            record.incident.resolution,
            record.incident.lessons,
            *[item.action for item in record.actions],
        ]:
            ids |= mentioned_user_ids(text)
        return self._chat.display_names(sorted(ids))

    def render(self, record: IncidentRecord) -> str:
        incident = record.incident
        return render_rca(
            incident=incident,
            timeline=record.timeline,
            action_items=record.actions,
            names=self.names_for(record),
            summary=incident.summary,
            root_causes=incident.root_causes,
            resolution=incident.resolution,
            lessons=incident.lessons,
            tz=self._layout.tz,
            resolved_at=incident.resolved_at,
            templates=self._templates(),
            roles=self._ctx.policy.roles,
            made=record.made,
        )

    def publish(self, job: PublishRca, *, job_id: int, attempts: int) -> list[Next]:
        """Commit and push the RCA; what follows (the channel's notice, the owners' DMs) are jobs of their own.

        On a failure the channel and the owners hear at once (the owners need not wait for the docs
        repo to come back), and the publish is retried on its own; keys make each of those happen once.
        """
        record = self.load(job.incident_id)
        incident = record.incident
        if incident.is_active:
            return []  # Reopened before this ran: the next resolve publishes.
        dm_owners = Next(DmOwners(incident_id=job.incident_id, asked_by=job.asked_by), key=f"dm-owners:{job_id}")
        if self._publisher is None:
            problem = (
                "No docs repo is configured (`DOCS_REPO_PATH`), so the RCA was not committed. "
                "`/incident rca` shows the draft."
            )
            notice = PublishProblemNotice(incident_id=job.incident_id, problem=problem, commit=None)
            return [Next(notice, key=f"publish-problem:{job_id}"), dm_owners]
        try:
            path, result = self._publish(record, self._publisher)
            self._prepared.forget(job.incident_id)
        except PublishError as error:
            self._ctx.metrics.published(ok=False)
            notice = PublishProblemNotice(
                incident_id=job.incident_id, problem=error.user_message, commit=error.commit_sha
            )
            then = [Next(notice, key=f"publish-problem:{job_id}"), dm_owners]
            raise RetryLater(str(error), delay_seconds=retry_delay(attempts), then=then) from error
        self._ctx.metrics.published(ok=True)
        published = RcaPublishedNotice(
            incident_id=job.incident_id,
            path=path,
            commit=result.commit_sha or incident.rca_commit,
            pushed=result.pushed,
        )
        return [Next(published, key=f"published:{job_id}"), dm_owners]

    def published_notice(self, job: RcaPublishedNotice) -> None:
        incident = self._ctx.existing_incident(job.incident_id, PublishError)  # a notice needs no timeline
        self._chat.rca_published(
            incident,
            path=job.path,
            fleet_status_path=self._layout.fleet_status_path,
            web_link=self._layout.web_link(job.path) if job.path else None,
            commit=job.commit,
            pushed=job.pushed,
        )

    def problem_notice(self, job: PublishProblemNotice) -> None:
        incident = self._ctx.existing_incident(job.incident_id, PublishError)  # a notice needs no timeline
        if not incident.room_id:
            return
        if self._publisher is None:
            self._chat.post_in_room(incident.room_id, f":information_source: {job.problem}")
            return
        kept = f"committed locally as `{job.commit[:10]}`" if job.commit else "kept in the bot's database"
        self._chat.post_in_room(
            incident.room_id,
            f":warning: The incident is resolved, but I could not publish the RCA: {job.problem}\n"
            f"The RCA is {kept}. I will keep retrying on my own; `incident-bot publish --retry` retries now.",
        )

    def update_row(self, job: UpdateRcaRow) -> None:
        """Rewrite one action item's Status cell in its RCA and push it as a small commit."""
        if self._publisher is None:
            return
        status, number = job.status, job.number
        try:
            self._publisher.publish(
                edits={job.path: lambda current: set_action_status(current or "", number, status)},
                message=f"{job.title[:200]}: action item #{number} {status.value}",
            )
        except PublishError as error:
            if error.retryable:
                raise RetryLater(str(error), delay_seconds=60) from error
            raise

    def _publish(self, record: IncidentRecord, publisher: Publisher) -> tuple[str | None, PublishResult]:
        incident = record.incident
        fetched = self._fetched_at
        if fetched is not None and time.monotonic() - fetched < FETCHED_FRESH_S:
            # The resolve form's opening fetched the docs repo a moment ago: commit and push straight away.
            return self._commit(record, publisher, self.render(record) if incident.needs_rca else "", pulled=True)
        # The docs repo is fetched while the RCA is rendered (a long timeline takes a while): the render
        # needs nothing from the repo, and the fetch is a git process, so neither waits for the other.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="docs-pull") as pool:
            pulling = pool.submit(publisher.pull)
            markdown = self.render(record) if incident.needs_rca else ""
            pulled = True
            try:
                pulling.result()
            except PublishError as error:
                pulled = False  # publish() tries the remote again, and commits locally if it is still down
                log.warning("could not update the docs repo before publishing: %s", error)
        return self._commit(record, publisher, markdown, pulled=pulled)

    def _commit(
        self, record: IncidentRecord, publisher: Publisher, markdown: str, *, pulled: bool
    ) -> tuple[str | None, PublishResult]:
        incident = record.incident
        layout = self._layout
        path = None
        edits: dict[str, Edit] = {}
        if incident.needs_rca:
            path = incident.rca_path or self._claim_path(incident, publisher)
            incident.rca_path = path
            edits[path] = lambda _current: markdown
        line = fleet_status_line(incident=incident, summary=incident.summary, rca_path=path, tz=layout.tz)
        edits[layout.fleet_status_path] = lambda current: _with_fleet_line(current, line)
        if path and layout.runbook_path and publisher.read(layout.runbook_path) is not None:
            runbook, declared_on, link = (
                layout.runbook_path,
                self._declared_on(incident),
                relative_link(layout.runbook_path, path),
            )
            edits[runbook] = lambda current: add_history_row(
                current or "",
                date=declared_on,
                severity=incident.severity,
                summary=f"{incident.title} — {incident.summary}",
                rca_link=link,
            )
        what = "RCA and fleet-status entry" if path else "fleet-status entry"
        result = publisher.publish(
            edits=edits,
            message=f"{incident.severity} {incident.title[:200]}: {what} (incident #{incident.id})",
            pulled=pulled,
        )
        if result.commit_sha:
            incident.rca_commit = result.commit_sha
            with self._ctx.uow() as uow:
                uow.incidents.set_rca_commit(_id(incident), result.commit_sha)
                uow.commit()
        return path, result

    def _claim_path(self, incident: Incident, publisher: Publisher) -> str:
        """The first free `YYYY-MM-DD-<slug>[-N]-rca.md`: not in the docs repo, and not another incident's.

        It is recorded before anything is written, so a retry after a crash reuses it, and the database
        keeps paths unique, so two replicas resolving same-titled incidents get two files.
        """
        taken: set[str] = set()
        while True:
            name = rca_filename(declared_on=self._declared_on(incident), title=incident.title, taken=taken)
            path = safe_join(self._layout.incidents_dir, name)
            if publisher.read(path) is None:
                with self._ctx.uow() as uow:
                    claimed = uow.incidents.claim_rca_path(_id(incident), path)
                    uow.commit()
                if claimed:
                    return path
            taken.add(name)

    def _declared_on(self, incident: Incident) -> date:
        return incident.declared_at.astimezone(zone_for(self._layout.tz)).date()


def _with_fleet_line(current: str | None, line: str) -> str:
    text = current if current is not None else NEW_FLEET_STATUS
    if line in text.splitlines():
        return text  # Already there: a retry after a crash must not add it twice.
    return insert_fleet_status_entry(text, line)


def _id(incident: Incident) -> int:
    assert incident.id is not None, "a stored incident has an id"
    return incident.id
