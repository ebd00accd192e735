"""Every Web API call the bot makes goes through `SlackCalls`: paced, errors typed, output made safe.

What the bot posts is checked here once, whoever built it: broadcasts and user-group mentions in it are
made inert, so no text a person wrote can ping a channel through the bot; only a post that asks for it
(`ping=True`, the bot's own SEV-1 escalation) starts with `@here`. A `response_url` is followed only to
Slack itself, never to a host a request body named.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.webhook import WebhookClient

from bot.core.errors import Paced
from bot.core.jobs import current_job
from bot.core.ports import ChatError
from bot.slack.text import clip, without_broadcasts
from bot.slack.throttle import Throttle

if TYPE_CHECKING:
    from bot.ops.metrics import BotMetrics

log = logging.getLogger(__name__)

PING = "<!here> "
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,}")
# Where Slack's response URLs point; anything else in a payload is not followed.
SLACK_RESPONSE_HOST = "hooks.slack.com"
# Slack truncates a message's text past 40,000 characters; the bot's own messages stay far below.
MESSAGE_TEXT_LIMIT = 40_000
_RETRYABLE = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}

Blocks = list[dict[str, Any]]


# Methods whose calls change nothing, or change nothing more when repeated: on a 5xx or a dropped
# connection the SDK tries them again at once. A post is never among them: a retried job first looks
# for the post an earlier attempt made (see `SlackCalls.post`).
SAFE_TO_REPEAT = frozenset(
    {
        "auth.test",
        "users.list",
        "users.info",
        "conversations.list",
        "conversations.info",
        "conversations.members",
        "conversations.history",
        "conversations.replies",
        "conversations.open",
        "conversations.setTopic",
        "chat.getPermalink",
        "chat.update",
    }
)
# What the bot's posts carry, so that a retried job can tell which of them it already made.
POST_EVENT = "incident_bot_post"


class RepeatSafeCallsOnServerErrors(RetryHandler):
    """Retries a call of a SAFE_TO_REPEAT method that met a server error (5xx)."""

    def _can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        method = request.url.rstrip("/").rsplit("/", 1)[-1]
        return method in SAFE_TO_REPEAT and response is not None and response.status_code >= 500


def slack_error(error: ChatError) -> str:
    """Slack's error code behind a ChatError (`name_taken`, `not_in_channel`, …), or ""."""
    cause = error.__cause__
    if isinstance(cause, SlackApiError) and cause.response:
        return str(cause.response.get("error", ""))
    return ""


def inert_blocks(blocks: Any) -> Any:
    """Blocks with every text in them made inert (see `without_broadcasts`)."""
    if isinstance(blocks, dict):
        return {
            key: without_broadcasts(value) if key == "text" and isinstance(value, str) else inert_blocks(value)
            for key, value in blocks.items()
        }
    if isinstance(blocks, list):
        return [inert_blocks(block) for block in blocks]
    return blocks


