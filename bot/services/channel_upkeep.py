"""Keeping an incident's channel useful: its bookmarks, its archiving after the resolve, and a working
channel again when the incident is reopened after that.

Every step is a job of its own, keyed where a replica or a restart could queue it twice. Bookmarks are
a convenience: one that cannot be added (a missing scope, a channel the bot left) is logged and
nothing else waits for it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import assert_never

from bot.core import jobs as j
from bot.core import lifecycle
from bot.core.jobs import Next
from bot.core.models import Incident, Reply, TimelineKind
from bot.core.ports import Chat, ChatError, Room, RoomUpkeep
from bot.services.context import Policy, ServiceContext
from bot.services.publishing import DocsLayout
from bot.services.rooms import open_room

log = logging.getLogger(__name__)

BOOKMARK_TITLES = {"runbook": "Runbook", "announcement": "Announcement", "rca": "RCA"}


def archive_later(policy: Policy, incident: Incident) -> tuple[j.ArchiveRoom, datetime, str] | None:
    """The archiving of a just-resolved incident's channel ARCHIVE_AFTER_DAYS on: (job, when, key); None when off."""
    if policy.archive_after_days <= 0 or incident.resolved_at is None or incident.id is None:
        return None
    when = incident.resolved_at + timedelta(days=policy.archive_after_days)
    # One per resolve: replicas and restarts store it once, and a later resolve has one of its own.
    key = f"archive:{incident.id}:{incident.resolved_at.isoformat()}"
    return j.ArchiveRoom(incident_id=incident.id, resolved_at=incident.resolved_at), when, key


def revive_after_reopen(incident: Incident, *, by: str, asked_by: Reply) -> j.ReviveRoom:
    """What a reopen queues: the channel checked (archived ones brought back), then the reopen's notices."""
    assert incident.id is not None
    return j.ReviveRoom(incident_id=incident.id, room_id=incident.room_id, by=by, asked_by=asked_by)


def reopen_notices(job: j.ReviveRoom) -> list[Next]:
    """What a reopen says once its channel works: the summary updated, and the reopen posted."""
    if not job.notify:
        return []
    return [
        Next(j.UpdateSummary(incident_id=job.incident_id, asked_by=job.asked_by)),
        Next(j.ReopenedNotice(incident_id=job.incident_id, by=job.by, asked_by=job.asked_by)),
    ]


UpkeepJob = j.AddBookmark | j.ArchiveRoom | j.ReviveRoom | j.MoveIn


def _same_moment(first: datetime | None, second: datetime) -> bool:
    # A database may keep less than microseconds; a later resolve is seconds apart at the least.
    return first is not None and abs((first - second).total_seconds()) < 0.001


