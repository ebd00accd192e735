"""The Chat port over slack_sdk's WebClient: every Slack call the services make goes through here."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from bot.core.models import ActionItem, Incident, Severity
from bot.core.open_items import OpenItem, Person, match_owner
from bot.core.ports import ChatError, ChatMessage, Reply, Room, RoomNameTaken
from bot.core.reminders import BriefingGroup
from bot.slack import action_blocks, blocks, reminder_blocks, resolve_blocks
from bot.slack.text import as_mrkdwn, clip, ts_to_datetime
from bot.slack.throttle import Throttle

log = logging.getLogger(__name__)

CONFIRM_EMOJI = "white_check_mark"
# users.list is a Tier 2 method: the daily jobs reuse one listing for a few minutes.
PEOPLE_TTL_SECONDS = 300.0
_RETRYABLE = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}


def _call(method: Callable[..., Any], **kwargs: Any) -> Any:
    """Run a WebClient method, turning Slack's failures into ChatError (retryable when transient)."""
    try:
        return method(**kwargs)
    except SlackApiError as error:
        code = error.response.get("error", "unknown_error") if error.response else "unknown_error"
        status = error.response.status_code if error.response else 0
        retry_after = None
        if status == 429:
            retry_after = float(error.response.headers.get("Retry-After", "1") or 1)
        raise ChatError(
            f"Slack said `{code}`",
            retryable=status == 429 or status >= 500 or code in _RETRYABLE,
            retry_after=retry_after,
        ) from error
    except (SlackClientError, OSError) as error:
        raise ChatError(f"could not reach Slack ({error})", retryable=True) from error


def _slack_error(error: ChatError) -> str:
    cause = error.__cause__
    if isinstance(cause, SlackApiError) and cause.response:
        return str(cause.response.get("error", ""))
    return ""


