"""The incident `incident-bot demo` plays. Each step drives the real app the way Slack would
(signed slash commands, events and modal submissions) and then waits for what a person would
see in Slack before printing its ✓, so the printout never claims more than happened."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from bot.demo.output import Console
from slack_sim.driver import Response, SlackDriver
from slack_sim.fake import FakeSlack

T = TypeVar("T")

ALICE, BOB, CAROL = "UALICE", "UBOB", "UCAROL"
GENERAL, INCIDENTS = "CGENERAL", "CINCIDENTS"
TITLE = "Gateway auth outage"
# Generous: a slow CI machine or a cold git still finishes well inside it; a normal run takes ~1 s per step.
WAIT_SECONDS = 20.0
PIN = "pushpin"
CONFIRMED = "white_check_mark"

RESOLUTION = {
    "Summary": "6 of 10 agents failed to authenticate because auth-profiles.json was missing after a redeploy",
    "Root cause(s)": "The redeploy script rebuilt the agents' config directory without copying "
    "auth-profiles.json, which lives outside the repo.",
    "Resolution": "Restored auth-profiles.json from the nightly backup and restarted the gateway; "
    "all 10 agents authenticated again.",
    "Lessons learned": "Config that lives outside the repo is lost on redeploy, and the watchdog "
    "only logged the failures instead of paging someone.",
}
# How the bot says it failed, in commands, in channels and in replies to the asker.
_COMPLAINT = (":warning:", ":x:")


class DemoFailed(Exception):
    """A step did not have the outcome a person would expect; the message says which and why."""


@dataclass(frozen=True)
class Outcome:
    room_name: str
    rca_path: str
    commit: str


class Scenario:
    """Plays the incident as alice (commander) and bob against a running bot."""

    def __init__(self, fake: FakeSlack, slack: SlackDriver, console: Console) -> None:
        self._fake = fake
        self._slack = slack
        self._say = console

    def play(self) -> Outcome:
        room, room_name = self.declare()
        self.raise_severity(room, room_name)
        self.post_and_pin(room, BOB, "Watchdog: 6/10 agents failing with 401", pinned_by=ALICE)
        self.post_and_pin(room, ALICE, "auth-profiles.json is missing on every failing agent", pinned_by=ALICE)
        self.thread_reply_and_pin(room, "Restoring auth-profiles.json from backup", "Restored, gateway restarted")
        self.note(room)
        self.action_item(room)
        form = self.open_resolve_form(room)
        rca_path, commit = self.resolve(room, form)
        return Outcome(room_name=room_name, rca_path=rca_path, commit=commit)

    # -- the steps ---------------------------------------------------------------
    def declare(self) -> tuple[str, str]:
        text = f"sev3 {TITLE}"
        self._say.step(f"/incident {text}    (alice, in #general)")
        before = {channel["id"] for channel in self._fake.channels()}
        self._command(text, channel=GENERAL)

        def opened() -> dict[str, Any] | None:
            # Ready once the bot has invited alice and posted its summary, not merely created the channel.
            fresh = [c for c in self._fake.channels() if c["id"] not in before]
            return next((c for c in fresh if ALICE in c.get("members", ()) and self._bot_posts(c["id"])), None)

        room = self._wait("the incident channel", opened)
        self._wait("the announcement in #incidents", lambda: self._bot_posts(INCIDENTS, f"<#{room['id']}>"))
        name = f"#{room['name']}"
        self._say.ok(f"{name} created, alice invited, announced in #incidents")
        self._fake.join(room["id"], BOB)
        self._say.step(f"bob joins {name} to help")
        return str(room["id"]), name

    def raise_severity(self, room: str, room_name: str) -> None:
        self._say.step(f"/incident sev2    (alice, in {room_name})")
        self._command("sev2", channel=room)
        topic = self._wait("the new channel topic", lambda: self._topic_starting(room, "SEV-2"))
        self._wait("the severity change in #incidents", lambda: self._bot_posts(INCIDENTS, "*SEV-2*"))
        self._say.ok(f'raised to SEV-2 (RCA required): topic is now "{topic}", #incidents told')

    def post_and_pin(self, room: str, author: str, text: str, *, pinned_by: str) -> None:
        self._say.step(f'{_name(author)}: "{text}"    ({_name(pinned_by)} reacts :{PIN}:)')
        ts = self._post(room, author, text)
        self._pin(room, ts, pinned_by)
        self._say.ok(f"on the timeline (the bot confirmed with :{CONFIRMED}:)")

    def thread_reply_and_pin(self, room: str, parent_text: str, reply_text: str) -> None:
        self._say.step(f'bob: "{parent_text}"    (no reaction)')
        parent = self._post(room, BOB, parent_text)
        self._say.step(f'bob, in that thread: "{reply_text}"    (bob reacts :{PIN}:)')
        reply = self._post(room, BOB, reply_text, thread_ts=parent)
        self._pin(room, reply, BOB)
        self._say.ok("on the timeline too: thread replies count")

    def note(self, room: str) -> None:
        text = "All 10 agents green"
        self._say.step(f"/incident note {text}")
        answer = self._command(f"note {text}", channel=room)
        if "Added to the timeline" not in str(answer.get("text")):
            raise DemoFailed(f"`/incident note` answered {answer.get('text')!r}")
        self._say.ok("noted on the timeline")

    def action_item(self, room: str) -> None:
        action = "Page a human when 3+ agents fail"
        self._say.step(f"/incident action @bob {action}")
        # What Slack sends when someone picks @bob from the autocomplete.
        answer = self._command(f"action <@{BOB}|bob> {action}", channel=room)
        number = re.search(r"#(\d+)", str(answer.get("text")))
        if number is None:
            raise DemoFailed(f"`/incident action` answered {answer.get('text')!r}")
        self._wait("the action item in the channel", lambda: self._bot_posts(room, action))
        self._say.ok(f"action item #{number[1]}, owned by bob, posted in the channel")

    def open_resolve_form(self, room: str) -> dict[str, Any]:
        self._say.step("/incident resolve")
        before = len(self._fake.views())
        self._command("resolve", channel=room)
        form: dict[str, Any] = self._wait("the resolve form", lambda: self._fake.views()[before:])[-1]
        labels = [b["label"]["text"] for b in form.get("blocks", []) if b.get("type") == "input"]
        missing = [label for label in RESOLUTION if label not in labels]
        if missing:
            raise DemoFailed(f"the resolve form has no {', '.join(missing)} field (it has {', '.join(labels)})")
        self._say.ok(f"the resolve form opened: {' · '.join(labels)}")
        return form

    def resolve(self, room: str, form: dict[str, Any]) -> tuple[str, str]:
        self._say.step("alice fills in summary, root causes, resolution and lessons, and clicks Resolve")
        answer = self._slack.submit(ALICE, form, RESOLUTION)
        body = answer.json() or {}
        if answer.status != 200 or body.get("response_action") == "errors":
            raise DemoFailed(f"the resolve form was refused: {body.get('errors') or _http(answer)}")
        published = self._wait("the RCA to be committed and pushed", lambda: self._bot_posts(room, "RCA `"))
        self._wait("the resolution in #incidents", lambda: self._bot_posts(INCIDENTS, "resolved"))
        said = str(published[-1].get("text"))
        path = re.search(r"RCA `([^`]+)`", said)
        commit = re.search(r" in `([0-9a-f]{7,40})`", said)
        if path is None or commit is None:
            raise DemoFailed(f"the bot's publish message names no RCA file and commit: {said!r}")
        self._say.ok(f"resolved, announced in #incidents; RCA written, committed and pushed as {commit[1]}")
        return path[1], commit[1]

    # -- Slack's side ------------------------------------------------------------
    def _command(self, text: str, *, channel: str) -> dict[str, Any]:
        answer = self._slack.command("/incident", text, user=ALICE, channel=channel)
        if answer.status != 200:
            raise DemoFailed(f"`/incident {text}` failed: {_http(answer)}")
        body = answer.json()
        reply = body if isinstance(body, dict) else {}
        if str(reply.get("text", "")).startswith(_COMPLAINT):
            raise DemoFailed(f"`/incident {text}` answered: {reply['text']}")
        return reply

    def _post(self, room: str, user: str, text: str, *, thread_ts: str | None = None) -> str:
        # Through the driver, so the app also gets the message event a real channel would send it.
        answer = self._slack.message(room, user, text, thread_ts=thread_ts)
        if answer.status != 200:
            raise DemoFailed(f"the message event was refused: {_http(answer)}")
        mine = [m for m in self._fake.messages(room) if m.get("user") == user and m.get("text") == text]
        return str(mine[-1]["ts"])

    def _pin(self, room: str, ts: str, user: str) -> None:
        answer = self._slack.reaction_added(user, room, ts, PIN)
        if answer.status != 200:
            raise DemoFailed(f"the :{PIN}: reaction event was refused: {_http(answer)}")

        def confirmed() -> bool:
            message = self._fake.message(room, ts) or {}
            reactions = message.get("reactions") or []
            return any(r["name"] == CONFIRMED and self._fake.bot_user_id in r["users"] for r in reactions)

        self._wait(f"the bot's :{CONFIRMED}: on the pinned message", confirmed)

    # -- what a person would see -------------------------------------------------------
    def _bot_posts(self, channel: str, needle: str = "") -> list[dict[str, Any]]:
        return [
            m
            for m in self._fake.messages(channel)
            if m.get("user") == self._fake.bot_user_id and needle in str(m.get("text"))
        ]

    def _topic_starting(self, channel: str, prefix: str) -> str | None:
        topic = str((self._fake.find_channel(channel) or {}).get("topic") or "")
        return topic if topic.startswith(prefix) else None

    def _complaint(self) -> str | None:
        """The first error the bot told anyone about: in a channel, a reply to the asker or an ephemeral."""
        said = [str(m.get("text")) for c in self._fake.channels() for m in self._bot_posts(c["id"])]
        said += [str(r.get("text")) for r in self._fake.responses()]
        said += [str(e.get("text")) for e in self._fake.ephemerals()]
        return next((text for text in said if text.startswith(_COMPLAINT)), None)

    def _wait(self, what: str, found: Callable[[], T | None]) -> T:
        def ready() -> T | None:
            complaint = self._complaint()
            if complaint:
                # Fail at once with the bot's own words instead of timing out in silence.
                raise DemoFailed(f"while waiting for {what}, the bot said: {complaint}")
            return found()

        try:
            value = self._fake.wait_for(ready, timeout=WAIT_SECONDS)
        except AssertionError:
            raise DemoFailed(f"gave up waiting {WAIT_SECONDS:.0f} s for {what}") from None
        if value is None:  # wait_for only returns truthy values; this narrows the type
            raise DemoFailed(f"gave up waiting for {what}")
        return value


def _name(user: str) -> str:
    return {ALICE: "alice", BOB: "bob", CAROL: "carol"}.get(user, user)


def _http(answer: Response) -> str:
    return f"HTTP {answer.status} {answer.text[:200]}".strip()
