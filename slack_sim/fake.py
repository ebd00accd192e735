"""``FakeSlack``: a stateful stand-in for Slack's Web API for tests and demos.

Point a real ``slack_sdk.WebClient(base_url=fake.url)`` at it. Tests arrange
the workspace (users, channels, human messages) through this class, read back
what the bot did, and inject failures.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from slack_sim import interactions, messages, methods_views
from slack_sim.server import SimulatorServer
from slack_sim.state import Workspace

T = TypeVar("T")


# A condition on a call's arguments, for injecting a failure into one particular call.
Condition = Callable[[dict[str, Any]], bool]


class Hold:
    """A call the fake keeps waiting: `reached` is set when it arrives; `release()` lets it take effect
    (even if its caller has died meanwhile), `drop()` answers it with a 500 and no effect."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.released = threading.Event()
        self.dropped = False

    def release(self) -> None:
        self.released.set()

    def drop(self) -> None:
        self.dropped = True
        self.released.set()


class FakeSlack:
    """A fake Slack workspace served over HTTP on 127.0.0.1 (thread-safe)."""

    def __init__(
        self,
        bot_token: str = "xoxb-test",
        team_id: str = "T0TEST",
        bot_user_id: str = "UBOT",
        bot_id: str = "BBOT",
        *,
        app_token: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` is Slack's clock (seconds since the epoch): message timestamps follow it, so a test can
        give the fake the same clock as the bot."""
        self.bot_token = bot_token
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self._ws = Workspace(bot_token=bot_token, team_id=team_id, bot_user_id=bot_user_id, bot_id=bot_id, clock=clock)
        # None accepts any xapp- token for apps.connections.open.
        self._ws.app_token = app_token
        self._server: SimulatorServer | None = None
        self._holds: list[Hold] = []

    # -- lifecycle --------------------------------------------------------------
    def start(self) -> FakeSlack:
        if self._server is None:
            self._server = SimulatorServer(self._ws)
            self._server.start()
        return self

    def stop(self) -> None:
        for held in self._holds:
            held.release()  # no call stays waiting on a server that is going away
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_http(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started; call start() first")
        return self._server.base_http

    @property
    def url(self) -> str:
        return f"{self.base_http}/api/"

    def now(self) -> float:
        """The fake's clock: seconds since the epoch."""
        return self._ws.clock()

    @property
    def app_id(self) -> str:
        return self._ws.app_id

    @property
    def socket_mode_url(self) -> str | None:
        return self._ws.socket_mode_url

    @socket_mode_url.setter
    def socket_mode_url(self, value: str | None) -> None:
        with self._ws.lock:
            self._ws.socket_mode_url = value

    def set_app_token(self, token: str | None) -> None:
        """The app-level token apps.connections.open accepts (None: any xapp- token)."""
        with self._ws.lock:
            self._ws.app_token = token

    @property
    def scopes(self) -> list[str] | None:
        """The scopes the bot token was granted, sent back as `X-OAuth-Scopes` (None: no header)."""
        return self._ws.scopes

    @scopes.setter
    def scopes(self, value: list[str] | None) -> None:
        with self._ws.lock:
            self._ws.scopes = list(value) if value is not None else None

    # -- arranging the workspace ---------------------------------------------
    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str | None = None,
        display_name: str | None = None,
        tz: str = "UTC",
        tz_offset: int = 0,
        is_bot: bool = False,
        deleted: bool = False,
        email: str | None = None,
    ) -> dict[str, Any]:
        """Add (or replace) a user; ``email`` defaults to ``<name>@example.com``."""
        with self._ws.lock:
            user = self._ws.add_user(
                user_id,
                name,
                real_name=real_name,
                display_name=display_name,
                tz=tz,
                tz_offset=tz_offset,
                is_bot=is_bot,
                deleted=deleted,
                email=email,
            )
            return self._ws.user_object(user)

    def add_channel(
        self,
        name: str,
        *,
        is_private: bool = False,
        members: tuple[str, ...] | list[str] = (),
        bot_is_member: bool = True,
        channel_id: str | None = None,
    ) -> str:
        with self._ws.lock:
            return str(
                self._ws.add_channel(
                    name,
                    is_private=is_private,
                    members=members,
                    bot_is_member=bot_is_member,
                    channel_id=channel_id,
                    creator=next(iter(members), None),
                )["id"]
            )

    def _channel(self, ref: str) -> dict[str, Any]:
        channel = self._ws.find_channel(ref, names=True, users=True)
        if channel is None:
            raise KeyError(f"no channel {ref!r} in the fake workspace")
        return channel

    def _message(self, channel: str, ts: str) -> tuple[dict[str, Any], dict[str, Any]]:
        found = self._channel(channel)
        message = messages.find(self._ws, found["id"], ts)
        if message is None:
            raise KeyError(f"no message {ts} in {found['id']}")
        return found, message

    def join(self, channel: str, user: str) -> None:
        """A human joins a channel (as they would before posting or reacting in it)."""
        with self._ws.lock:
            if user not in self._ws.users:
                raise KeyError(f"no user {user!r}; add_user() first")
            members = self._channel(channel)["members"]
            if user not in members:
                members.append(user)

    def _member_of(self, channel: dict[str, Any], user: str) -> None:
        # As in Slack: only members post and react in a channel (a DM's members are its two people).
        if not channel["is_im"] and user not in channel["members"]:
            raise PermissionError(f"{user} is not in #{channel['name']}; join() first, as a person would")

    def post_as_user(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> str:
        """A human posts (no event is sent; the test sends it). Returns the ts."""
        with self._ws.lock:
            if user not in self._ws.users:
                raise KeyError(f"no user {user!r}; add_user() first")
            found = self._channel(channel)
            self._member_of(found, user)
            return str(messages.add(self._ws, found, user=user, text=text, thread_ts=thread_ts)["ts"])

    def edit_as_user(self, channel: str, ts: str, text: str) -> None:
        with self._ws.lock:
            _, message = self._message(channel, ts)
            message["text"] = text
            message["edited"] = {"user": message["user"], "ts": self._ws.new_ts()}

    def delete_as_user(self, channel: str, ts: str) -> None:
        with self._ws.lock:
            found, message = self._message(channel, ts)
            messages.delete(self._ws, found["id"], message)

    def react_as_user(self, channel: str, ts: str, user: str, name: str) -> None:
        with self._ws.lock:
            found, message = self._message(channel, ts)
            self._member_of(found, user)
            messages.set_reaction(message, user, name, add=True)

    def unreact_as_user(self, channel: str, ts: str, user: str, name: str) -> None:
        with self._ws.lock:
            messages.set_reaction(self._message(channel, ts)[1], user, name, add=False)

    # -- reading state -------------------------------------------------------
    def user(self, user_id: str) -> dict[str, Any] | None:
        with self._ws.lock:
            user = self._ws.users.get(user_id)
            return self._ws.user_object(user) if user else None

    def find_channel(self, channel_id: str) -> dict[str, Any] | None:
        """A channel's state, or None when the workspace has no channel with that id."""
        with self._ws.lock:
            found = self._ws.channels.get(channel_id)
            return self._ws.public_channel(found) if found else None

    def channel(self, channel_id: str) -> dict[str, Any]:
        """A channel's state (topic, members, …); KeyError when there is no such channel."""
        found = self.find_channel(channel_id)
        if found is None:
            raise KeyError(f"no channel {channel_id!r} in the fake workspace")
        return found

    def bookmarks(self, channel: str) -> list[dict[str, Any]]:
        """The bookmarks in a channel's bookmarks bar, oldest first (as bookmarks.list answers)."""
        with self._ws.lock:
            return copy.deepcopy(self._channel(channel)["bookmarks"])

    def channels(self) -> list[dict[str, Any]]:
        """Channels (public, private, group DMs) - not the bot's 1:1 DMs."""
        with self._ws.lock:
            return [self._ws.public_channel(c) for c in self._ws.channels.values() if not c["is_im"]]

    def messages(self, channel: str, *, include_replies: bool = True) -> list[dict[str, Any]]:
        """Messages in post order (thread replies included unless told otherwise)."""
        with self._ws.lock:
            found = self._channel(channel)
            return [
                messages.public(self._ws, m)
                for m in self._ws.messages[found["id"]]
                if include_replies or m["thread_ts"] in (None, m["ts"])
            ]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self._ws.lock:
            found = self._channel(channel)
            message = messages.find(self._ws, found["id"], ts)
            return messages.public(self._ws, message) if message else None

    def dm_channel(self, user_id: str) -> str:
        """The id ("D...") of the bot's DM with a user, opened on first use."""
        with self._ws.lock:
            if user_id not in self._ws.users:
                raise KeyError(f"no user {user_id!r}; add_user() first")
            return str(self._ws.im_with(user_id)["id"])

    def dms_to(self, user_id: str) -> list[dict[str, Any]]:
        """What the bot posted in its DM with ``user_id``."""
        with self._ws.lock:
            for channel in self._ws.channels.values():
                if channel["is_im"] and channel["user"] == user_id:
                    return [
                        messages.public(self._ws, m)
                        for m in self._ws.messages[channel["id"]]
                        if m["user"] == self.bot_user_id
                    ]
            return []

    def everything_the_bot_said(self) -> list[dict[str, Any]]:
        """Every message the bot posted anywhere (channels, threads, DMs), its ephemeral messages and its
        answers to response URLs, oldest first within each kind."""
        with self._ws.lock:
            said = [
                messages.public(self._ws, m)
                for channel_id in self._ws.channels
                for m in self._ws.messages[channel_id]
                if m["user"] == self.bot_user_id
            ]
            said += [copy.deepcopy(e) for e in self._ws.ephemerals]
            said += [copy.deepcopy(r["body"]) for r in self._ws.responses if isinstance(r["body"], dict)]
            return said

    def ephemerals(self, *, user: str | None = None, channel: str | None = None) -> list[dict[str, Any]]:
        with self._ws.lock:
            return [
                copy.deepcopy(e)
                for e in self._ws.ephemerals
                if (user is None or e["user"] == user) and (channel is None or e["channel"] == channel)
            ]

    def uploaded_files(self) -> list[dict[str, Any]]:
        """Every file uploaded (files.getUploadURLExternal onwards), oldest first: its `data` (bytes, None
        until the upload POST), `name`, `title`, whether it was `completed` and the `channels` it is in."""
        with self._ws.lock:
            return copy.deepcopy(list(self._ws.files.values()))

    def views(self) -> list[dict[str, Any]]:
        """Every view opened/pushed/published, latest content, in creation order."""
        with self._ws.lock:
            return copy.deepcopy(list(self._ws.views.values()))

    def responses(self, *, user: str | None = None) -> list[dict[str, Any]]:
        with self._ws.lock:
            return [copy.deepcopy(r["body"]) for r in self._ws.responses if user is None or r["user"] == user]

    def calls(self, method: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        with self._ws.lock:
            return [(m, copy.deepcopy(a)) for m, a in self._ws.calls if method is None or m == method]

    # -- interaction plumbing ----------------------------------------------------
    def issue_trigger_id(self, user: str) -> str:
        with self._ws.lock:
            return methods_views.issue_trigger(self._ws, user)

    def new_response_url(self, user: str, channel: str, *, message_ts: str | None = None) -> str:
        with self._ws.lock:
            return interactions.new_response_url(self._ws, self.base_http, user, channel, message_ts=message_ts)

    def record_view_submission(self, view_id: str, values: dict[str, Any]) -> None:
        """Store the state a view was submitted with (used by SlackDriver.submit)."""
        with self._ws.lock:
            interactions.record_submission(self._ws, view_id, values)

    def apply_view_ack(self, view_id: str, ack: Any) -> None:
        """Apply the app's view_submission answer to the modal stack (used by SlackDriver.submit)."""
        with self._ws.lock:
            interactions.apply_view_ack(self._ws, view_id, ack)

    # -- fault injection ----------------------------------------------------------
    def fail_next(self, method: str, error: str, *, times: int = 1, when: Condition | None = None) -> None:
        """The next calls of `method` (matching `when`, given the call's arguments) answer `ok: false, error`."""
        self._inject(method, "fail", error, times, when)

    def rate_limit(self, method: str, *, retry_after: int = 1, times: int = 1, when: Condition | None = None) -> None:
        """The next calls answer 429 with `Retry-After`, changing nothing."""
        self._inject(method, "ratelimit", retry_after, times, when)

    def server_error(self, method: str, *, times: int = 1, when: Condition | None = None) -> None:
        """The next calls of `method` answer HTTP 500 and change nothing."""
        self._inject(method, "server_error", True, times, when)

    def lose_response(self, method: str, *, times: int = 1, when: Condition | None = None) -> None:
        """The next successful calls of `method` take effect, but their answer is lost: the client gets 500."""
        self._inject(method, "lost_response", True, times, when)

    def hold(self, method: str, *, when: Condition | None = None) -> Hold:
        """Keep the next call of `method` waiting (before it takes effect) until it is released or dropped."""
        held = Hold()
        with self._ws.lock:
            self._holds.append(held)
        self._inject(method, "hold", held, 1, when)
        return held

    def unmet_faults(self) -> list[tuple[str, str]]:
        """Injected outcomes no call has met yet, as (method, kind): a test can check its fault was hit."""
        with self._ws.lock:
            return [(method, kind) for method, queue in self._ws.injected.items() for kind, _, _ in queue]

    def _inject(self, method: str, kind: str, payload: Any, times: int, when: Condition | None) -> None:
        with self._ws.lock:
            self._ws.injected.setdefault(method, []).extend([(kind, payload, when)] * times)

    # -- waiting ----------------------------------------------------------------
    def wait_for(self, predicate: Callable[[], T | None], timeout: float = 30.0) -> T:
        """Poll ``predicate`` until it returns something truthy and return that.

        The timeout only bounds a failing wait; a passing one returns as soon as the state is there.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        recent = [method for method, _ in self.calls()[-15:]]
        name = getattr(predicate, "__qualname__", repr(predicate))
        raise AssertionError(
            f"wait_for({name}) still falsy after {timeout}s (last value {value!r}); "
            f"latest Web API calls: {recent or 'none'}"
        )
