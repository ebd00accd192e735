"""Declaring an incident, as a person does it in Slack."""

from __future__ import annotations

from functools import partial

from bot.config import Settings
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import (
    COMMANDER,
    ESCALATION,
    all_text,
    button_texts,
    driver_for,
    incident_channel,
    start_bot,
    wait_until_idle,
)
from tests.support.clock import START, RunningClock

TODAY = START.strftime("%Y%m%d")  # channel names carry the declare date, from the test clock


def test_sev1_command_opens_channel_announces_and_escalates(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    answer = slack.command("/incident", "sev1 Database is down", user=COMMANDER, channel="CGENERAL")
    assert answer.status == 200
    assert "Declaring *SEV-1*" in answer.json()["text"]

    channel = incident_channel(fake_slack)
    assert channel["name"] == f"inc-{TODAY}-database-is-down"
    assert not channel["is_private"]
    assert set(channel["members"]) >= {COMMANDER, *ESCALATION}
    assert channel["topic"] == "SEV-1 · Database is down"

    summary = fake_slack.messages(channel["id"])[0]
    text = all_text(summary)
    assert "Database is down" in text
    assert "SEV-1" in text and "Immediate escalation" in text and "Response time: Immediate" in text
    assert f"<@{COMMANDER}>" in text
    assert "<!date^" in text
    assert button_texts(summary) == ["Change severity", "Assign role", "Add action item", "Resolve"]
    pinned = fake_slack.wait_for(lambda: fake_slack.calls("pins.add"))
    assert pinned[0][1]["timestamp"] == summary["ts"]

    announcement = fake_slack.wait_for(lambda: fake_slack.messages("CANNOUNCE"))[0]
    assert announcement["text"].startswith("<!here>")
    assert f"<#{channel['id']}>" in announcement["text"]

    for user_id in ESCALATION:
        dm = fake_slack.wait_for(partial(fake_slack.dms_to, user_id))[0]
        assert "Database is down" in dm["text"] and f"<#{channel['id']}>" in dm["text"]

    told = fake_slack.wait_for(lambda: fake_slack.responses(user=COMMANDER))
    assert f"<#{channel['id']}>" in told[-1]["text"]


def test_more_people_to_invite_than_the_rate_limit_burst_are_all_invited(
    fake_slack: FakeSlack, settings: Settings, clock: RunningClock
) -> None:
    # Twelve invites in one job, past conversations.invite's burst: the job waits its turn in the worker
    # (it once started over after each wait, invited the first ones again, and never got to the last).
    oncall = [f"UONCALL{n:02}" for n in range(12)]
    for user_id in oncall:
        fake_slack.add_user(user_id, user_id.lower())
    bot = start_bot(settings, clock, sev1_escalation_users=oncall)
    try:
        slack = driver_for(bot, fake_slack)
        slack.command("/incident", "sev1 Everything is down", user=COMMANDER, channel="CGENERAL")
        channel = incident_channel(fake_slack)
        members = fake_slack.wait_for(
            lambda: (
                fake_slack.channel(channel["id"])["members"]
                if set(oncall) <= set(fake_slack.channel(channel["id"])["members"])
                else None
            )
        )
        assert set(members) >= {COMMANDER, *oncall}
        for user_id in oncall:
            fake_slack.wait_for(partial(fake_slack.dms_to, user_id))
    finally:
        bot.stop()


def test_sev2_does_not_escalate(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    slack.command("/incident", "SEV-2 Pipeline stalled", user=COMMANDER, channel="CGENERAL")
    channel = incident_channel(fake_slack)
    announcement = fake_slack.wait_for(lambda: fake_slack.messages("CANNOUNCE"))[0]
    assert "<!here>" not in announcement["text"]
    assert "Pipeline stalled" in announcement["text"]
    assert set(channel["members"]) & set(ESCALATION) == set()
    assert all(not fake_slack.dms_to(user_id) for user_id in ESCALATION)


def test_taken_channel_name_gets_a_number(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    fake_slack.add_channel(f"inc-{TODAY}-db-down", members=[COMMANDER])
    fake_slack.add_channel(f"inc-{TODAY}-db-down-2", members=[COMMANDER])
    slack.command("/incident", "sev3 DB down", user=COMMANDER, channel="CGENERAL")
    channel = incident_channel(fake_slack, prefix=f"inc-{TODAY}-db-down-3")
    assert channel["topic"] == "SEV-3 · DB down"


def test_names_taken_past_the_rate_limit_burst_still_end_in_a_channel(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    # More names to try than conversations.create's burst allows: the job waits for its turn and goes on
    # from the name it had reached (it once started over after each wait, and never got there).
    for name in ["db-down", "db-down-2", "db-down-3", "db-down-4"]:
        fake_slack.add_channel(f"inc-{TODAY}-{name}", members=[COMMANDER])
    slack.command("/incident", "sev3 DB down", user=COMMANDER, channel="CGENERAL")
    channel = incident_channel(fake_slack, prefix=f"inc-{TODAY}-db-down-5")
    assert channel["topic"] == "SEV-3 · DB down"
    tried = [args["name"] for method, args in fake_slack.calls("conversations.create")]
    assert tried == [f"inc-{TODAY}-db-down"] + [f"inc-{TODAY}-db-down-{n}" for n in range(2, 6)]


def test_long_unicode_title_is_kept_and_only_the_slug_is_reduced(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    title = "数据泄露 🚨 *Auth* `tokens` <script>alert(1)</script> " + "x" * 5000
    answer = slack.command("/incident", f"sev2 {title}", user=COMMANDER, channel="CGENERAL")
    assert answer.status == 200
    channel = incident_channel(fake_slack)
    assert len(channel["name"]) <= 80
    assert channel["name"].startswith(f"inc-{TODAY}-auth-tokens-script-alert-1-script-x")
    status = slack.command("/incident", "status", user=COMMANDER, channel=channel["id"])
    assert "数据泄露 🚨 *Auth* `tokens` &lt;script&gt;" in status.json()["text"]


def test_modal_declares_a_private_incident(slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot) -> None:
    answer = slack.command("/incident", "", user=COMMANDER, channel="CGENERAL")
    assert answer.status == 200
    view = fake_slack.wait_for(lambda: fake_slack.views())[-1]
    labels = [block["label"]["text"] for block in view["blocks"] if block["type"] == "input"]
    assert labels[:3] == ["Title", "Severity", "Summary"]
    options = [opt["text"]["text"] for opt in view["blocks"][1]["element"]["options"]]
    assert options[0] == "SEV-1 — Security breach, out-of-scope agent action, data exposure"
    assert "Private channel" in all_text(view)

    refused = slack.submit(COMMANDER, view, {"Title": "   ", "Severity": "SEV-2"})
    assert refused.json()["response_action"] == "errors"
    assert "title" in refused.json()["errors"]
    wait_until_idle(running_bot)
    assert not [c for c in fake_slack.channels() if c["name"].startswith("inc-")]

    accepted = slack.submit(
        COMMANDER,
        view,
        {
            "Title": "Customer data exposed",
            "Severity": "SEV-1",
            "Summary": "S3 bucket public",
            "Visibility": ["Private channel"],
        },
    )
    assert accepted.status == 200 and not accepted.text.strip().startswith('{"response_action"')
    channel = incident_channel(fake_slack)
    assert channel["is_private"]
    assert "S3 bucket public" in all_text(fake_slack.messages(channel["id"])[0])
    announcement = fake_slack.wait_for(lambda: fake_slack.messages("CANNOUNCE"))[0]
    assert "Customer data exposed" not in announcement["text"]
    assert "private" in announcement["text"]


def test_expired_trigger_is_answered(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("views.open", "expired_trigger_id")
    answer = slack.command("/incident", "", user=COMMANDER, channel="CGENERAL")
    assert answer.status == 200
    assert "expired_trigger_id" in answer.json()["text"]


def test_failure_after_the_ack_is_reported_to_the_declarer(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("conversations.create", "restricted_action")
    answer = slack.command("/incident", "sev2 Cannot open", user=COMMANDER, channel="CGENERAL")
    assert answer.status == 200
    told = fake_slack.wait_for(lambda: fake_slack.responses(user=COMMANDER))
    assert "could not set up the incident channel" in told[-1]["text"]
    assert "restricted_action" in told[-1]["text"]


def test_modal_text_is_stored_as_chat_text_once(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    slack.command("/incident", "", user=COMMANDER, channel="CGENERAL")
    view = fake_slack.wait_for(lambda: fake_slack.views())[-1]
    slack.submit(COMMANDER, view, {"Title": "A < B & C", "Severity": "SEV-3"})
    channel = incident_channel(fake_slack)
    assert channel["name"] == f"inc-{TODAY}-a-b-c"
    status = slack.command("/incident", "status", user=COMMANDER, channel=channel["id"]).json()["text"]
    assert "*A &lt; B &amp; C*" in status

    before = len(fake_slack.views())
    slack.command("/incident", "resolve", user=COMMANDER, channel=channel["id"])
    form = fake_slack.wait_for(lambda: fake_slack.views()[before:])[-1]
    slack.submit(COMMANDER, form, {"Summary": "x < y"})
    fake_slack.wait_for(lambda: [m for m in fake_slack.messages(channel["id"]) if "Noted in" in (m["text"] or "")])
    slack.command("/incident", "reopen", user=COMMANDER, channel=channel["id"])
    before = len(fake_slack.views())
    slack.command("/incident", "resolve", user=COMMANDER, channel=channel["id"])
    form = fake_slack.wait_for(lambda: fake_slack.views()[before:])[-1]
    summary = next(b for b in form["blocks"] if b.get("block_id") == "summary")
    assert summary["element"]["initial_value"] == "x < y"
