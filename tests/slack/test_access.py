"""One rule for who may change what, on every way in; private incidents stay private."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import Settings
from bot.core.models import ActionStatus, Severity
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, RESPONDER, all_text, driver_for, start_bot, wait_until_idle
from tests.slack.test_resolve import declare, room_says
from tests.support.clock import RunningClock

STRANGER = "UCAROL"  # in the workspace, in no incident channel


@pytest.fixture(autouse=True)
def stranger(fake_slack: FakeSlack) -> None:
    fake_slack.add_user(STRANGER, "carol", real_name="Carol Stranger")
    fake_slack.join("CGENERAL", STRANGER)


def new_incident_channel(fake: FakeSlack, before: set[str]) -> dict[str, Any]:
    """The incident channel made since `before` (channel ids), once the bot has posted its summary in it."""
    return fake.wait_for(
        lambda: next(
            (
                c
                for c in fake.channels()
                if c["id"] not in before and c["name"].startswith("inc-") and fake.messages(c["id"])
            ),
            None,
        )
    )


def declare_private(slack: SlackDriver, fake: FakeSlack, title: str) -> dict[str, Any]:
    before = {c["id"] for c in fake.channels()}
    slack.command("/incident", "", user=COMMANDER, channel="CGENERAL")
    form = fake.wait_for(lambda: [v for v in fake.views() if v["callback_id"] == "declare_incident"])[-1]
    slack.submit(COMMANDER, form, {"Title": title, "Severity": "SEV-2", "Visibility": ["Private channel"]})
    return new_incident_channel(fake, before)


def declare_public(slack: SlackDriver, fake: FakeSlack, text: str) -> dict[str, Any]:
    before = {c["id"] for c in fake.channels()}
    slack.command("/incident", text, user=COMMANDER, channel="CGENERAL")
    room = new_incident_channel(fake, before)
    fake.join(room["id"], RESPONDER)
    return room


def incident_of(bot: RunningBot, room: dict[str, Any]) -> Any:
    with bot.container.ctx.uow() as uow:
        incident = uow.incidents.by_room(room["id"])
    assert incident is not None
    return incident


def button(user: str, action_id: str, value: str, *, channel: str, fake: FakeSlack) -> dict[str, Any]:
    """A block action as Slack would send it for a button with `value` (which a client may have altered)."""
    return {
        "type": "block_actions",
        "user": {"id": user},
        "channel": {"id": channel},
        "trigger_id": fake.issue_trigger_id(user),
        "response_url": fake.new_response_url(user, channel),
        "actions": [{"action_id": action_id, "value": value, "type": "button"}],
    }


def told(fake: FakeSlack, user: str, *, after: int = 0) -> str:
    """The latest thing only `user` was told (a response, an ephemeral message or a DM), past the first `after`."""
    answers = fake.wait_for(
        lambda: (fake.responses(user=user) + fake.ephemerals(user=user) + fake.dms_to(user))[after:]
    )
    return str(answers[-1]["text"])


def told_count(fake: FakeSlack, user: str) -> int:
    return len(fake.responses(user=user) + fake.ephemerals(user=user) + fake.dms_to(user))


# -------------------------------------------------------------------------------- private incidents


def test_a_private_incident_is_invisible_to_people_outside_it(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    secret = declare_private(slack, fake_slack, "Customer data exposed")
    public = declare_public(slack, fake_slack, "sev3 Docs agent stuck")

    outsider = slack.command("/incident", "list", user=STRANGER, channel="CGENERAL").json()["text"]
    assert "Docs agent stuck" in outsider and f"<#{public['id']}>" in outsider
    assert "Customer data exposed" not in outsider and secret["id"] not in outsider
    insider = slack.command("/incident", "list", user=COMMANDER, channel="CGENERAL").json()["text"]
    assert "Customer data exposed" in insider

    # The message shortcut offers only what the person may see...
    message = fake_slack.post_as_user("CGENERAL", STRANGER, "I think I saw something")
    slack.message_shortcut(
        STRANGER, "CGENERAL", fake_slack.message("CGENERAL", message) or {}, "add_to_incident_timeline"
    )
    picker = fake_slack.wait_for(
        lambda: [v for v in fake_slack.views() if v["callback_id"] == "shortcut_pick_incident"]
    )
    assert "Customer data exposed" not in all_text(picker[-1]) and "Docs agent stuck" in all_text(picker[-1])

    # ...and a submission naming the private incident anyway adds nothing to it.
    secret_id = incident_of(running_bot, secret).id
    forged = json.loads(json.dumps(picker[-1]))
    option = {"text": {"type": "plain_text", "text": "x"}, "value": str(secret_id)}
    for block in forged["blocks"]:
        if block.get("block_id") == "incident":
            block["element"]["options"] = [option]
    answer = slack.submit(STRANGER, forged, {"Incident": "x"})
    assert answer.json()["response_action"] == "errors"
    wait_until_idle(running_bot)
    with running_bot.container.ctx.uow() as uow:
        assert "I think I saw something" not in str(uow.timeline.for_incident(secret_id))


def test_only_one_incident_private_means_nothing_to_offer_outsiders(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    declare_private(slack, fake_slack, "Keys leaked")
    message = fake_slack.post_as_user("CGENERAL", STRANGER, "Is something up?")
    slack.message_shortcut(
        STRANGER, "CGENERAL", fake_slack.message("CGENERAL", message) or {}, "add_to_incident_timeline"
    )
    assert "no open incident" in told(fake_slack, STRANGER)
    assert "Keys leaked" not in str(fake_slack.everything_the_bot_said()[-1])


# -------------------------------------------------------------------------------- who may change what


def test_people_outside_the_channel_cannot_change_an_incident_by_any_way_in(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    room = declare(slack, fake_slack, "sev2 Queue stalled")
    incident = incident_of(running_bot, room)
    views_before = len(fake_slack.views())

    # Buttons on the summary, clicked with a forged payload from elsewhere.
    for action_id in ("incident_resolve", "incident_change_severity", "incident_add_action_item"):
        seen = told_count(fake_slack, STRANGER)
        slack.interaction(button(STRANGER, action_id, str(incident.id), channel="CGENERAL", fake=fake_slack))
        refusal = told(fake_slack, STRANGER, after=seen)
        assert f"people in <#{room['id']}>, the incident commander <@{COMMANDER}>" in refusal
    assert len(fake_slack.views()) == views_before  # no form opened for them

    # A form submitted with metadata naming the incident (say, built by hand from someone else's form).
    severity = {"type": "static_select", "selected_option": {"value": "SEV-1"}}
    refused = slack.interaction(
        {
            "type": "view_submission",
            "user": {"id": STRANGER},
            "view": {
                "id": "VFORGED",
                "type": "modal",
                "hash": "1.forged",
                "callback_id": "change_severity",
                "private_metadata": json.dumps({"incident_id": incident.id}),
                "blocks": [{"type": "input", "block_id": "severity"}],
                "state": {"values": {"severity": {"value": severity}}},
            },
        }
    )
    assert refused.status == 200, (refused.status, refused.text)
    assert refused.json()["response_action"] == "errors", refused.text
    assert "You can't change this incident's severity" in refused.json()["errors"]["severity"]

    wait_until_idle(running_bot)
    assert incident_of(running_bot, room).severity is Severity.SEV2
    assert fake_slack.channel(room["id"])["topic"] == "SEV-2 · Queue stalled"


def test_a_forged_mark_done_button_cannot_close_someone_elses_item(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    room = declare(slack, fake_slack, "sev2 Cache poisoned")
    slack.command("/incident", f"action <@{RESPONDER}|bob> Flush the cache", user=COMMANDER, channel=room["id"])
    room_says(fake_slack, room, "added action item *#1*")
    incident = incident_of(running_bot, room)
    value = json.dumps({"n": 1, "i": incident.id, "o": STRANGER})  # an owner field claiming the stranger
    slack.interaction(
        button(STRANGER, "action_item_done", value, channel=fake_slack.dm_channel(STRANGER), fake=fake_slack)
    )
    assert f"only the item's owner <@{RESPONDER}>" in told(fake_slack, STRANGER)
    wait_until_idle(running_bot)
    with running_bot.container.ctx.uow() as uow:
        item = uow.actions.get(incident.id, 1)
    assert item is not None and item.status is ActionStatus.OPEN


def test_the_owner_may_mark_their_item_from_anywhere(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    room = declare(slack, fake_slack, "sev2 Disk full")
    slack.command("/incident", f"action <@{STRANGER}|carol> Add disk alerts", user=COMMANDER, channel=room["id"])
    room_says(fake_slack, room, "added action item *#1*")
    incident = incident_of(running_bot, room)
    value = json.dumps({"n": 1, "i": incident.id})
    slack.interaction(
        button(STRANGER, "action_item_done", value, channel=fake_slack.dm_channel(STRANGER), fake=fake_slack)
    )
    assert "now ✅ DONE" in told(fake_slack, STRANGER)


def test_people_outside_a_private_incident_cannot_pin_to_it(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    room = declare_private(slack, fake_slack, "Token leak")
    incident = incident_of(running_bot, room)
    ts = fake_slack.post_as_user(room["id"], COMMANDER, "Rotated the signing key")
    # Slack only sends reactions from people in a channel; the rule holds even if one arrives from elsewhere.
    slack.event(
        {
            "type": "reaction_added",
            "user": STRANGER,
            "reaction": "pushpin",
            "item": {"type": "message", "channel": room["id"], "ts": ts},
        }
    )
    assert "You can't add to this incident's timeline" in told(fake_slack, STRANGER)
    wait_until_idle(running_bot)
    with running_bot.container.ctx.uow() as uow:
        assert "Rotated the signing key" not in str(uow.timeline.for_incident(incident.id))


@pytest.fixture
def admin_bot(settings: Settings, clock: RunningClock) -> Iterator[RunningBot]:
    bot = start_bot(settings, clock, incident_admins=[STRANGER])
    yield bot
    bot.stop()


def test_incident_admins_may_change_any_incident(
    admin_bot: RunningBot, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    driver = driver_for(admin_bot, fake_slack)
    room = declare_private(driver, fake_slack, "Auth outage")
    incident = incident_of(admin_bot, room)
    driver.interaction(
        button(STRANGER, "incident_change_severity", str(incident.id), channel="CGENERAL", fake=fake_slack)
    )
    form = fake_slack.wait_for(lambda: [v for v in fake_slack.views() if v["callback_id"] == "change_severity"])[-1]
    driver.submit(STRANGER, form, {"Severity": "SEV-1"})
    fake_slack.wait_for(lambda: fake_slack.channel(room["id"])["topic"] == "SEV-1 · Auth outage")
    listing = driver.command("/incident", "list", user=STRANGER, channel="CGENERAL").json()["text"]
    assert "Auth outage" in listing
