"""Writing the RCA, the fleet-status entry and the incident history into the docs repo."""

from __future__ import annotations

import logging
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
from bot.core.ports import Chat, Edit, Publisher, PublishError, PublishResult
from bot.core.rca import fleet_status_line, rca_filename, render_rca, safe_join, zone_for
from bot.core.rca_parse import set_action_status
from bot.services.context import ServiceContext

if TYPE_CHECKING:
    import jinja2

log = logging.getLogger(__name__)

NEW_FLEET_STATUS = "# Fleet Status\n"


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

    def load(self, incident_id: int) -> IncidentRecord:
        with self._ctx.reader() as uow:
            incident = uow.incidents.get(incident_id)
            if incident is None:
                raise PublishError(f"incident #{incident_id} no longer exists")
            return IncidentRecord(incident, uow.timeline.lines(incident_id), uow.actions.for_incident(incident_id))

    def names_for(self, record: IncidentRecord) -> dict[str, str]:
        """Display names of everyone the RCA mentions."""
        ids = {record.incident.commander_id, record.incident.declared_by, *record.incident.roles.values()}
        ids |= {entry.author_id for entry in record.timeline if entry.author_id}
        ids |= {item.owner_id for item in record.actions if item.owner_id}
        for text in [entry.text for entry in record.timeline] + [
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