class ChannelUpkeep:
    """Bookmarks, archiving and reviving of incident channels, run as jobs."""

    def __init__(self, ctx: ServiceContext, chat: Chat, rooms: RoomUpkeep, layout: DocsLayout) -> None:
        self._ctx = ctx
        self._chat = chat
        self._rooms = rooms
        self._layout = layout

    def run(self, job: UpkeepJob) -> list[Next]:
        """Run one of the channel's upkeep jobs; returns what follows from it."""
        match job:
            case j.AddBookmark():
                self.add_bookmark(job)
                return []
            case j.ArchiveRoom():
                return self.archive(job)
            case j.ReviveRoom():
                return self.revive(job)
            case j.MoveIn():
                return self.move_in(job)
            case _:
                assert_never(job)

    # -- bookmarks ---------------------------------------------------------------------------------
    def room_bookmarks(self, incident: Incident) -> list[Next]:
        """What a channel gets bookmarked once it is set up: the runbook (and an RCA published already)."""
        then = []
        if self._layout.runbook_path and self._layout.web_link(self._layout.runbook_path):
            then.append(self._bookmark(incident, "runbook"))
        if incident.rca_path and incident.rca_commit and self._layout.web_link(incident.rca_path):
            then.append(self._bookmark(incident, "rca", path=incident.rca_path))
        return then

    def announcement_bookmark(self, incident: Incident, channel: str, message_id: str | None) -> list[Next]:
        """The announcement, bookmarked in the incident's channel."""
        if not message_id:
            return []
        return [self._bookmark(incident, "announcement", channel=channel, message_id=message_id)]

    def rca_bookmark(self, job: j.RcaPublishedNotice) -> list[Next]:
        """The RCA, bookmarked once it is pushed (a commit kept only locally has no page to link to)."""
        if not job.path or not job.pushed or not self._layout.web_link(job.path):
            return []
        return [self._bookmark(self._incident(job.incident_id), "rca", path=job.path)]

    def _bookmark(self, incident: Incident, link_to: str, **where: str) -> Next:
        assert incident.id is not None and incident.room_id is not None
        job = j.AddBookmark.model_validate(
            {"incident_id": incident.id, "room_id": incident.room_id, "link_to": link_to, **where}
        )
        # Once per channel: a reopened incident's new channel gets its own.
        return Next(job, key=f"bookmark:{incident.id}:{incident.room_id}:{link_to}")

    def add_bookmark(self, job: j.AddBookmark) -> None:
        """Add the bookmark; a refusal is logged, and the incident goes on without it."""
        if self._incident(job.incident_id).room_id != job.room_id:
            return  # the incident moved to a new channel meanwhile; that one gets its own
        link = self._link(job)
        if link is None:
            log.info("no link for the %s bookmark of incident #%s", job.link_to, job.incident_id)
            return
        try:
            self._rooms.add_bookmark(job.room_id, title=BOOKMARK_TITLES[job.link_to], link=link)
        except ChatError as error:
            if error.retryable:
                raise
            log.warning("could not bookmark the %s in %s: %s", job.link_to, job.room_id, error)

    def _link(self, job: j.AddBookmark) -> str | None:
        if job.link_to == "announcement":
            if not job.channel or not job.message_id:
                return None
            return self._chat.permalink(job.channel, job.message_id)
        path = self._layout.runbook_path if job.link_to == "runbook" else job.path
        return self._layout.web_link(path) if path else None

    # -- archiving ---------------------------------------------------------------------------------
    def archive(self, job: j.ArchiveRoom) -> list[Next]:
        """Post the notice and archive, if the incident is still resolved by the resolve that queued this."""
        incident = self._incident(job.incident_id)
        if incident.is_active or incident.room_id is None or not _same_moment(incident.resolved_at, job.resolved_at):
            log.info("incident #%s was reopened (or resolved again) since; its channel stays", job.incident_id)
            return []
        notice = self._rooms.archive_notice(incident.room_id, room_name=incident.room_name, resolved_at=job.resolved_at)
        # Looked at again just before: a reopen made while the notice was posted keeps the channel.
        if not notice or self._incident(job.incident_id).is_active:
            return []
        self._rooms.archive(incident.room_id)
        log.info("archived %s, the channel of incident #%s", incident.room_id, job.incident_id)
        after = self._incident(job.incident_id)
        if not after.is_active or after.room_id != incident.room_id:
            return []
        # A reopen landed between that look and the archive, and its own check found the channel open:
        # the channel is brought back (or replaced) as that reopen would have, without saying it twice.
        log.warning("incident #%s was reopened while its channel was archived; reviving it", job.incident_id)
        revive = j.ReviveRoom(
            incident_id=job.incident_id, room_id=incident.room_id, by=self._reopened_by(after), notify=False
        )
        return [Next(revive, key=f"revive-after-archive:{job.incident_id}:{job.resolved_at.isoformat()}")]

    def _reopened_by(self, incident: Incident) -> str:
        assert incident.id is not None
        with self._ctx.reader() as uow:
            entries = uow.timeline.of_kinds(incident.id, {TimelineKind.REOPENED})
        reopens = [e.author_id for e in entries if e.author_id]
        return reopens[-1] if reopens else incident.commander_id

    # -- reopening ---------------------------------------------------------------------------------
    def revive(self, job: j.ReviveRoom) -> list[Next]:
        """A reopened incident's channel, working again: as it was, unarchived, or a new one."""
        incident = self._incident(job.incident_id)
        if not incident.is_active:
            return []  # resolved again before this ran: that resolve says so in the channel
        notices = reopen_notices(job)
        if incident.room_id is None or job.room_id is None:
            return notices  # no channel yet: the notices wait for the one being made
        if incident.room_id == job.room_id:
            archived = self._rooms.is_archived(job.room_id)
            if archived is False or (archived and self._rooms.unarchive(job.room_id)):
                return notices
            room = self._new_room(incident)
        else:
            room = Room(id=incident.room_id, name=incident.room_name or "")  # made by an earlier attempt
        move_in = j.MoveIn(
            incident_id=job.incident_id, room_id=room.id, from_room_id=job.room_id, by=job.by, asked_by=job.asked_by
        )
        return [Next(move_in, key=f"move-in:{job.incident_id}:{room.id}")]

    def _new_room(self, incident: Incident) -> Room:
        """A new channel under the incident's naming scheme (the archived one keeps its name), recorded."""
        room = open_room(self._ctx, self._chat, incident)
        log.info("incident #%s continues in a new channel %s (%s)", incident.id, room.name, room.id)
        return room

    def move_in(self, job: j.MoveIn) -> list[Next]:
        """The new channel: its people invited, the topic, a link to the old channel, a fresh summary."""
        incident = self._incident(job.incident_id)
        if incident.room_id != job.room_id:
            return []
        people = [*self._rooms.members(job.from_room_id), incident.commander_id, incident.declared_by, job.by]
        people += [*incident.roles.values(), *self._ctx.policy.level(incident.severity).invite]
        self._chat.invite(job.room_id, people)
        self._chat.set_topic(job.room_id, lifecycle.topic_for(incident))
        self._rooms.moved_notice(job.room_id, from_room_id=job.from_room_id)
        message_id = self._chat.post_summary(incident)
        with self._ctx.uow() as uow:
            uow.incidents.set_summary_message(job.incident_id, message_id)
            uow.commit()
        return [
            Next(
                j.PinSummary(incident_id=job.incident_id, asked_by=job.asked_by),
                key=f"pin-summary:{job.incident_id}:{job.room_id}",
            ),
            Next(j.ReopenedNotice(incident_id=job.incident_id, by=job.by, asked_by=job.asked_by)),
            *self.room_bookmarks(incident),
        ]

    def _incident(self, incident_id: int) -> Incident:
        return self._ctx.existing_incident(incident_id, ChatError)
