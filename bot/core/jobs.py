"""The work done after Slack is answered, as typed jobs: one model per kind, one side effect each.

A job makes at most one change to the outside world that is not safe to repeat (a post), and it
records what it learned (a channel id, a message's ts) before anything depends on it. What follows
from a job is returned as `Next` jobs, stored in the same transaction that marks it done, so after a
crash either all of them exist or the job runs again. Every job carries who asked for it, and that
person is told when it fails for good.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from bot.core.models import ActionStatus, Reply, Severity
from bot.core.open_items import OpenItem
from bot.core.reminders import BriefingGroup


class _Job(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    # Who to tell if the job fails for good (None: work nobody asked for in person, like the briefing).
    asked_by: Reply | None = None
    # Fan-out (a DM to each of hundreds of owners) is paced in a lane of its own, so that a morning's
    # reminders never make an incident's posts wait behind them.
    fan_out: ClassVar[bool] = False


class CreateRoom(_Job):
    kind: Literal["create_room"] = "create_room"
    incident_id: int


class SetUpRoom(_Job):
    """Invite the declarer (and, for a SEV-1, the escalation list) and set the topic; both are safe to redo."""

    kind: Literal["set_up_room"] = "set_up_room"
    incident_id: int


class InviteToRoom(_Job):
    kind: Literal["invite_to_room"] = "invite_to_room"
    incident_id: int
    user_ids: tuple[str, ...]


class SetTopic(_Job):
    kind: Literal["set_topic"] = "set_topic"
    incident_id: int


class PostSummary(_Job):
    kind: Literal["post_summary"] = "post_summary"
    incident_id: int


class PinSummary(_Job):
    kind: Literal["pin_summary"] = "pin_summary"
    incident_id: int


class UpdateSummary(_Job):
    kind: Literal["update_summary"] = "update_summary"
    incident_id: int


class AnnounceDeclared(_Job):
    kind: Literal["announce_declared"] = "announce_declared"
    incident_id: int


class EscalateDm(_Job):
    kind: Literal["escalate_dm"] = "escalate_dm"
    incident_id: int
    user_id: str


class TellReady(_Job):
    kind: Literal["tell_ready"] = "tell_ready"
    incident_id: int


class SeverityNotice(_Job):
    kind: Literal["severity_notice"] = "severity_notice"
    incident_id: int
    previous: Severity
    by: str


class AnnounceSeverity(_Job):
    kind: Literal["announce_severity"] = "announce_severity"
    incident_id: int
    previous: Severity


class CommanderNotice(_Job):
    kind: Literal["commander_notice"] = "commander_notice"
    incident_id: int
    by: str


class RoleNotice(_Job):
    """The channel is told who now holds a role other than the commander's."""

    kind: Literal["role_notice"] = "role_notice"
    incident_id: int
    role: str
    label: str
    by: str


class CaptureMessage(_Job):
    kind: Literal["capture_message"] = "capture_message"
    incident_id: int
    room_id: str
    message_id: str
    by: str
    via_pin: bool


class ConfirmRecorded(_Job):
    kind: Literal["confirm_recorded"] = "confirm_recorded"
    room_id: str
    message_id: str


class UnconfirmRecorded(_Job):
    kind: Literal["unconfirm_recorded"] = "unconfirm_recorded"
    room_id: str
    message_id: str


class Tell(_Job):
    """A private answer to `asked_by`."""

    kind: Literal["tell"] = "tell"
    text: str


class ActionAddedNotice(_Job):
    kind: Literal["action_added_notice"] = "action_added_notice"
    incident_id: int
    number: int
    by: str


class ItemStatusNotice(_Job):
    kind: Literal["item_status_notice"] = "item_status_notice"
    incident_id: int
    number: int
    by: str


class UpdateRcaRow(_Job):
    kind: Literal["update_rca_row"] = "update_rca_row"
    path: str
    number: int
    status: ActionStatus
    title: str
    by: str


class PublishRca(_Job):
    kind: Literal["publish_rca"] = "publish_rca"
    incident_id: int


class RcaPublishedNotice(_Job):
    kind: Literal["rca_published_notice"] = "rca_published_notice"
    incident_id: int
    path: str | None
    commit: str | None
    pushed: bool


class PublishProblemNotice(_Job):
    kind: Literal["publish_problem_notice"] = "publish_problem_notice"
    incident_id: int
    problem: str
    commit: str | None


