"""Who is who in the workspace: members, their names and time zones, and who is in which channel."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.open_items import Person, match_owner
from bot.core.ports import ChatError

if TYPE_CHECKING:
    from bot.slack.calls import SlackCalls  # imported by whoever makes one: `scan` reads listings without the SDK

# users.list is a Tier 2 method: the daily jobs reuse one listing for a few minutes.
PEOPLE_TTL_SECONDS = 300.0
# Who may change an incident depends on channel membership, asked on the path Slack waits on; an
# answer is reused this long (someone removed from a channel keeps their say this long at most).
MEMBERSHIP_TTL_SECONDS = 30.0


class SlackPeople:
    """Members and memberships, cached briefly so that answering Slack in time stays cheap."""

    def __init__(
        self,
        calls: SlackCalls,
        *,
        clock: Callable[[], float] = time.monotonic,
        shared: Path | None = None,
    ) -> None:
        """`shared`: a file where the processes of this host share the listing (see `SharedListing`)."""
        self._calls = calls
        self._clock = clock
        self._shared = SharedListing(shared) if shared is not None else None
        self._names: dict[str, str] = {}
        self._people: tuple[float, list[Person]] | None = None
        self._memberships: dict[tuple[str, str], tuple[float, bool]] = {}
        self._lock = threading.Lock()

    def people(self, *, pace: bool = True) -> list[Person]:
        """Every workspace member with a time zone, for matching owners and local mornings (cached)."""
        cached = self._people
        if cached is not None and self._clock() - cached[0] < PEOPLE_TTL_SECONDS:
            return cached[1]
        found = self._shared.read() if self._shared is not None else None
        if found is None:
            found = self._list_people(pace=pace)
            if self._shared is not None:
                self._shared.write(found)
        self._people = (self._clock(), found)
        return found

    def forget_people(self) -> None:
        self._people = None
        if self._shared is not None:
            self._shared.forget()

    def find_user(self, name: str) -> str | None:
        """The member called `name` (display name, username or real name; case-insensitive), if exactly one."""
        found = match_owner(name, None, self.people(pace=False))
        cached = self._people
        if found is None and cached is not None and self._clock() - cached[0] > 30:
            self.forget_people()  # Maybe they joined since the last listing: look once more.
            found = match_owner(name, None, self.people(pace=False))
        return found

    def display_names(self, user_ids: Sequence[str]) -> dict[str, str]:
        """Display name, else real name, else username; unknown users are left out."""
        names: dict[str, str] = {}
        for user_id in user_ids:
            if user_id not in self._names:
                try:
                    found = self._calls.call(self._calls.client.users_info, user=user_id)["user"]
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

    def is_member(self, room_id: str, user_id: str) -> bool:
        """Whether `user_id` is in the channel `room_id` (False when the bot cannot tell)."""
        key = (room_id, user_id)
        with self._lock:
            cached = self._memberships.get(key)
        if cached is not None and self._clock() - cached[0] < MEMBERSHIP_TTL_SECONDS:
            return cached[1]
        answer = self._ask_membership(room_id, user_id)
        with self._lock:
            if len(self._memberships) > 10_000:
                self._memberships.clear()
            self._memberships[key] = (self._clock(), answer)
        return answer

    def _ask_membership(self, room_id: str, user_id: str) -> bool:
        cursor = None
        while True:
            try:
                page = self._calls.call(
                    self._calls.client.conversations_members, pace=False, channel=room_id, limit=500, cursor=cursor
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

    def _list_people(self, *, pace: bool) -> list[Person]:
        found: list[Person] = []
        cursor = None
        while True:
            # Slack's largest page: users.list is Tier 2, and 2,000 people in pages of 200 would be eleven
            # calls (half a minute of pacing) where two do.
            page = self._calls.call(self._calls.client.users_list, pace=pace, limit=1000, cursor=cursor)
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


class SharedListing:
    """The workspace's members in a file of the host's private pacing folder, reused for
    PEOPLE_TTL_SECONDS by every process (a `scan` from an agent, `remind` from cron, `serve`), so that
    users.list (Tier 2) is not asked again by each of them. A file that cannot be read is ignored."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[Person] | None:
        try:
            if time.time() - self.path.stat().st_mtime >= PEOPLE_TTL_SECONDS:
                return None
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [Person(**entry) for entry in raw]
        except (OSError, ValueError, TypeError):
            return None

    def write(self, people: Sequence[Person]) -> None:
        with contextlib.suppress(OSError):
            handle, name = tempfile.mkstemp(dir=self.path.parent, prefix=".people-")
            try:
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    json.dump([asdict(person) for person in people], out, separators=(",", ":"))
                os.replace(name, self.path)  # readers see the old listing or the new one, never half
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(name)

    def forget(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