class SlackChat:
    """Implements bot.core.ports.Chat with real Slack Web API calls."""

    def __init__(self, client: WebClient, *, bot_user_id: str | None = None, throttle: Throttle | None = None) -> None:
        self._client = client
        self._bot_user_id = bot_user_id
        self._names: dict[str, str] = {}
        self._throttle = throttle or Throttle()
        self._people: tuple[float, list[Person]] | None = None

    def _call(self, method: Callable[..., Any], *, pace: bool = True, **kwargs: Any) -> Any:
        """Every Web API call: paced to Slack's tiers first (except while Slack waits for our ack)."""
        if pace:
            name = method.__name__.replace("_", ".", 1) if hasattr(method, "__name__") else ""
            self._throttle.wait(name, kwargs.get("channel"))
        return _call(method, **kwargs)

    def create_room(self, name: str, *, private: bool) -> Room:
        try:
            response = self._call(self._client.conversations_create, name=name, is_private=private)
        except ChatError as error:
            if _slack_error(error) == "name_taken":
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
                self._call(self._client.conversations_invite, channel=room_id, users=user_id)
            except ChatError as error:
                code = _slack_error(error)
                if code in {"already_in_channel", "cant_invite_self"}:
                    continue
                if code in {"user_not_found", "user_is_restricted", "cant_invite", "user_disabled"}:
                    log.warning("could not invite %s to %s: %s", user_id, room_id, code)
                    self.post_in_room(room_id, f":warning: I could not invite <@{user_id}> (`{code}`).")
                    continue
                raise

    def set_topic(self, room_id: str, topic: str) -> None:
        self._call(self._client.conversations_setTopic, channel=room_id, topic=clip(topic, 250))

    def post_summary(self, incident: Incident) -> str:
        assert incident.room_id is not None
        response = self._call(
            self._client.chat_postMessage,
            channel=incident.room_id,
            text=blocks.summary_fallback(incident),
            blocks=blocks.summary_blocks(incident),
        )
        ts = str(response["ts"])
        try:
            # Pinned, so that whoever joins late finds the summary and its buttons at once.
            self._call(self._client.pins_add, channel=incident.room_id, timestamp=ts)
        except ChatError as error:
            if error.retryable:
                raise
            log.warning("could not pin the summary in %s: %s", incident.room_id, error)
        return ts

    def update_summary(self, incident: Incident) -> None:
        if incident.room_id is None or incident.summary_message_id is None:
            return
        self._call(
            self._client.chat_update,
            channel=incident.room_id,
            ts=incident.summary_message_id,
            text=blocks.summary_fallback(incident),
            blocks=blocks.summary_blocks(incident),
        )

    def post_in_room(self, room_id: str, text: str) -> str:
        response = self._call(self._client.chat_postMessage, channel=room_id, text=clip(text, 3000))
        return str(response["ts"])

    def announce_declared(self, channel: str, incident: Incident) -> None:
        self._call(self._client.chat_postMessage, channel=channel, text=blocks.announcement_text(incident))

    def announce_severity_change(self, channel: str, incident: Incident, previous: Severity) -> None:
        self._call(self._client.chat_postMessage, channel=channel, text=blocks.severity_change_text(incident, previous))

    def incident_ready(self, reply: Reply, incident: Incident) -> None:
        self.tell(reply, f"Declared {incident.severity} *{as_mrkdwn(incident.title)}*: <#{incident.room_id}>")

    def severity_changed(self, incident: Incident, previous: Severity, by: str) -> None:
        if incident.room_id:
            self.post_in_room(incident.room_id, f"<@{by}> changed the severity from {previous} to {incident.severity}.")

    def commander_changed(self, incident: Incident, by: str) -> None:
        if incident.room_id:
            self.post_in_room(incident.room_id, f"<@{by}> made <@{incident.commander_id}> the incident commander.")

    def escalate_to(self, user_id: str, incident: Incident) -> None:
        self._dm(user_id, blocks.escalation_dm_text(incident))

    def _dm(self, user_id: str, text: str, block_list: list[dict[str, Any]] | None = None) -> None:
        opened = self._call(self._client.conversations_open, users=user_id)
        self._call(self._client.chat_postMessage, channel=opened["channel"]["id"], text=text, blocks=block_list)

    def tell(self, reply: Reply, text: str) -> None:
        if reply.response_url:
            try:
                response = WebhookClient(reply.response_url).send(
                    text=text, response_type="ephemeral", replace_original=False
                )
                if response.status_code == 200:
                    return
                log.warning("response_url answered %s; falling back", response.status_code)
            except OSError:
                log.warning("response_url unreachable; falling back", exc_info=True)
        if reply.room_id:
            try:
                self._call(self._client.chat_postEphemeral, channel=reply.room_id, user=reply.user_id, text=text)
                return
            except ChatError as error:
                if error.retryable:
                    raise
        self._dm(reply.user_id, text)

    def fetch_message(self, room_id: str, message_id: str) -> ChatMessage | None:
        try:
            history = self._call(
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
                replies = self._call(self._client.conversations_replies, channel=room_id, ts=message_id, limit=1000)
                found = self._find(replies, message_id)
        except ChatError as error:
            if _slack_error(error) in {"channel_not_found", "not_in_channel", "thread_not_found"}:
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
            response = self._call(self._client.chat_getPermalink, channel=room_id, message_ts=message_id)
        except ChatError as error:
            if error.retryable:
                raise
            return None
        return str(response["permalink"])

    def confirm_recorded(self, room_id: str, message_id: str) -> None:
        try:
            self._call(self._client.reactions_add, channel=room_id, timestamp=message_id, name=CONFIRM_EMOJI)
        except ChatError as error:
            if _slack_error(error) not in {"already_reacted", "message_not_found"}:
                raise

    def unconfirm_recorded(self, room_id: str, message_id: str) -> None:
        try:
            self._call(self._client.reactions_remove, channel=room_id, timestamp=message_id, name=CONFIRM_EMOJI)
        except ChatError as error:
            if _slack_error(error) not in {"no_reaction", "message_not_found"}:
                raise

    def display_names(self, user_ids: Sequence[str]) -> dict[str, str]:
        """Display name, else real name, else username; unknown users are left out."""
        names: dict[str, str] = {}
        for user_id in user_ids:
            if user_id not in self._names:
                try:
                    found = self._call(self._client.users_info, user=user_id)["user"]
                except ChatError as error:
                    if error.retryable:
                        raise
                    continue
                profile = found.get("profile") or {}
                self._names[user_id] = (
                    profile.get("display_name") or profile.get("real_name") or found.get("real_name") or found["name"]
                )
            names[user_id] = self._names[user_id]
        return names

    def find_user(self, name: str) -> str | None:
        """The member called `name` (display name, username or real name; case-insensitive), if exactly one."""
        found = match_owner(name, None, self.people(pace=False))
        if found is None and self._people is not None and time.monotonic() - self._people[0] > 30:
            self._people = None  # Maybe they joined since the last listing: look once more.
            found = match_owner(name, None, self.people(pace=False))
        return found

    def action_item_added(self, incident: Incident, item: ActionItem, by: str) -> None:
        if incident.room_id:
            self.post_in_room(incident.room_id, action_blocks.action_added_text(item, by))

    def incident_resolved(self, incident: Incident, by: str, announce_channel: str | None) -> None:
        self.update_summary(incident)
        text = resolve_blocks.resolved_text(incident, by)
        if incident.room_id:
            self.post_in_room(incident.room_id, text)
        if announce_channel:
            where = "" if incident.private else f" <#{incident.room_id}>"
            self._call(self._client.chat_postMessage, channel=announce_channel, text=text + where)

    def incident_reopened(self, incident: Incident, by: str) -> None:
        self.update_summary(incident)
        if incident.room_id:
            self.post_in_room(incident.room_id, f":arrows_counterclockwise: <@{by}> reopened this incident.")

    def share_draft(self, reply: Reply, incident: Incident, markdown: str) -> None:
        block_list = resolve_blocks.draft_blocks(incident, markdown)
        if reply.response_url:
            response = WebhookClient(reply.response_url).send(
                text="RCA draft", blocks=block_list, response_type="ephemeral", replace_original=False
            )
            if response.status_code == 200:
                return
        self._dm(reply.user_id, "RCA draft", block_list)

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

    def people(self, *, pace: bool = True) -> list[Person]:
        """Every workspace member with a time zone, for matching owners and local mornings (cached)."""
        if self._people is not None and time.monotonic() - self._people[0] < PEOPLE_TTL_SECONDS:
            return self._people[1]
        found = self._list_people(pace=pace)
        self._people = (time.monotonic(), found)
        return found

    def _list_people(self, *, pace: bool) -> list[Person]:
        found: list[Person] = []
        cursor = None
        while True:
            page = self._call(self._client.users_list, pace=pace, limit=200, cursor=cursor)
            for member in page.get("members", []):
                profile = member.get("profile") or {}
                found.append(
                    Person(
                        id=member["id"],
                        name=member.get("name", ""),
                        display_name=profile.get("display_name", ""),
                        real_name=profile.get("real_name") or member.get("real_name", ""),
                        tz=member.get("tz"),
                        deleted=bool(member.get("deleted")),
                    )
                )
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return found

    def is_member(self, room_id: str, user_id: str) -> bool:
        cursor = None
        while True:
            try:
                page = self._call(
                    self._client.conversations_members, pace=False, channel=room_id, limit=500, cursor=cursor
                )
            except ChatError as error:
                if error.retryable:
                    raise
                return False
            if user_id in page.get("members", []):
                return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False

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

    def post_briefing(
        self,
        channel: str,
        groups: Sequence[BriefingGroup],
        missing_rcas: Sequence[Incident],
        *,
        now: datetime,
        rca_links: Mapping[str, str],
    ) -> None:
        text = reminder_blocks.briefing_text(groups, missing_rcas, now=now, rca_links=rca_links)
        # Long briefings are split at line ends so that no message passes Slack's size limits.
        chunk = ""
        for line in text.split("\n"):
            if len(chunk) + len(line) + 1 > 3500:
                self._call(self._client.chat_postMessage, channel=channel, text=chunk)
                chunk = ""
            chunk = f"{chunk}\n{line}" if chunk else line
        if chunk:
            self._call(self._client.chat_postMessage, channel=channel, text=chunk)

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        # A trigger_id lives three seconds: never held back by pacing.
        self._call(self._client.views_open, pace=False, trigger_id=trigger_id, view=view)