class ResolvedNotice(_Job):
    kind: Literal["resolved_notice"] = "resolved_notice"
    incident_id: int
    by: str


class AnnounceResolved(_Job):
    kind: Literal["announce_resolved"] = "announce_resolved"
    incident_id: int
    by: str


class ReopenedNotice(_Job):
    kind: Literal["reopened_notice"] = "reopened_notice"
    incident_id: int
    by: str


class SendPage(_Job):
    """A page to one paging service (PagerDuty, Opsgenie, a webhook): trigger on declare, resolve on resolve."""

    kind: Literal["send_page"] = "send_page"
    incident_id: int
    action: Literal["trigger", "resolve"]
    service: str


class PageFailedNotice(_Job):
    """A page that could not be sent, said in the incident's channel once it exists (else to the declarer)."""

    kind: Literal["page_failed_notice"] = "page_failed_notice"
    incident_id: int
    text: str


class AddBookmark(_Job):
    """A link in the incident channel's bookmarks bar: the runbook, the announcement or the RCA."""

    kind: Literal["add_bookmark"] = "add_bookmark"
    incident_id: int
    room_id: str
    link_to: Literal["runbook", "announcement", "rca"]
    # The announcement (its permalink is asked for when the job runs), or the RCA's path.
    channel: str | None = None
    message_id: str | None = None
    path: str | None = None


class ArchiveRoom(_Job):
    """Archive a resolved incident's channel, with a notice first; only while that resolve still stands."""

    kind: Literal["archive_room"] = "archive_room"
    incident_id: int
    resolved_at: datetime


class ReviveRoom(_Job):
    """After a reopen: the incident's channel unarchived, or a new one made when that is refused."""

    kind: Literal["revive_room"] = "revive_room"
    incident_id: int
    room_id: str | None
    by: str
    # False when queued by an archive that a reopen overtook: the reopen has said so already.
    notify: bool = True


class MoveIn(_Job):
    """Set up the new channel of a reopened incident whose old one stays archived, and link the old one."""

    kind: Literal["move_in"] = "move_in"
    incident_id: int
    room_id: str
    from_room_id: str
    by: str


class PreviewRca(_Job):
    kind: Literal["preview_rca"] = "preview_rca"
    incident_id: int


class PostSimilarIncidents(_Job):
    """The docs repo's RCAs most like the incident, posted in its channel (nothing when none is)."""

    kind: Literal["post_similar_incidents"] = "post_similar_incidents"
    incident_id: int


class PostStatusUpdate(_Job):
    """A status update (a timeline entry) posted in the incident's channel."""

    kind: Literal["post_status_update"] = "post_status_update"
    incident_id: int
    entry_id: int


class AnnounceStatusUpdate(_Job):
    """A status update posted in the thread of the incident's announcement."""

    kind: Literal["announce_status_update"] = "announce_status_update"
    incident_id: int
    entry_id: int


class NudgeForUpdate(_Job):
    """Ask in the channel for the status update that was due at `due_at`."""

    kind: Literal["nudge_for_update"] = "nudge_for_update"
    incident_id: int
    due_at: datetime


@dataclass(frozen=True)
class DailyClaim:
    """A day's reminder or briefing, claimed before it was queued; given back if it cannot be sent."""

    kind: str
    subject: str
    day: date


class DmOwners(_Job):
    kind: Literal["dm_owners"] = "dm_owners"
    incident_id: int


class SendActionItems(_Job):
    fan_out: ClassVar[bool] = True
    kind: Literal["send_action_items"] = "send_action_items"
    owner_id: str
    reason: Literal["resolved", "reminder"]
    items: tuple[OpenItem, ...]
    claim: DailyClaim | None = None


class PublishHome(_Job):
    kind: Literal["publish_home"] = "publish_home"
    user_id: str
    # The page the person asked for (opening the tab asks for the first); None: a refresh, which shows
    # the page they last asked for. A page someone asked for is not shown once they asked for another.
    page: int | None = None
    opened: bool = False  # written by earlier versions; the person's looks are kept in the database now


class RefreshHomes(_Job):
    """Publish again the Home tabs people opened lately, after a change to the incidents they list."""

    kind: Literal["refresh_homes"] = "refresh_homes"