class SlackCalls:
    """The bot's one Slack client: pacing, typed errors, and nothing unsafe posted or followed."""

    def __init__(
        self,
        client: WebClient,
        *,
        throttle: Throttle | None = None,
        api_url: str = "https://slack.com/api/",
        metrics: BotMetrics | None = None,
    ) -> None:
        self.client = client
        self._metrics = metrics
        self._throttle = throttle or Throttle()
        api = urlsplit(api_url)
        # Response URLs are Slack's (https://hooks.slack.com/…); tests serve both from the fake's address.
        self._response_origins = {("https", SLACK_RESPONSE_HOST, None), (api.scheme, api.hostname, api.port)}

    def fan_out_free_in(self) -> float:
        """Seconds until the pacer's fan-out lane has a turn free (0: now)."""
        return self._throttle.fan_out_free_in()

    def call(self, method: Callable[..., Any], *, pace: bool = True, **kwargs: Any) -> Any:
        """Run a WebClient method, paced to Slack's tiers first (except while Slack waits for our ack)."""
        name = method.__name__.replace("_", ".", 1) if hasattr(method, "__name__") else ""
        if pace:
            self._pace(name, kwargs.get("channel"))
        try:
            answer = method(**kwargs)
        except SlackApiError as error:
            code = error.response.get("error", "unknown_error") if error.response else "unknown_error"
            status = error.response.status_code if error.response else 0
            self._count(name, "429" if status == 429 else "5xx" if status >= 500 else str(code))
            retry_after = None
            if status == 429:
                retry_after = float(error.response.headers.get("Retry-After", "1") or 1)
            raise ChatError(
                f"Slack said `{code}`",
                retryable=status == 429 or status >= 500 or code in _RETRYABLE,
                retry_after=retry_after,
            ) from error
        except (SlackClientError, OSError) as error:
            self._count(name, "unreachable")
            raise ChatError(f"could not reach Slack ({error})", retryable=True) from error
        self._count(name, "ok")
        return answer

    def _count(self, method: str, status: str) -> None:
        if self._metrics is not None:
            self._metrics.slack_call(method, status)

    def _pace(self, name: str, channel: str | None) -> None:
        running = current_job.get()
        fan_out = running is not None and running.fan_out
        call = self._throttle.key(name, channel, fan_out=fan_out)
        if running is None or not running.take_booked_moment(call):
            delay = self._throttle.reserve(name, channel, fan_out=fan_out)
            if delay > 0:
                if running is not None and running.may_wait_in_queue():
                    raise Paced(delay, call)  # the job waits in the queue, not in a worker
                time.sleep(delay)
        if running is not None and self._throttle.limited(name):
            running.limited_calls += 1

    def post(
        self,
        channel: str,
        text: str,
        blocks: Blocks | None = None,
        *,
        ping: bool = False,
        thread_ts: str | None = None,
        groups: Sequence[str] = (),
    ) -> str:
        """Post a message (in the thread of `thread_ts`, if given); returns its ts.

        A post made by a job carries the job's id and the post's number within it as message metadata.
        When the job runs again (its first attempt crashed, or the answer to the post was lost), the
        channel's recent history is searched for that post first, and it is not posted twice.
        """
        running = current_job.get()
        metadata = None
        if running is not None:
            number = running.next_post()
            metadata = {"event_type": POST_EVENT, "event_payload": {"job": running.id, "post": number}}
            if running.attempts > 1:
                earlier = self._posted_before(channel, running.id, number)
                if earlier is not None:
                    return earlier
        response = self.call(
            self.client.chat_postMessage,
            channel=channel,
            text=_safe_text(text, ping=ping, groups=groups),
            blocks=inert_blocks(blocks) if blocks else None,
            metadata=metadata,
            thread_ts=thread_ts,
        )
        return str(response["ts"])

    def _posted_before(self, channel: str, job_id: int, number: int) -> str | None:
        try:
            if channel[:1] in ("U", "W"):  # a DM posted to the user: its history is the DM channel's
                channel = self.call(self.client.conversations_open, pace=False, users=channel)["channel"]["id"]
            page = self.call(
                self.client.conversations_history, pace=False, channel=channel, limit=100, include_all_metadata=True
            )
        except ChatError as error:
            if error.retryable:
                raise
            # Say, the announce channel, which the bot posts to without being in it: it cannot look.
            log.warning("cannot check %s for an earlier post of job %s (%s); posting", channel, job_id, error)
            return None
        for message in page.get("messages", []):
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == POST_EVENT
                and payload.get("job") == job_id
                and payload.get("post") == number
            ):
                return str(message["ts"])
        return None

    def update(self, channel: str, ts: str, text: str, blocks: Blocks | None = None) -> None:
        self.call(
            self.client.chat_update,
            channel=channel,
            ts=ts,
            text=_safe_text(text, ping=False),
            blocks=inert_blocks(blocks) if blocks else None,
        )

    def ephemeral(self, channel: str, user: str, text: str) -> None:
        self.call(self.client.chat_postEphemeral, channel=channel, user=user, text=_safe_text(text, ping=False))

    def respond(self, response_url: str, text: str, blocks: Blocks | None = None) -> bool:
        """Answer through a response URL (only Slack's); False when it cannot be used, so the caller falls back."""
        if not self.is_slack_response_url(response_url):
            log.warning("not following a response_url outside Slack (host %r)", urlsplit(response_url).hostname)
            return False
        try:
            response = WebhookClient(response_url).send(
                text=_safe_text(text, ping=False),
                blocks=inert_blocks(blocks) if blocks else None,
                response_type="ephemeral",
                replace_original=False,
            )
        except OSError:
            log.warning("response_url unreachable; falling back", exc_info=True)
            return False
        if response.status_code != 200:
            log.warning("response_url answered %s; falling back", response.status_code)
            return False
        return True

    def is_slack_response_url(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            origin = (parts.scheme, parts.hostname, parts.port)
        except ValueError:
            return False
        return origin in self._response_origins


def _safe_text(text: str, *, ping: bool, groups: Sequence[str] = ()) -> str:
    safe = clip(without_broadcasts(text), MESSAGE_TEXT_LIMIT)
    # User groups the team's policy names for the level (IDs checked again: only a real ID becomes a mention).
    mentions = "".join(f"<!subteam^{group}> " for group in groups if _GROUP_ID.fullmatch(group))
    return (PING if ping else "") + mentions + safe
