"""The work done after Slack is answered: each job is small and safe to run again."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bot.core import lifecycle
from bot.core.errors import IncidentBotError
from bot.core.models import Incident, Severity, TimelineEntry, TimelineKind
from bot.core.naming import incident_channel_name
from bot.core.ports import Chat, ChatError, Job, Reply, RoomNameTaken
from bot.services import jobkinds
from bot.services.context import ServiceContext
from bot.services.publishing import RcaPublishing
from bot.services.reminders import Reminders

MAX_NAME_ATTEMPTS = 50


def reply_from(payload: dict[str, Any] | None) -> Reply | None:
    return Reply(**payload) if payload else None


class JobHandlers:
    """Runs one job of each kind against the chat platform and the database."""

    def __init__(self, ctx: ServiceContext, chat: Chat, publishing: RcaPublishing, reminders: Reminders) -> None:
        self._ctx = ctx
        self._chat = chat
        self._publishing = publishing
        self._reminders = reminders
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            jobkinds.OPEN_ROOM: self._open_room,
            jobkinds.ANNOUNCE_DECLARED: self._announce_declared,
            jobkinds.ESCALATE_DM: self._escalate_dm,
            jobkinds.ANNOUNCE_SEVERITY: self._announce_severity,
            jobkinds.CAPTURE_MESSAGE: self._capture_message,
            jobkinds.UNCONFIRM_MESSAGE: self._unconfirm_message,
            jobkinds.TELL: self._tell,
            jobkinds.TELL_READY: self._tell_ready,
            jobkinds.ACTION_ADDED: self._action_added,
            jobkinds.ANNOUNCE_RESOLVED: self._announce_resolved,
            jobkinds.ANNOUNCE_REOPENED: self._announce_reopened,
            jobkinds.PREVIEW_RCA: self._preview_rca,
            jobkinds.DM_OWNERS: lambda payload: reminders.dm_owners_of(payload["incident_id"]),
            jobkinds.SEND_ACTION_ITEMS: reminders.send_action_items,
            jobkinds.POST_BRIEFING: reminders.post_briefing_job,
            jobkinds.UPDATE_RCA_ROW: publishing.update_row,
            jobkinds.ANNOUNCE_ITEM_STATUS: self._announce_item_status,
            jobkinds.COMMANDER_CHANGED: self._commander_changed,
        }

    def run(self, job: Job) -> None:
        """Run a job; raises ChatError (maybe retryable) or a domain error."""
        if job.kind == jobkinds.PUBLISH_RCA:
            self._publishing.publish(job.payload, job.attempts)
            return
        handler = self._handlers.get(job.kind)
        if handler is None:
            raise ChatError(f"unknown job kind {job.kind!r}")
        handler(job.payload)

    def report_failure(self, job: Job, error: Exception) -> None:
        """Tell the person who asked that the work after the ack failed."""
        reply = reply_from(job.payload.get("reply"))
        if reply is None and job.payload.get("by") and job.kind == jobkinds.UPDATE_RCA_ROW:
            reply = Reply(user_id=job.payload["by"])
        if reply is None:
            return
        what = _DESCRIPTIONS.get(job.kind, "finish that")
        # What people read names the problem, never a path on the bot's host (details stay in the log).
        reason = error.user_message if isinstance(error, IncidentBotError) else str(error)
        self._chat.tell(reply, f":warning: Sorry, I could not {what}: {reason}")

    def _load(self, incident_id: int) -> Incident:
        with self._ctx.uow() as uow:
            incident = uow.incidents.get(incident_id)
        if incident is None:
            raise ChatError(f"incident #{incident_id} no longer exists")
        return incident

    def _enqueue(self, jobs: Sequence[tuple[str, dict[str, Any]]]) -> None:
        with self._ctx.uow() as uow:
            for kind, payload in jobs:
                uow.jobs.enqueue(kind, payload)
            uow.commit()

    def _open_room(self, payload: dict[str, Any]) -> None:
        incident = self._load(payload["incident_id"])
        reply = reply_from(payload.get("reply"))
        if incident.room_id is None:
            room = None
            for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
                name = incident_channel_name(incident.title, incident.declared_at.date(), attempt)
                try:
                    room = self._chat.create_room(name, private=incident.private)
                    break
                except RoomNameTaken:
                    continue
            if room is None:
                raise ChatError("every channel name for this incident is taken")
            # Saved at once so a retry after a crash reuses this channel instead of making another.
            with self._ctx.uow() as uow:
                uow.incidents.set_room(payload["incident_id"], room.id, room.name)
                uow.commit()
            # The severity or commander may have changed while the channel was being made.
            incident = self._load(payload["incident_id"])
        assert incident.room_id is not None
        members = [incident.declared_by]
        if incident.severity.is_escalation:
            members += [user for user in self._ctx.policy.escalation_users if user not in members]
        self._chat.invite(incident.room_id, members)
        self._chat.set_topic(incident.room_id, lifecycle.topic_for(incident))
        if incident.summary_message_id is not None:
            return
        message_id = self._chat.post_summary(incident)
        follow_up: list[tuple[str, dict[str, Any]]] = [(jobkinds.ANNOUNCE_DECLARED, {"incident_id": incident.id})]
        if incident.severity.is_escalation:
            follow_up += self._escalation_jobs(incident)
        if reply is not None:
            follow_up.append((jobkinds.TELL_READY, {"reply": payload.get("reply"), "incident_id": incident.id}))
        with self._ctx.uow() as uow:
            uow.incidents.set_summary_message(payload["incident_id"], message_id)
            for kind, job in follow_up:
                uow.jobs.enqueue(kind, job)
            uow.commit()

    def _escalation_jobs(self, incident: Incident) -> list[tuple[str, dict[str, Any]]]:
        return [
            (jobkinds.ESCALATE_DM, {"incident_id": incident.id, "user_id": user})
            for user in self._ctx.policy.escalation_users
        ]

    def _announce_declared(self, payload: dict[str, Any]) -> None:
        channel = self._ctx.policy.announce_channel
        if channel:
            self._chat.announce_declared(channel, self._load(payload["incident_id"]))

    def _escalate_dm(self, payload: dict[str, Any]) -> None:
        self._chat.escalate_to(payload["user_id"], self._load(payload["incident_id"]))

    def _announce_severity(self, payload: dict[str, Any]) -> None:
        incident = self._load(payload["incident_id"])
        previous = Severity(payload["previous"])
        if incident.room_id is None:
            return  # The room job has not run yet; it will use the new severity.
        self._chat.set_topic(incident.room_id, lifecycle.topic_for(incident))
        self._chat.update_summary(incident)
        self._chat.severity_changed(incident, previous, payload["by"])
        follow_up: list[tuple[str, dict[str, Any]]] = []
        escalated = incident.severity.is_escalation and not previous.is_escalation
        if escalated:
            self._chat.invite(incident.room_id, list(self._ctx.policy.escalation_users))
            follow_up += self._escalation_jobs(incident)
        if self._ctx.policy.announce_channel:
            self._chat.announce_severity_change(self._ctx.policy.announce_channel, incident, previous)
        if follow_up:
            self._enqueue(follow_up)

    def _capture_message(self, payload: dict[str, Any]) -> None:
        incident_id: int = payload["incident_id"]
        room_id: str = payload["room_id"]
        message_id: str = payload["message_id"]
        reply = reply_from(payload.get("reply"))
        with self._ctx.uow() as uow:
            existing = uow.timeline.by_source(incident_id, room_id, message_id)
            still_pinned = uow.pins.count(incident_id, room_id, message_id) > 0
        if existing is not None or (payload.get("via_pin") and not still_pinned):
            if existing is not None and reply is not None:
                self._chat.tell(reply, "That message is already on the incident's timeline.")
            return
        message = self._chat.fetch_message(room_id, message_id)
        if message is None:
            raise ChatError("I cannot read that message (is the bot a member of that channel?)")
        permalink = self._chat.permalink(room_id, message_id)
        entry = TimelineEntry(
            incident_id=incident_id,
            kind=TimelineKind.MESSAGE,
            occurred_at=message.posted_at,
            author_id=message.author_id,
            text=message.text,
            source_room_id=room_id,
            source_message_id=message_id,
            permalink=permalink,
        )
        with self._ctx.uow() as uow:
            # A concurrent capture of the same message may have won; the unique source keeps one entry.
            if uow.timeline.by_source(incident_id, room_id, message_id) is None:
                uow.timeline.add(entry)
                uow.commit()
        self._chat.confirm_recorded(room_id, message_id)
        if reply is not None:
            incident = self._load(incident_id)
            self._chat.tell(reply, f"Added to the timeline of *{incident.title}*.")

    def _unconfirm_message(self, payload: dict[str, Any]) -> None:
        self._chat.unconfirm_recorded(payload["room_id"], payload["message_id"])

    def _action_added(self, payload: dict[str, Any]) -> None:
        incident = self._load(payload["incident_id"])
        with self._ctx.uow() as uow:
            item = uow.actions.get(payload["incident_id"], payload["number"])
        if item is not None:
            self._chat.action_item_added(incident, item, payload["by"])

    def _announce_resolved(self, payload: dict[str, Any]) -> None:
        incident = self._load(payload["incident_id"])
        if not incident.is_active:
            self._chat.incident_resolved(incident, payload["by"], self._ctx.policy.announce_channel)

    def _announce_reopened(self, payload: dict[str, Any]) -> None:
        self._chat.incident_reopened(self._load(payload["incident_id"]), payload["by"])

    def _preview_rca(self, payload: dict[str, Any]) -> None:
        reply = reply_from(payload.get("reply"))
        record = self._publishing.load(payload["incident_id"])
        if reply is not None:
            self._chat.share_draft(reply, record.incident, self._publishing.render(record))

    def _commander_changed(self, payload: dict[str, Any]) -> None:
        incident = self._load(payload["incident_id"])
        if incident.room_id is None:
            return  # The room job has not run yet; it will use the new commander.
        self._chat.invite(incident.room_id, [incident.commander_id])
        self._chat.update_summary(incident)
        self._chat.commander_changed(incident, payload["by"])

    def _announce_item_status(self, payload: dict[str, Any]) -> None:
        incident = self._load(payload["incident_id"])
        with self._ctx.uow() as uow:
            item = uow.actions.get(payload["incident_id"], payload["number"])
        if item is not None:
            self._chat.action_status_changed(incident, item, payload["by"])

    def _tell_ready(self, payload: dict[str, Any]) -> None:
        reply = reply_from(payload["reply"])
        if reply is not None:
            self._chat.incident_ready(reply, self._load(payload["incident_id"]))

    def _tell(self, payload: dict[str, Any]) -> None:
        reply = reply_from(payload["reply"])
        if reply is not None:
            self._chat.tell(reply, payload["text"])


_DESCRIPTIONS = {
    jobkinds.OPEN_ROOM: "set up the incident channel",
    jobkinds.ANNOUNCE_SEVERITY: "update Slack after the severity change",
    jobkinds.CAPTURE_MESSAGE: "add that message to the timeline",
    jobkinds.PUBLISH_RCA: "publish the RCA",
    jobkinds.PREVIEW_RCA: "render the RCA draft",
    jobkinds.UPDATE_RCA_ROW: "update the action item in the RCA",
}
