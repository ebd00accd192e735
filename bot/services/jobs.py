"""The work done after Slack is answered: one small job per side effect, each safe to run again.

A job that needs the incident's channel before it exists (a severity change made while the channel
is being created) waits for it; the channel's own setup always uses the incident as it is by then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, assert_never

from bot.core import jobs as j
from bot.core import lifecycle
from bot.core.errors import IncidentBotError, RetryLater
from bot.core.jobs import ClaimedJob, Next
from bot.core.models import Incident, Reply, TimelineEntry, TimelineKind
from bot.core.paging import PageAction, PageEvent, Pager, PagingError, dedup_key_for
from bot.core.ports import Chat, ChatError
from bot.core.roles import Role
from bot.services.channel_upkeep import ChannelUpkeep, reopen_notices
from bot.services.context import ServiceContext
from bot.services.home import HomeTab, refresh_soon
from bot.services.publishing import RcaPublishing
from bot.services.reminders import Reminders
from bot.services.rooms import open_room
from bot.services.status_updates import StatusUpdateJobs

if TYPE_CHECKING:
    from bot.services.digest import WeeklyDigest
    from bot.services.similar import SimilarIncidents

log = logging.getLogger(__name__)

# A paging service that is down or rate-limits is tried again this often, this many times in all.
PAGE_RETRY_SECONDS = 20.0
PAGE_ATTEMPTS = 8
# Jobs for a channel still being created wait this long between looks, and give up after ~2 minutes.
ROOM_WAIT_SECONDS = 2.0
ROOM_WAIT_ATTEMPTS = 60


class RoomNotReady(RetryLater):
    def __init__(self) -> None:
        super().__init__(
            "the incident's channel is not created yet",
            delay_seconds=ROOM_WAIT_SECONDS,
            max_attempts=ROOM_WAIT_ATTEMPTS,
        )


class PageRefused(IncidentBotError):
    """The paging service refused the page (a bad key, a bad request): trying again will not help."""


class JobHandlers:
    """Runs one job of each kind against the chat platform, the docs repo and the database."""

    def __init__(
        self,
        ctx: ServiceContext,
        chat: Chat,
        publishing: RcaPublishing,
        reminders: Reminders,
        home: HomeTab,
        *,
        pagers: Sequence[Pager] = (),
        workspace: str = "",
        similar: Callable[[], SimilarIncidents] | None = None,
        upkeep: ChannelUpkeep | None = None,
        digest: Callable[[], WeeklyDigest] | None = None,
    ) -> None:
        # `similar` and `digest` build their service on first use (a declare, a digest job).
        self._ctx = ctx
        self._chat = chat
        self._publishing = publishing
        self._reminders = reminders
        self._home = home
        self._pagers = {pager.name: pager for pager in pagers}
        self._workspace = workspace
        self._similar = similar
        self._upkeep = upkeep
        self._digest = digest
        self._updates = StatusUpdateJobs(ctx, chat)

    def run(self, claimed: ClaimedJob) -> Sequence[Next]:
        """Run a job; returns the jobs that follow from it. Raises ChatError (maybe retryable) or a domain error."""
        job = claimed.job
        assert job is not None, "unreadable jobs are failed by the runner"
        match job:
            case j.CreateRoom():
                self._create_room(job)
                return [Next(j.SetUpRoom(incident_id=job.incident_id, asked_by=job.asked_by))]
            case j.SetUpRoom():
                incident = self._room(job.incident_id)
                members = list(dict.fromkeys([incident.declared_by, incident.commander_id]))
                members += [user for user in self._ctx.policy.level(incident.severity).invite if user not in members]
                self._chat.invite(incident.room_id or "", members)
                self._chat.set_topic(incident.room_id or "", lifecycle.topic_for(incident))
                bookmarks = self._upkeep.room_bookmarks(incident) if self._upkeep is not None else []
                return [Next(j.PostSummary(incident_id=job.incident_id, asked_by=job.asked_by)), *bookmarks]
            case j.InviteToRoom():
                self._chat.invite(self._room(job.incident_id).room_id or "", list(job.user_ids))
                return []
            case j.SetTopic():
                incident = self._room(job.incident_id)
                self._chat.set_topic(incident.room_id or "", lifecycle.topic_for(incident))
                return []
            case j.PostSummary():
                return [*self._post_summary(job), refresh_soon(self._ctx.clock.now())]
            case j.PinSummary():
                incident = self._room(job.incident_id)
                if incident.summary_message_id:
                    self._chat.pin(incident.room_id or "", incident.summary_message_id)
                return []
            case j.UpdateSummary():
                incident = self._room(job.incident_id)
                if incident.summary_message_id is None:
                    raise RoomNotReady()  # the summary is posted with the incident as it is then
                self._chat.update_summary(incident)
                return []
            case j.AnnounceDeclared():
                channel = self._ctx.policy.announce_channel
                if channel:
                    incident = self._room(job.incident_id)
                    groups = self._ctx.policy.level(incident.severity).mention_groups
                    message_id = self._chat.announce_declared(channel, incident, groups=groups)
                    # Recorded at once: the incident's status updates are posted in its thread.
                    self._updates.record_announcement(job.incident_id, channel, message_id)
                    if self._upkeep is not None:
                        incident = self._room(job.incident_id)
                        return self._upkeep.announcement_bookmark(incident, channel, message_id)
                return []
            case j.EscalateDm():
                self._chat.escalate_to(job.user_id, self._room(job.incident_id))
                return []
            case j.TellReady():
                if job.asked_by is not None:
                    self._chat.incident_ready(job.asked_by, self._room(job.incident_id))
                return []
            case j.SeverityNotice():
                self._chat.severity_changed(self._room(job.incident_id), job.previous, job.by)
                return [refresh_soon(self._ctx.clock.now())]
            case j.AnnounceSeverity():
                if self._ctx.policy.announce_channel:
                    incident = self._room(job.incident_id)
                    # A level's groups are mentioned when the incident is raised to it, not when lowered.
                    raised = incident.severity.outranks(job.previous)
                    groups = self._ctx.policy.level(incident.severity).mention_groups if raised else ()
                    self._chat.announce_severity_change(
                        self._ctx.policy.announce_channel, incident, job.previous, groups=groups
                    )
                return []
            case j.CommanderNotice():
                self._chat.commander_changed(self._room(job.incident_id), job.by)
                return [refresh_soon(self._ctx.clock.now())]
            case j.RoleNotice():
                self._chat.role_changed(self._room(job.incident_id), Role(key=job.role, label=job.label), job.by)
                return []
            case j.CaptureMessage():
                return self._capture(job)
            case j.ConfirmRecorded():
                self._chat.confirm_recorded(job.room_id, job.message_id)
                return []
            case j.UnconfirmRecorded():
                self._chat.unconfirm_recorded(job.room_id, job.message_id)
                return []
            case j.SendPage():
                self._send_page(job)
                return []
            case j.PageFailedNotice():
                self._chat.post_in_room(self._room(job.incident_id).room_id or "", job.text)
                return []
            case j.Tell():
                if job.asked_by is not None:
                    self._chat.tell(job.asked_by, job.text)
                return []
            case j.ActionAddedNotice():
                incident = self._room(job.incident_id)
                with self._ctx.uow() as uow:
                    item = uow.actions.get(job.incident_id, job.number)
                if item is not None:
                    self._chat.action_item_added(incident, item, job.by)
                return []
            case j.ItemStatusNotice():
                incident = self._room(job.incident_id)
                with self._ctx.uow() as uow:
                    item = uow.actions.get(job.incident_id, job.number)
                if item is not None:
                    self._chat.action_status_changed(incident, item, job.by)
                return []
            case j.UpdateRcaRow():
                self._publishing.update_row(job)
                return []
            case j.PublishRca():
                return self._publishing.publish(job, job_id=claimed.id, attempts=claimed.attempts)
            case j.RcaPublishedNotice():
                self._publishing.published_notice(job)
                return self._upkeep.rca_bookmark(job) if self._upkeep is not None else []
            case j.PublishProblemNotice():
                self._publishing.problem_notice(job)
                return []
            case j.ResolvedNotice():
                incident = self._incident(job.incident_id)
                if not incident.is_active and incident.room_id:
                    self._chat.resolved_notice(incident, job.by)
                return [refresh_soon(self._ctx.clock.now())]
            case j.AnnounceResolved():
                incident = self._incident(job.incident_id)
                if not incident.is_active and self._ctx.policy.announce_channel:
                    self._chat.announce_resolved(self._ctx.policy.announce_channel, incident, job.by)
                return []
            case j.ReopenedNotice():
                self._chat.reopened_notice(self._room(job.incident_id), job.by)
                return [refresh_soon(self._ctx.clock.now())]
            case j.PostStatusUpdate():
                self._updates.post(job)
                return []
            case j.AnnounceStatusUpdate():
                self._updates.announce(job)
                return []
            case j.NudgeForUpdate():
                self._updates.nudge(job)
                return []
            case j.PostSimilarIncidents():
                if self._similar is not None:
                    self._similar().post(self._room(job.incident_id))
                return []
            case j.AddBookmark() | j.ArchiveRoom() | j.ReviveRoom() | j.MoveIn():
                if self._upkeep is None:
                    return reopen_notices(job) if isinstance(job, j.ReviveRoom) else []
                return self._upkeep.run(job)
            case j.PreviewRca():
                record = self._publishing.load(job.incident_id)
                if job.asked_by is not None:
                    self._chat.share_draft(job.asked_by, record.incident, self._publishing.render(record))
                return []
            case j.DmOwners():
                return self._reminders.dm_owners_of(job.incident_id, parent_job=claimed.id)
            case j.SendActionItems():
                self._reminders.send_action_items(job)
                return []
            case j.PublishHome():
                self._home.publish(job)
                return []
            case j.RefreshHomes():
                return self._home.refresh(job_id=claimed.id)
            case j.PostBriefing():
                self._reminders.post_briefing_job(job)
                return []
            case j.PostDigest():
                return self._weekly_digest().post_job(job)
            case j.UploadDigestCharts():
                self._weekly_digest().charts_job(job)
                return []
            case _:
                assert_never(job)

    def after_failure(self, claimed: ClaimedJob, error: Exception) -> None:
        """Give back the daily claim of a job that failed for good (what people hear is `failure_jobs`')."""
        claim = getattr(claimed.job, "claim", None)
        if isinstance(claim, j.DailyClaim):
            with self._ctx.uow() as uow:
                uow.claims.release(claim.kind, claim.subject, claim.day)
                uow.commit()

    def failure_jobs(self, claimed: ClaimedJob, error: Exception) -> Sequence[Next]:
        """What people hear of a job's failing for good, as jobs stored with the failure (in its transaction):
        a crash right after it loses no warning, and a retried failure is not said twice.

        A refused page is said in the incident's channel: the page runs beside the channel's creation,
        so a service that refuses at once answers before the channel exists, and the warning waits for
        it. Any other job that someone asked for tells them privately, unless it was itself such a telling.
        """
        job = claimed.job
        if isinstance(job, j.SendPage):
            verb = "page the on-call through" if job.action == "trigger" else "resolve the page in"
            text = f":warning: I could not {verb} {job.service}: {error}"
            if job.action == "trigger":
                text += " Page the on-call by hand."
            notice = j.PageFailedNotice(incident_id=job.incident_id, text=text, asked_by=job.asked_by)
            return [Next(notice, key=f"page-failed:{claimed.id}")]
        if job is None or job.asked_by is None or isinstance(job, j.Tell):
            return []
        if isinstance(job, j.PageFailedNotice):
            text = job.text  # the channel never came: the warning goes to the person who declared, as it is
        else:
            what = _DESCRIPTIONS.get(job.kind, "finish that")
            # What people read names the problem, never a path on the bot's host (details stay in the log).
            reason = error.user_message if isinstance(error, IncidentBotError) else str(error)
            text = f":warning: Sorry, I could not {what}: {reason}"
        return [Next(j.Tell(asked_by=job.asked_by, text=text), key=f"failure-told:{claimed.id}")]

    def _weekly_digest(self) -> WeeklyDigest:
        if self._digest is None:
            raise ChatError("the weekly digest is not set up in this process")
        return self._digest()

    def _send_page(self, job: j.SendPage) -> None:
        pager = self._pagers.get(job.service)
        if pager is None:
            return  # the service is no longer configured
        incident = self._incident(job.incident_id)
        event = PageEvent(
            action=PageAction(job.action),
            dedup_key=dedup_key_for(
                incident_id=job.incident_id, declared_at=incident.declared_at, workspace=self._workspace
            ),
            incident_id=job.incident_id,
            severity=str(incident.severity),
            title=incident.title,
            private=incident.private,
            declared_by=incident.declared_by,
            link=None,
        )
        try:
            receipt = pager.send(event)
        except PagingError as error:
            if not error.retryable:
                raise PageRefused(str(error)) from None
            delay = error.retry_after if error.retry_after is not None else PAGE_RETRY_SECONDS
            raise RetryLater(str(error), delay_seconds=delay, max_attempts=PAGE_ATTEMPTS) from None
        log.info("paged %s (%s) for incident #%s: %s", job.service, job.action, job.incident_id, receipt)

    def _incident(self, incident_id: int) -> Incident:
        return self._ctx.existing_incident(incident_id, ChatError)

    def _room(self, incident_id: int) -> Incident:
        """The incident, once its channel exists."""
        incident = self._incident(incident_id)
        if incident.room_id is None:
            raise RoomNotReady()
        return incident

    def _create_room(self, job: j.CreateRoom) -> None:
        incident = self._incident(job.incident_id)
        if incident.room_id is None:
            open_room(self._ctx, self._chat, incident)

    def _post_summary(self, job: j.PostSummary) -> Sequence[Next]:
        incident = self._room(job.incident_id)
        if incident.summary_message_id is None:
            message_id = self._chat.post_summary(incident)
            with self._ctx.uow() as uow:
                uow.incidents.set_summary_message(job.incident_id, message_id)
                uow.commit()
            incident = self._incident(job.incident_id)
        then = [
            Next(
                j.PinSummary(incident_id=job.incident_id, asked_by=job.asked_by), key=f"pin-summary:{job.incident_id}"
            ),
            Next(
                j.AnnounceDeclared(incident_id=job.incident_id, asked_by=job.asked_by),
                key=f"announce-declared:{job.incident_id}",
            ),
        ]
        then += escalation(self._ctx, incident, job.asked_by)
        if job.asked_by is not None:
            then.append(Next(j.TellReady(incident_id=job.incident_id, asked_by=job.asked_by)))
        # Last, and after the summary, which stays the channel's first message. Once per channel: a
        # reopened incident given a new channel is shown them again (without its own RCA).
        similar = j.PostSimilarIncidents(incident_id=job.incident_id)
        then.append(Next(similar, key=f"similar:{job.incident_id}:{incident.room_id}"))
        return then

    def _capture(self, job: j.CaptureMessage) -> Sequence[Next]:
        with self._ctx.uow() as uow:
            existing = uow.timeline.by_source(job.incident_id, job.room_id, job.message_id)
            still_pinned = uow.pins.count(job.incident_id, job.room_id, job.message_id) > 0
        if existing is None and job.via_pin and not still_pinned:
            return []  # unpinned again before it was recorded
        if existing is None:
            message = self._chat.fetch_message(job.room_id, job.message_id)
            if message is None:
                raise ChatError("I cannot read that message (is the bot a member of that channel?)")
            entry = TimelineEntry(
                incident_id=job.incident_id,
                kind=TimelineKind.MESSAGE,
                occurred_at=message.posted_at,
                author_id=message.author_id,
                text=message.text,
                source_room_id=job.room_id,
                source_message_id=job.message_id,
                permalink=self._chat.permalink(job.room_id, job.message_id),
            )
            with self._ctx.uow() as uow:
                # A concurrent capture of the same message may have won; the unique source keeps one entry.
                uow.timeline.add(entry)
                uow.commit()
        elif not job.via_pin:
            if job.asked_by is not None:
                return [Next(j.Tell(text="That message is already on the incident's timeline.", asked_by=job.asked_by))]
            return []
        then = [
            Next(
                j.ConfirmRecorded(room_id=job.room_id, message_id=job.message_id),
                key=f"confirm:{job.incident_id}:{job.room_id}:{job.message_id}",
            )
        ]
        if job.asked_by is not None and not job.via_pin:
            title = self._incident(job.incident_id).title
            then.append(Next(j.Tell(text=f"Added to the timeline of *{title}*.", asked_by=job.asked_by)))
        return then


def escalation(ctx: ServiceContext, incident: Incident, asked_by: Reply | None) -> list[Next]:
    """The level's escalation (SEV-1: SEV1_ESCALATION_USERS by default): a DM to each person, once per incident."""
    assert incident.id is not None
    return [
        Next(
            j.EscalateDm(incident_id=incident.id, user_id=user, asked_by=asked_by), key=f"escalate:{incident.id}:{user}"
        )
        for user in ctx.policy.level(incident.severity).dm
    ]


_DESCRIPTIONS = {
    "create_room": "set up the incident channel",
    "invite_to_room": "invite people to the incident channel",
    "post_summary": "post the incident summary",
    "announce_declared": "announce the incident",
    "announce_severity": "announce the severity change",
    "capture_message": "add that message to the timeline",
    "publish_rca": "publish the RCA",
    "preview_rca": "render the RCA draft",
    "update_rca_row": "update the action item in the RCA",
    "set_up_room": "set up the incident channel",
    "set_topic": "update the channel topic",
    "update_summary": "update the incident summary",
    "escalate_dm": "send the SEV-1 escalation DM",
    "severity_notice": "post the severity change in the channel",
    "commander_notice": "post the new commander in the channel",
    "role_notice": "post the new role holder in the channel",
    "post_status_update": "post the status update in the channel",
    "announce_status_update": "post the status update in the announcement's thread",
    "action_added_notice": "post the new action item in the channel",
    "item_status_notice": "post the action item's new status in the channel",
    "resolved_notice": "post the resolve in the channel",
    "announce_resolved": "announce the resolve",
    "reopened_notice": "post the reopen in the channel",
    "revive_room": "bring the incident's channel back",
    "move_in": "set up the incident's new channel",
    "dm_owners": "DM the owners of open action items",
    "send_action_items": "DM the owner their open action items",
}
