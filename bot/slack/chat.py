"""The Chat port over Slack: what the services ask of the chat platform, as Web API calls."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.core.home import HomeView
from bot.core.models import ActionItem, Incident, Reply, Severity, TimelineEntry
from bot.core.open_items import OpenItem, Person
from bot.core.past_incidents import PastIncident
from bot.core.ports import ChatError, ChatMessage, Room, RoomNameTaken
from bot.core.reminders import BriefingGroup
from bot.core.roles import DEFAULT_ROLES, Role
from bot.slack import action_blocks, blocks, home_blocks, reminder_blocks, resolve_blocks, role_blocks, status_blocks
from bot.slack.calls import SlackCalls, slack_error
from bot.slack.people import SlackPeople
from bot.slack.similar_blocks import similar_blocks, similar_text
from bot.slack.text import as_mrkdwn, clip, ts_to_datetime, without_broadcasts

log = logging.getLogger(__name__)

CONFIRM_EMOJI = "white_check_mark"
BRIEFING_CHUNK = 3500


class SlackChat:
    """Implements bot.core.ports.Chat with real Slack Web API calls, all through one SlackCalls."""

    def __init__(
        self,
        calls: SlackCalls,
        people: SlackPeople,
        *,
        bot_user_id: str | None = None,
        roles: Sequence[Role] = DEFAULT_ROLES,
    ) -> None:
        self._calls = calls
        self._client = calls.client
        self._people = people
        self._bot_user_id = bot_user_id
        # The team's roles (INCIDENT_POLICY), each listed with its holder in the summary message.
        self._roles = tuple(roles)

    def create_room(self, name: str, *, private: bool) -> Room:
        try:
            response = self._calls.call(self._client.conversations_create, name=name, is_private=private)
        except ChatError as error:
            if slack_error(error) == "name_taken":
                raise RoomNameTaken(name) from error
            raise
        channel = response["channel"]
        return Room(id=channel["id"], name=channel["name"])

    def invite(self, room_id: str, user_ids: Sequence[str]) -> None:
        # One call per person so that one unknown user does not keep everyone else out.
        for user_id in dict.fromkeys(user_ids):
            if user_id == self._bot_user_id:
                continue
            try:
                self._calls.call(self._client.conversations_invite, channel=room_id, users=user_id)
            except ChatError as error:
                code = slack_error(error)
                if code in {"already_in_channel", "cant_invite_self"}:
                    continue
                if code in {"user_not_found", "user_is_restricted", "cant_invite", "user_disabled"}:
                    log.warning("could not invite %s to %s: %s", user_id, room_id, code)
                    self.post_in_room(room_id, f":warning: I could not invite <@{user_id}> (`{code}`).")
                    continue
                raise

    def set_topic(self, room_id: str, topic: str) -> None:
        self._calls.call(
            self._client.conversations_setTopic, channel=room_id, topic=clip(without_broadcasts(topic), 250)
        )

    def find_own_room(self, name: str) -> Room | None:
        cursor = None
        while True:
            page = self._calls.call(
                self._client.conversations_list,
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor,
            )
            for channel in page.get("channels", []):
                if channel.get("name") == name:
                    mine = channel.get("creator") == self._bot_user_id and channel.get("is_member")
                    return Room(id=channel["id"], name=channel["name"]) if mine else None
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None

    def post_summary(self, incident: Incident) -> str:
        assert incident.room_id is not None
        return self._calls.post(
            incident.room_id, blocks.summary_fallback(incident), blocks.summary_blocks(incident, self._roles)
        )

    def pin(self, room_id: str, message_id: str) -> None:
        # Pinned, so that whoever joins late finds the summary and its buttons at once.
        try:
            self._calls.call(self._client.pins_add, channel=room_id, timestamp=message_id)
        except ChatError as error:
            if error.retryable:
                raise
            if slack_error(error) != "already_pinned":
                log.warning("could not pin the summary in %s: %s", room_id, error)

    def update_summary(self, incident: Incident) -> None:
        if incident.room_id is None or incident.summary_message_id is None:
            return
        self._calls.update(
            incident.room_id,
            incident.summary_message_id,
            blocks.summary_fallback(incident),
            blocks.summary_blocks(incident, self._roles),
        )

    def post_in_room(self, room_id: str, text: str) -> str:
        return self._calls.post(room_id, clip(text, 3000))

    def announce_declared(self, channel: str, incident: Incident, *, groups: Sequence[str] = ()) -> str:
        return self._calls.post(
            channel, blocks.announcement_text(incident), ping=incident.severity.is_escalation, groups=groups
        )

    def post_status_update(self, incident: Incident, update: TimelineEntry, *, every: timedelta | None) -> str:
        assert incident.room_id is not None
        block_list = status_blocks.status_update_blocks(incident, update, every=every)
        return self._calls.post(incident.room_id, status_blocks.status_update_text(incident, update), block_list)

    def announce_status_update(
        self, channel: str, thread: str | None, incident: Incident, update: TimelineEntry
    ) -> None:
        block_list = status_blocks.status_update_blocks(incident, update, every=None, announced=True)
        self._calls.post(channel, status_blocks.status_update_text(incident, update), block_list, thread_ts=thread)

    def nudge_for_update(self, incident: Incident, *, target: str, every: timedelta, silent_for: timedelta) -> None:
        if incident.room_id:
            text = status_blocks.nudge_text(incident, target=target, every=every, silent_for=silent_for)
            self.post_in_room(incident.room_id, text)

    def announce_severity_change(
        self, channel: str, incident: Incident, previous: Severity, *, groups: Sequence[str] = ()
    ) -> None:
        raised_to_sev1 = incident.severity.outranks(previous) and incident.severity.is_escalation
        self._calls.post(channel, blocks.severity_change_text(incident, previous), ping=raised_to_sev1, groups=groups)

    def incident_ready(self, reply: Reply, incident: Incident) -> None:
        self.tell(reply, f"Declared {incident.severity} *{as_mrkdwn(incident.title)}*: <#{incident.room_id}>")

    def severity_changed(self, incident: Incident, previous: Severity, by: str) -> None:
        if incident.room_id:
            info = incident.severity.info
            self.post_in_room(
                incident.room_id,
                f"<@{by}> changed the severity from {previous} to {incident.severity}: {info.criteria}. "
                f"Response time: {info.response_time}.",
            )

    def commander_changed(self, incident: Incident, by: str) -> None:
        if incident.room_id:
            self.post_in_room(incident.room_id, f"<@{by}> made <@{incident.commander_id}> the incident commander.")

    def role_changed(self, incident: Incident, role: Role, by: str) -> None:
        if incident.room_id:
            self.post_in_room(incident.room_id, role_blocks.role_changed_text(incident, role, by))

    def escalate_to(self, user_id: str, incident: Incident) -> None:
        self._dm(user_id, blocks.escalation_dm_text(incident))

    def _dm(self, user_id: str, text: str, block_list: list[dict[str, Any]] | None = None) -> None:
        # chat.postMessage takes a user id as the channel and delivers to the DM: no conversations.open.
        self._calls.post(user_id, text, block_list)

    def tell(self, reply: Reply, text: str) -> None:
        if reply.response_url and self._calls.respond(reply.response_url, text):
            return
        if reply.room_id:
            try:
                self._calls.ephemeral(reply.room_id, reply.user_id, text)
                return
            except ChatError as error:
                if error.retryable:
                    raise
        self._dm(reply.user_id, text)

    def fetch_message(self, room_id: str, message_id: str) -> ChatMessage | None:
        try:
            history = self._calls.call(
                self._client.conversations_history,
                channel=room_id,
                latest=message_id,
                oldest=message_id,
                inclusive=True,
                limit=1,
            )
            found = self._find(history, message_id)
            if found is None:
                # A reply is not in the channel history; its thread (parent first) is found by its own ts.
                replies = self._calls.call(
                    self._client.conversations_replies, channel=room_id, ts=message_id, limit=1000
                )
                found = self._find(replies, message_id)
        except ChatError as error:
            if slack_error(error) in {"channel_not_found", "not_in_channel", "thread_not_found"}:
                return None
            raise
        if found is None:
            return None
        return ChatMessage(
            room_id=room_id,
            message_id=message_id,
            author_id=found.get("user") or found.get("bot_id"),
            text=found.get("text", ""),
            posted_at=ts_to_datetime(message_id),
        )

    @staticmethod
    def _find(response: Any, message_id: str) -> dict[str, Any] | None:
        for message in response.get("messages", []):
            if message.get("ts") == message_id:
                return dict(message)
        return None

    def permalink(self, room_id: str, message_id: str) -> str | None:
        try:
            response = self._calls.call(self._client.chat_getPermalink, channel=room_id, message_ts=message_id)
        except ChatError as error:
            if error.retryable:
                raise
            return None
        return str(response["permalink"])

    def confirm_recorded(self, room_id: str, message_id: str) -> None:
        try:
            self._calls.call(self._client.reactions_add, channel=room_id, timestamp=message_id, name=CONFIRM_EMOJI)
        except ChatError as error:
            if slack_error(error) not in {"already_reacted", "message_not_found"}:
                raise

    def unconfirm_recorded(self, room_id: str, message_id: str) -> None:
        try:
            self._calls.call(self._client.reactions_remove, channel=room_id, timestamp=message_id, name=CONFIRM_EMOJI)
        except ChatError as error:
            if slack_error(error) not in {"no_reaction", "message_not_found"}:
                raise

    def display_names(self, user_ids: Sequence[str]) -> dict[str, str]:
        return self._people.display_names(user_ids)

    def find_user(self, name: str) -> str | None:
        return self._people.find_user(name)

    def people(self) -> list[Person]:
        return self._people.people()

    def is_member(self, room_id: str, user_id: str) -> bool:
        return self._people.is_member(room_id, user_id)

    def action_item_added(self, incident: Incident, item: ActionItem, by: str) -> None:
        if incident.room_id:
            self.post_in_room(incident.room_id, action_blocks.action_added_text(item, by))

    def resolved_notice(self, incident: Incident, by: str) -> None:
        if incident.room_id:
            self.post_in_room(incident.room_id, resolve_blocks.resolved_text(incident, by))

    def announce_resolved(self, channel: str, incident: Incident, by: str) -> None:
        where = "" if incident.private or not incident.room_id else f" <#{incident.room_id}>"
        self._calls.post(channel, resolve_blocks.resolved_text(incident, by) + where)

    def reopened_notice(self, incident: Incident, by: str) -> None:
        if incident.room_id:
            self.post_in_room(incident.room_id, f":arrows_counterclockwise: <@{by}> reopened this incident.")

    def share_draft(self, reply: Reply, incident: Incident, markdown: str) -> None:
        block_list = resolve_blocks.draft_blocks(incident, markdown)
        if reply.response_url and self._calls.respond(reply.response_url, "RCA draft", block_list):
            return
        self._dm(reply.user_id, "RCA draft", block_list)

    def similar_incidents(self, incident: Incident, past: Sequence[PastIncident]) -> None:
        if incident.room_id and past:
            self._calls.post(incident.room_id, similar_text(past), similar_blocks(past))

    def rca_published(
        self,
        incident: Incident,
        *,
        path: str | None,
        fleet_status_path: str,
        web_link: str | None,
        commit: str | None,
        pushed: bool,
    ) -> None:
        if incident.room_id:
            text = resolve_blocks.rca_published_text(
                path=path, fleet_status_path=fleet_status_path, web_link=web_link, commit=commit, pushed=pushed
            )
            self.post_in_room(incident.room_id, text)

    def action_status_changed(self, incident: Incident, item: ActionItem, by: str) -> None:
        if incident.room_id:
            self.post_in_room(
                incident.room_id, action_blocks.status_changed_text(item.number, item.action, item.status, by)
            )

    def send_action_items(
        self, user_id: str, items: Sequence[OpenItem], *, reason: str, now: datetime, rca_links: Mapping[str, str]
    ) -> None:
        if not items:
            return
        self._dm(
            user_id,
            reminder_blocks.action_items_text(items, reason=reason),
            reminder_blocks.action_items_blocks(items, reason=reason, now=now, rca_links=rca_links),
        )

    def publish_home(self, view: HomeView) -> None:
        self._calls.call(self._client.views_publish, user_id=view.user_id, view=home_blocks.home_view(view))

    def post_briefing(
        self,
        channel: str,
        groups: Sequence[BriefingGroup],
        missing_rcas: Sequence[Incident],
        *,
        now: datetime,
        rca_links: Mapping[str, str],
        guide_problems: Sequence[str] = (),
    ) -> None:
        text = reminder_blocks.briefing_text(
            groups, missing_rcas, now=now, rca_links=rca_links, guide_problems=guide_problems
        )
        # Long briefings are split at line ends so that no message passes Slack's size limits.
        chunk = ""
        for line in text.split("\n"):
            if len(chunk) + len(line) + 1 > BRIEFING_CHUNK:
                self._calls.post(channel, chunk)
                chunk = ""
            chunk = f"{chunk}\n{line}" if chunk else line
        if chunk:
            self._calls.post(channel, chunk)

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        # A trigger_id lives three seconds: never held back by pacing.
        self._calls.call(self._client.views_open, pace=False, trigger_id=trigger_id, view=view)