class PostBriefing(_Job):
    kind: Literal["post_briefing"] = "post_briefing"
    channel: str
    groups: tuple[BriefingGroup, ...]
    missing: tuple[int, ...]
    claim: DailyClaim | None = None
    # Where the runbook's Severity Guide cannot be read ("path:line: what"), for someone to fix.
    guide_problems: tuple[str, ...] = ()


class PostDigest(_Job):
    """The weekly digest's numbers, for the week before `day` (its claim is given back if Slack refuses)."""

    kind: Literal["post_digest"] = "post_digest"
    channel: str
    day: date
    claim: DailyClaim | None = None


class UploadDigestCharts(_Job):
    """The weekly digest's charts, uploaded after its numbers."""

    kind: Literal["upload_digest_charts"] = "upload_digest_charts"
    channel: str
    day: date


Job = Annotated[
    CreateRoom
    | SetUpRoom
    | InviteToRoom
    | SetTopic
    | PostSummary
    | PinSummary
    | UpdateSummary
    | AnnounceDeclared
    | EscalateDm
    | TellReady
    | SeverityNotice
    | AnnounceSeverity
    | CommanderNotice
    | RoleNotice
    | CaptureMessage
    | ConfirmRecorded
    | UnconfirmRecorded
    | Tell
    | ActionAddedNotice
    | ItemStatusNotice
    | UpdateRcaRow
    | PublishRca
    | RcaPublishedNotice
    | PublishProblemNotice
    | ResolvedNotice
    | AnnounceResolved
    | ReopenedNotice
    | PreviewRca
    | PostSimilarIncidents
    | PostStatusUpdate
    | AnnounceStatusUpdate
    | NudgeForUpdate
    | SendPage
    | PageFailedNotice
    | AddBookmark
    | ArchiveRoom
    | ReviveRoom
    | MoveIn
    | DmOwners
    | SendActionItems
    | PublishHome
    | RefreshHomes
    | PostBriefing
    | PostDigest
    | UploadDigestCharts,
    Field(discriminator="kind"),
]

# Built on the first job read (as the models are): `serve` starts without the union's schema.
JOBS: TypeAdapter[Job] = TypeAdapter(Job, config=ConfigDict(defer_build=True))
# The kinds that are fan-out: a due job of any other kind is run before them (so an incident's jobs
# never queue behind a morning's reminders), and their posts are paced in a lane of their own.
FAN_OUT_KINDS: frozenset[str] = frozenset(
    job.model_fields["kind"].default for job in get_args(get_args(Job)[0]) if job.fan_out
)


@dataclass(frozen=True)
class Next:
    """A job that follows from another: stored when that one is marked done (or retried).

    `key` makes it exactly once: a second job with the same key is not stored.
    """

    job: Job
    key: str | None = None
    delay_seconds: float = 0.0


@dataclass(frozen=True)
class ClaimedJob:
    """A stored job leased to one worker; `job` is None when its payload can no longer be read."""

    id: int
    attempts: int
    kind: str
    job: Job | None
    problem: str | None = None
    paced_for: str | None = None


@dataclass
class RunningJob:
    """The job a worker thread is running, for the chat adapter to label (and look for) its posts.

    `paced_for`: the job was put back to wait for a rate limit, and the call with this key (a method,
    and for chat.postMessage its channel) has that moment booked.
    `limited_calls`: how many rate-limited calls this run has made. Only a run's first one may put the
    job back to wait: a later one waits in the worker, because a run that started over after having
    made calls would make them again and take their turns again (ten invites would never get past
    the eighth).
    """

    id: int
    attempts: int
    paced_for: str | None = None
    incident_id: int | None = None  # the incident the job is about, for the logs
    fan_out: bool = False
    posts: int = field(default=0)
    limited_calls: int = field(default=0)

    def next_post(self) -> int:
        self.posts += 1
        return self.posts

    def take_booked_moment(self, call: str) -> bool:
        """True once, if `call` is the call this run has its moment booked for.

        Only that call may use the booking: were another one to (a call with no limit made before it,
        or a second limited call), the booked call would book again on every run and never be made.
        """
        if self.paced_for != call:
            return False
        self.paced_for = None
        return True

    def may_wait_in_queue(self) -> bool:
        """True while the run has made no rate-limited call yet (so starting over repeats nothing)."""
        return self.limited_calls == 0


# Set by the job runner around each job it runs; read where posts are made, so that a retried job
# finds the message an earlier attempt already posted instead of posting it again.
current_job: ContextVar[RunningJob | None] = ContextVar("current_job", default=None)
