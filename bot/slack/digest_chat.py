"""The digest's Slack calls: its message, and its charts through `files.uploadV2` (slack_sdk's
`files_upload_v2`: files.getUploadURLExternal, a POST of the bytes, files.completeUploadExternal)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bot.core.digest import ChartFile, Digest
from bot.core.jobs import current_job
from bot.core.ports import ChatError
from bot.slack.calls import SlackCalls

log = logging.getLogger(__name__)

HISTORY_LOOKED_AT = 100


class SlackDigestChat:
    """Implements bot.core.digest.DigestChat over the bot's one Slack client."""

    def __init__(self, calls: SlackCalls) -> None:
        self._calls = calls
        self._client = calls.client

    def post_digest(self, channel: str, digest: Digest) -> str:
        from bot.slack.digest_blocks import digest_text  # with the numbers, which the daily check never loads

        # A retried job finds the message an earlier attempt posted (SlackCalls.post).
        return self._calls.post(channel, digest_text(digest))

    def upload_charts(self, channel: str, charts: Sequence[ChartFile], *, comment: str) -> None:
        """One message with every chart; a retried job first looks for the files an earlier attempt shared."""
        if not charts:
            return
        running = current_job.get()
        names = {chart.name for chart in charts}
        if running is not None and running.attempts > 1 and self._shared_before(channel, names):
            return
        self._calls.call(
            self._client.files_upload_v2,
            file_uploads=[
                {"file": chart.png, "filename": chart.name, "title": chart.title, "alt_txt": chart.title}
                for chart in charts
            ],
            channel=channel,
            initial_comment=comment,
        )

    def _shared_before(self, channel: str, names: set[str]) -> bool:
        try:
            page = self._calls.call(
                self._client.conversations_history, pace=False, channel=channel, limit=HISTORY_LOOKED_AT
            )
        except ChatError as error:
            if error.retryable:
                raise
            log.warning("cannot check %s for charts an earlier attempt shared (%s); uploading", channel, error)
            return False
        messages: list[dict[str, Any]] = page.get("messages", [])
        shared = {str(f.get("name")) for m in messages for f in m.get("files") or [] if isinstance(f, dict)}
        return names <= shared
