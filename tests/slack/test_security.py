"""Only Slack gets in: what an attacker sends is refused, makes the bot call nobody, and stores nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, RESPONDER, SECRET, incident_channel, wait_until_idle
from tests.slack.test_resolve import declare, room_says
from tests.support.receiver import Receiver, receiving

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def outside() -> Iterator[Receiver]:
    """Any host on the internet an attacker would like the bot to call."""
    with receiving() as receiver:
        yield receiver


def command_body(text: str, *, response_url: str, user: str = COMMANDER, channel: str = "CGENERAL") -> bytes:
    form = {
        "command": "/incident",
        "text": text,
        "user_id": user,
        "channel_id": channel,
        "team_id": "T0TEST",
        "response_url": response_url,
        "trigger_id": "1.2.3",
    }
    return urlencode(form).encode()


def interaction_body(payload: dict[str, Any]) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


NOT_UTF8 = b"command=%2Fincident&text=\xff\xfe"


def signature_of(body: bytes, timestamp: int) -> str:
    """Slack's signature over raw bytes (slack_sdk's signer only takes text)."""
    digest = hmac.new(SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def stored_incidents(bot: RunningBot) -> int:
    with bot.container.ctx.uow() as uow:
        return len(uow.incidents.list_active()) + len(uow.incidents.list_resolved())


def timeline_size(bot: RunningBot, incident_id: int) -> int:
    with bot.container.ctx.uow() as uow:
        return uow.timeline.count(incident_id)


def assert_nothing_happened(bot: RunningBot, fake: FakeSlack, outside: Receiver, calls_before: int) -> None:
    wait_until_idle(bot)
    assert [method for method, _ in fake.calls()[calls_before:]] == []
    assert outside.requests == []
    assert stored_incidents(bot) == 0


# ------------------------------------------------------------------------------------- verification


@pytest.mark.parametrize(
    "timestamp", ["abc", "1e3", "", " 1700000000", "1_700_000_000", "-5", "0x10", "9" * 30, "12.5"]
)
def test_a_timestamp_that_is_not_a_number_is_refused_before_anything_runs(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot, outside: Receiver, timestamp: str
) -> None:
    before = len(fake_slack.calls())
    body = command_body("sev1 Forged", response_url=outside.url)
    made_up = slack.unsigned(
        body, {"Content-Type": FORM, "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "ab" * 32}
    )
    # Even signed with the real secret over that timestamp, a timestamp must be a number of seconds.
    signed = slack.raw(body, FORM, timestamp=timestamp)
    assert (made_up.status, signed.status) == (401, 401)
    assert_nothing_happened(running_bot, fake_slack, outside, before)


def test_every_other_verification_failure_is_401_and_silent(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot, outside: Receiver
) -> None:
    before = len(fake_slack.calls())
    body = command_body("sev1 Forged", response_url=outside.url)
    now = int(time.time())
    answers = [
        slack.raw(body, FORM, signature="v0=deadbeef"),  # wrong signature
        slack.raw(body, FORM, signature="v1=" + "0" * 64),  # wrong scheme
        slack.unsigned(body, {"Content-Type": FORM, "X-Slack-Request-Timestamp": str(now), "X-Slack-Signature": ""}),
        slack.raw(body, FORM, timestamp=now - 301),  # stale
        # From the future: far enough that the seconds this test takes on a busy machine cannot bring it
        # back within Slack's five minutes (`now + 301` was let in once, 1.5 s later).
        slack.raw(body, FORM, timestamp=now + 360),
        slack.unsigned(body, {"Content-Type": FORM}),  # no headers at all
        slack.unsigned(body, {"Content-Type": FORM, "X-Slack-Request-Timestamp": str(now)}),  # no signature
        slack.raw(NOT_UTF8, FORM, timestamp=now, signature=signature_of(NOT_UTF8, now)),  # signed, not UTF-8
    ]
    assert [answer.status for answer in answers] == [401] * len(answers)
    assert_nothing_happened(running_bot, fake_slack, outside, before)


def test_the_error_handler_never_acts_on_a_request_bolt_could_not_verify(
    fake_slack: FakeSlack, running_bot: RunningBot, outside: Receiver
) -> None:
    # Behind the HTTP front door, Bolt's own verifier raises on such a timestamp; its error handler
    # must refuse the request rather than answer the body's response_url or DM the body's user.
    before = len(fake_slack.calls())
    payload = {
        "type": "block_actions",
        "user": {"id": COMMANDER},
        "actions": [{"action_id": "incident_resolve", "value": "1"}],
        "response_url": outside.url,
        "trigger_id": "1.2.3",
    }
    answer = running_bot.container.app.dispatch(
        BoltRequest(
            body=interaction_body(payload).decode(),
            headers={"content-type": FORM, "x-slack-request-timestamp": "abc", "x-slack-signature": "v0=00"},
        )
    )
    assert answer.status == 401
    assert_nothing_happened(running_bot, fake_slack, outside, before)


def test_a_body_larger_than_slack_sends_is_refused_unread(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot, outside: Receiver
) -> None:
    before = len(fake_slack.calls())
    huge = command_body("note " + "x" * 8_000_000, response_url=outside.url)
    assert slack.raw(huge, FORM).status == 413
    assert_nothing_happened(running_bot, fake_slack, outside, before)


# ------------------------------------------------------------------------------------- response_url


def test_a_response_url_outside_slack_is_never_followed(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot, outside: Receiver
) -> None:
    # A properly signed command (only Slack could send it), but its response_url points elsewhere:
    # the failure after the ack is told through Slack's API instead.
    fake_slack.fail_next("conversations.create", "restricted_action")
    answer = slack.raw(command_body("sev2 Cannot open", response_url=outside.url + "/steal"), FORM)
    assert answer.status == 200
    told = fake_slack.wait_for(lambda: fake_slack.ephemerals(user=COMMANDER))
    assert "could not set up the incident channel" in told[-1]["text"]
    wait_until_idle(running_bot)
    assert outside.requests == []


def test_an_error_answer_is_not_sent_to_a_response_url_outside_slack(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot, outside: Receiver
) -> None:
    payload = {
        "type": "block_actions",
        "user": {"id": COMMANDER},
        "channel": {"id": "CGENERAL"},
        "actions": [{"action_id": "incident_resolve", "value": "424242"}],
        "response_url": outside.url,
        "trigger_id": fake_slack.issue_trigger_id(COMMANDER),
    }
    assert slack.interaction(payload).status == 200
    told = fake_slack.wait_for(lambda: fake_slack.ephemerals(user=COMMANDER))
    assert "There is no incident #424242" in told[-1]["text"]
    assert outside.requests == []


# ------------------------------------------------------------------------------------------- replays


def test_a_replayed_command_declares_once(slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot) -> None:
    body = command_body("sev2 Replayed", response_url=fake_slack.new_response_url(COMMANDER, "CGENERAL"))
    stamp = int(time.time())
    first = slack.raw(body, FORM, timestamp=stamp)
    again = slack.raw(body, FORM, timestamp=stamp)  # the same bytes and signature, captured and resent
    assert (first.status, again.status) == (200, 200)
    assert "Declaring" in first.text and "Declaring" not in again.text
    incident_channel(fake_slack)
    wait_until_idle(running_bot)
    assert len([c for c in fake_slack.channels() if c["name"].startswith("inc-")]) == 1
    assert stored_incidents(running_bot) == 1


def test_a_replayed_action_item_command_adds_one_item(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    room = declare(slack, fake_slack, "sev2 Replay the item")
    body = command_body(
        f"action <@{RESPONDER}|bob> Rotate the key",
        response_url=fake_slack.new_response_url(COMMANDER, room["id"]),
        channel=room["id"],
    )
    stamp = int(time.time())
    assert "#1" in slack.raw(body, FORM, timestamp=stamp).text
    assert slack.raw(body, FORM, timestamp=stamp).text == ""
    room_says(fake_slack, room, "added action item *#1*")
    wait_until_idle(running_bot)
    with running_bot.container.ctx.uow() as uow:
        incident = uow.incidents.by_room(room["id"])
        assert incident is not None and incident.id is not None
        assert [item.number for item in uow.actions.for_incident(incident.id)] == [1]


def test_a_form_submitted_twice_is_applied_once(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    slack.command("/incident", "", user=COMMANDER, channel="CGENERAL")
    form = fake_slack.wait_for(lambda: fake_slack.views())[-1]
    values = {"Title": "Double click", "Severity": "SEV-2"}
    first = slack.submit(COMMANDER, form, values)
    second = slack.submit(COMMANDER, form, values)  # a double click sends the same view and hash twice
    assert (first.status, second.status) == (200, 200)
    incident_channel(fake_slack)
    wait_until_idle(running_bot)
    assert stored_incidents(running_bot) == 1


# --------------------------------------------------------------------------------- malformed bodies


MALFORMED = {
    "not JSON": ("application/json", b"{not json"),
    "JSON but not an object": ("application/json", b'["event_callback"]'),
    "payload not JSON": (FORM, b"payload=%7Bnope"),
    "payload not an object": (FORM, interaction_body([1, 2])),  # type: ignore[arg-type]
    "payload without a type": (FORM, interaction_body({"user": {"id": COMMANDER}})),
    "payload type of the wrong type": (FORM, interaction_body({"type": 5})),
    "user of the wrong type": (
        FORM,
        interaction_body({"type": "block_actions", "user": "UALICE", "actions": [{"action_id": "incident_resolve"}]}),
    ),
    "block action without user": (
        FORM,
        interaction_body({"type": "block_actions", "actions": [{"action_id": "incident_resolve", "value": "1"}]}),
    ),
    "absurd incident id": (
        FORM,
        interaction_body(
            {
                "type": "block_actions",
                "user": {"id": COMMANDER},
                "trigger_id": "1.2.3",
                "actions": [{"action_id": "incident_resolve", "value": str(10**30)}],
            }
        ),
    ),
    "view submission without state": (
        FORM,
        interaction_body(
            {
                "type": "view_submission",
                "user": {"id": COMMANDER},
                "view": {"id": "V1", "callback_id": "declare_incident", "private_metadata": "{}"},
            }
        ),
    ),
    "metadata naming an absurd incident": (
        FORM,
        interaction_body(
            {
                "type": "view_submission",
                "user": {"id": COMMANDER},
                "view": {
                    "id": "V1",
                    "callback_id": "resolve_incident",
                    "private_metadata": json.dumps({"incident_id": 10**30}),
                    "state": {"values": {}},
                },
            }
        ),
    ),
    "event without its user": (
        "application/json",
        json.dumps(
            {
                "type": "event_callback",
                "event_id": "EvBAD",
                "event": {"type": "reaction_added", "reaction": "pushpin", "item": {"type": "message"}},
            }
        ).encode(),
    ),
    "command without a user": (FORM, b"command=%2Fincident&text=sev1+No+user&channel_id=CGENERAL"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_signed_body_gets_a_4xx_and_writes_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot, outside: Receiver, case: str
) -> None:
    content_type, body = MALFORMED[case]
    before = len(fake_slack.calls())
    answer = slack.raw(body, content_type)
    assert 400 <= answer.status < 500, (answer.status, answer.text)
    assert_nothing_happened(running_bot, fake_slack, outside, before)


def test_text_past_slacks_limit_is_refused_with_the_limit(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    room = declare(slack, fake_slack, "sev3 Long notes")
    with running_bot.container.ctx.uow() as uow:
        incident = uow.incidents.by_room(room["id"])
    assert incident is not None and incident.id is not None
    entries = timeline_size(running_bot, incident.id)
    answer = slack.command("/incident", "note " + "y" * 40_001, user=COMMANDER, channel=room["id"]).json()
    assert answer["response_type"] == "ephemeral" and "at most 40,000" in answer["text"]
    assert timeline_size(running_bot, incident.id) == entries


def test_the_signing_check_is_the_one_slack_documents() -> None:
    # A request signed by slack_sdk's own signer passes ours, so real Slack traffic is never refused.
    from bot.slack.http import SignatureCheck

    stamp = str(int(time.time()))
    body = b"command=%2Fincident&text=help"
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    assert SignatureCheck(SECRET).verifies(body, stamp, signature)
    assert not SignatureCheck("another secret").verifies(body, stamp, signature)


def test_a_signature_is_good_for_five_minutes_either_way_and_not_a_second_more() -> None:
    from bot.slack.http import SignatureCheck

    body = b"command=%2Fincident&text=help"
    stamp = "1700000000"
    signature = SignatureVerifier(SECRET).generate_signature(timestamp=stamp, body=body)
    for offset, good in [(-301, False), (-300, True), (0, True), (300, True), (301, False)]:
        check = SignatureCheck(SECRET, clock=FixedSeconds(1_700_000_000 + offset))
        assert check.verifies(body, stamp, signature) is good, offset


class FixedSeconds:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __call__(self) -> float:
        return self.seconds
