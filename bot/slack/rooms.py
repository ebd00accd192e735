"""The RoomUpkeep port over Slack: bookmarks, archiving and unarchiving incident channels."""

from __future__ import annotations

import logging
from datetime import datetime

from bot.core.jobs import current_job
from bot.core.ports import ChatError
from bot.slack.calls import SlackCalls, slack_error
from bot.slack.text import slack_date

log = logging.getLogger(__name__)


class SlackRooms:
    """Implements bot.core.ports.RoomUpkeep with Web API calls, all through the bot's one SlackCalls."""

    def __init__(self, calls: SlackCalls) -> None:
        self._calls = calls
        self._client = calls.client

    def add_bookmark(self, room_id: str, *, title: str, link: str) -> None:
        running = current_job.get()
        # A retried job first looks for the bookmark an interrupted attempt added (its answer lost).
        if running is not None and running.attempts > 1 and link in self._bookmarked(room_id):
            return
        self._calls.call(self._client.bookmarks_add, channel_id=room_id, title=title, type="link", link=link)

    def _bookmarked(self, room_id: str) -> set[str]:
        try:
            listing = self._calls.call(self._client.bookmarks_list, channel_id=room_id)
        except ChatError as error:
            if error.retryable:
                raise
            log.warning("cannot list the bookmarks of %s (%s); adding", room_id, error)
            return set()
        return {str(bookmark.get("link")) for bookmark in listing.get("bookmarks", [])}

    def archive_notice(self, room_id: str, *, room_name: str | None, resolved_at: datetime) -> bool:
        where = f"`/incident reopen #{room_name}`" if room_name else "`/incident reopen` with this channel"
        text = (
            f":file_cabinet: This incident was resolved {slack_date(resolved_at, '{date_short_pretty}')}; "
            f"archiving this channel now. If it comes back, {where} from any channel reopens it "
            "and brings the channel back."
        )
        try:
            self._calls.post(room_id, text)
        except ChatError as error:
            if slack_error(error) == "is_archived":
                return False  # someone archived it already
            raise
        return True

    def archive(self, room_id: str) -> None:
        try:
            self._calls.call(self._client.conversations_archive, channel=room_id)
        except ChatError as error:
            if slack_error(error) != "already_archived":
                raise

    def is_archived(self, room_id: str) -> bool | None:
        try:
            info = self._calls.call(self._client.conversations_info, channel=room_id)
        except ChatError as error:
            if slack_error(error) == "channel_not_found":
                return None
            raise
        return bool(info["channel"].get("is_archived"))

    def unarchive(self, room_id: str) -> bool:
        try:
            self._calls.call(self._client.conversations_unarchive, channel=room_id)
        except ChatError as error:
            if error.retryable:
                raise
            if slack_error(error) == "not_archived":
                return True
            # Slack answers a bot token `not_in_channel` here (its documented bug): a new channel it is.
            log.warning("Slack would not unarchive %s (%s); the incident gets a new channel", room_id, error)
            return False
        return True

    def members(self, room_id: str) -> list[str]:
        found: list[str] = []
        cursor = None
        while True:
            try:
                page = self._calls.call(self._client.conversations_members, channel=room_id, limit=1000, cursor=cursor)
            except ChatError as error:
                if error.retryable:
                    raise
                log.warning("cannot read who was in %s (%s)", room_id, error)
                return found
            found += [str(member) for member in page.get("members", [])]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return found

    def moved_notice(self, room_id: str, *, from_room_id: str) -> None:
        self._calls.post(
            room_id,
            f":file_cabinet: This incident was reopened after its channel <#{from_room_id}> was archived, "
            "and Slack would not bring that one back, so the incident continues here. "
            "Its earlier messages are still there to read.",
        )
