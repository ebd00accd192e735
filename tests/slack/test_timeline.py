"""Changing severity and building the timeline from chat, as people do it in Slack."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import (
    COMMANDER,
    ESCALATION,
    RESPONDER,
    all_text,
    bot_posts,
    incident_channel,
    wait_until_idle,
)


@pytest.fixture
def room(slack: SlackDriver, fake_slack: FakeSlack) -> dict[str, Any]:
    slack.command("/incident", "sev3 Docs agent failing", user=COMMANDER, channel="CGENERAL")
    channel = incident_channel(fake_slack)
    fake_slack.wait_for(lambda: fake_slack.messages("CANNOUNCE"))
    fake_slack.join(channel["id"], RESPONDER)  # bob joins to help, as responders do
    return channel


def timeline_text(slack: SlackDriver, room: dict[str, Any]) -> str:
    answer = slack.command("/incident", "timeline", user=RESPONDER, channel=room["id"])
    assert answer.status == 200
    body = answer.json()
    assert body.get("response_type", "ephemeral") == "ephemeral"
    return all_text(body)


def test_raising_to_sev1_records_updates_and_escalates(
    slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]
) -> None:
    answer = slack.command("/incident", "sev1", user=RESPONDER, channel=room["id"])
    assert "SEV-1" in answer.json()["text"]
    fake_slack.wait_for(lambda: fake_slack.channel(room["id"])["topic"] == "SEV-1 · Docs agent failing")
    summary = fake_slack.wait_for(
        lambda: [m for m in fake_slack.messages(room["id"]) if "Immediate escalation" in all_text(m)]
    )[0]
    assert summary["edited"]
    fake_slack.wait_for(lambda: set(fake_slack.channel(room["id"])["members"]) >= set(ESCALATION))
    for user_id in ESCALATION:
        fake_slack.wait_for(partial(fake_slack.dms_to, user_id))
    raised = fake_slack.wait_for(lambda: [m for m in fake_slack.messages("CANNOUNCE") if "raised" in m["text"]])
    assert raised[0]["text"].startswith("<!here>")
    assert "Severity changed from SEV-3 to SEV-1" in timeline_text(slack, room)
    # The channel is told what the new level means (the runbook's criteria and response time).
    told = fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], "changed the severity"))[0]
    assert told["text"] == (
        f"<@{RESPONDER}> changed the severity from SEV-3 to SEV-1: Security breach, out-of-scope agent action, "
        "data exposure. Response time: Immediate."
    )


def test_severity_change_refusals(slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]) -> None:
    same = slack.command("/incident", "sev3", user=COMMANDER, channel=room["id"])
    assert "already SEV-3" in same.json()["text"]
    outside = slack.command("/incident", "sev1", user=COMMANDER, channel="CGENERAL")
    assert "needs a title" in outside.json()["text"]
    nine = slack.command("/incident", "sev9", user=COMMANDER, channel=room["id"])
    assert "SEV-1, SEV-2 and SEV-3" in nine.json()["text"]
    assert fake_slack.channel(room["id"])["topic"] == "SEV-3 · Docs agent failing"


def test_change_severity_button_opens_a_modal(slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]) -> None:
    summary = fake_slack.messages(room["id"])[0]
    slack.click(COMMANDER, summary, "Change severity", channel=room["id"])
    view = fake_slack.wait_for(lambda: fake_slack.views())[-1]
    slack.submit(COMMANDER, view, {"Severity": "SEV-2"})
    fake_slack.wait_for(lambda: fake_slack.channel(room["id"])["topic"] == "SEV-2 · Docs agent failing")
    assert "Severity changed from SEV-3 to SEV-2" in timeline_text(slack, room)


def test_reactions_put_a_message_on_the_timeline_once(
    slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any], running_bot: RunningBot
) -> None:
    ts = fake_slack.post_as_user(room["id"], RESPONDER, "Restarted the docs agent at 09:12")
    slack.reaction_added(COMMANDER, room["id"], ts, "pushpin")
    slack.reaction_added(RESPONDER, room["id"], ts, "pushpin")
    slack.reaction_added(RESPONDER, room["id"], ts, "thumbsup")

    def confirmed() -> bool:
        message = next(m for m in fake_slack.messages(room["id"]) if m["ts"] == ts)
        return any(r["name"] == "white_check_mark" and "UBOT" in r["users"] for r in message.get("reactions", []))

    fake_slack.wait_for(confirmed)
    wait_until_idle(running_bot)
    text = timeline_text(slack, room)
    assert text.count("Restarted the docs agent at 09:12") == 1
    assert f"<@{RESPONDER}>" in text
    assert f"<!date^{int(float(ts))}^" in text
    assert "/archives/" in text  # the permalink

    slack.reaction_removed(COMMANDER, room["id"], ts, "pushpin")
    assert "Restarted the docs agent" in timeline_text(slack, room)
    slack.reaction_removed(RESPONDER, room["id"], ts, "pushpin")
    assert "Restarted the docs agent" not in timeline_text(slack, room)
    fake_slack.wait_for(lambda: not confirmed())


def test_retried_and_duplicate_events_record_once(
    slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any], running_bot: RunningBot
) -> None:
    ts = fake_slack.post_as_user(room["id"], RESPONDER, "Found the bad config")
    first = slack.reaction_added(COMMANDER, room["id"], ts, "pushpin", event_id="EvSAME")
    again = slack.reaction_added(COMMANDER, room["id"], ts, "pushpin", event_id="EvSAME", retry_num=1)
    assert first.status == again.status == 200
    fake_slack.wait_for(lambda: "Found the bad config" in timeline_text(slack, room))
    wait_until_idle(running_bot)
    assert timeline_text(slack, room).count("Found the bad config") == 1
    captures = [c for c in fake_slack.calls("chat.getPermalink") if c[1].get("message_ts") == ts]
    assert len(captures) == 1


def test_thread_replies_edits_and_deletes_follow(
    slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]
) -> None:
    parent = fake_slack.post_as_user(room["id"], RESPONDER, "Investigating")
    reply = fake_slack.post_as_user(room["id"], COMMANDER, "Token expired in the thread", thread_ts=parent)
    slack.reaction_added(RESPONDER, room["id"], reply, "pushpin")
    fake_slack.wait_for(lambda: "Token expired in the thread" in timeline_text(slack, room))
    assert "thread_ts=" in timeline_text(slack, room)

    slack.message_changed(room["id"], reply, "Token expired (edited)")
    fake_slack.wait_for(lambda: "Token expired (edited)" in timeline_text(slack, room))
    slack.message_deleted(room["id"], reply)
    fake_slack.wait_for(lambda: "Token expired" not in timeline_text(slack, room))


def test_note_status_and_help(slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]) -> None:
    note = slack.command("/incident", "note Rolled back to v1.2 <b>now</b>", user=COMMANDER, channel=room["id"])
    assert note.json()["response_type"] == "in_channel"
    text = timeline_text(slack, room)
    assert "Rolled back to v1.2 &lt;b&gt;now&lt;/b&gt;" in text
    assert text.index("Incident declared") < text.index("Rolled back")

    status = slack.command("/incident", "status", user=RESPONDER, channel=room["id"]).json()["text"]
    assert "Docs agent failing" in status and "SEV-3" in status and f"<@{COMMANDER}>" in status
    assert "Age:" in status and "Timeline: 2 entries" in status

    help_text = slack.command("/incident", "help", user=RESPONDER, channel="CGENERAL").json()["text"]
    assert "/incident sev1 <title>" in help_text


def test_text_with_the_word_payload_is_a_command_like_any_other(
    slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]
) -> None:
    # Bolt reads any form body containing "payload" as an interaction's `payload=` and finds nothing.
    note = slack.command(
        "/incident", "note The payload service drops payload=big bodies", user=COMMANDER, channel=room["id"]
    )
    assert note.status == 200 and note.json()["response_type"] == "in_channel"
    assert "The payload service drops payload=big bodies" in timeline_text(slack, room)
    title = "sev2 Payloads rejected by the payload gateway"
    declared = slack.command("/incident", title, user=COMMANDER, channel="CGENERAL")
    assert declared.status == 200 and "Payloads rejected by the payload gateway" in all_text(declared.json())


def test_bad_input_gets_a_private_answer_and_changes_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    cases = {
        "frobnicate": "I don't know `/incident frobnicate`",
        "sev9 Something": "There is no SEV9",
        "note": "A note needs text",
        "timeline": "works inside an incident channel",
        "status": "works inside an incident channel",
        "note hello": "works inside an incident channel",
    }
    for text, expected in cases.items():
        answer = slack.command("/incident", text, user=COMMANDER, channel="CGENERAL")
        assert answer.status == 200
        body = answer.json()
        assert body.get("response_type", "ephemeral") == "ephemeral"
        assert expected in body["text"], (text, body["text"])
    wait_until_idle(running_bot)
    assert not [c for c in fake_slack.channels() if c["name"].startswith("inc-")]


def test_message_shortcut_inside_and_outside_incident_channels(
    slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]
) -> None:
    inside = fake_slack.post_as_user(room["id"], RESPONDER, "Watchdog paged at 09:01")
    message = next(m for m in fake_slack.messages(room["id"]) if m["ts"] == inside)
    slack.message_shortcut(RESPONDER, room["id"], message, "add_to_incident_timeline")
    fake_slack.wait_for(lambda: "Watchdog paged at 09:01" in timeline_text(slack, room))

    outside = fake_slack.post_as_user("CGENERAL", RESPONDER, "Customers report 500s")
    message = next(m for m in fake_slack.messages("CGENERAL") if m["ts"] == outside)
    slack.message_shortcut(RESPONDER, "CGENERAL", message, "add_to_incident_timeline")
    view = fake_slack.wait_for(lambda: [v for v in fake_slack.views() if v["callback_id"] == "shortcut_pick_incident"])
    slack.submit(RESPONDER, view[-1], {"Incident": "SEV-3"})
    fake_slack.wait_for(lambda: "Customers report 500s" in timeline_text(slack, room))


def test_unsigned_or_stale_requests_are_refused(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    body = b"command=%2Fincident&text=sev1+Forged&user_id=UALICE&channel_id=CGENERAL&team_id=T0TEST"
    forged = slack.raw(body, "application/x-www-form-urlencoded", signature="v0=deadbeef")
    assert forged.status == 401
    stale = slack.raw(body, "application/x-www-form-urlencoded", timestamp=1_000_000_000)
    assert stale.status == 401
    missing = slack.unsigned(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert missing.status == 401
    wait_until_idle(running_bot)
    assert not fake_slack.calls("conversations.create")


def test_list_shows_open_incidents_most_severe_first(
    slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]
) -> None:
    slack.command("/incident", "sev1 Keys leaked", user=RESPONDER, channel="CGENERAL")
    fake_slack.wait_for(lambda: len([c for c in fake_slack.channels() if c["name"].startswith("inc-")]) == 2)
    listing = slack.command("/incident", "list", user=COMMANDER, channel="CGENERAL").json()
    assert listing["response_type"] == "ephemeral"
    text = listing["text"]
    assert text.startswith("*Open incidents (2)*")
    assert text.index("SEV-1* Keys leaked") < text.index("SEV-3* Docs agent failing")
    assert f"<#{room['id']}>" in text


def test_lead_hands_over_command(slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]) -> None:
    answer = slack.command("/incident", f"lead <@{RESPONDER}|bob>", user=COMMANDER, channel=room["id"])
    assert answer.json()["response_type"] == "in_channel"
    fake_slack.wait_for(lambda: RESPONDER in fake_slack.channel(room["id"])["members"])
    summary = fake_slack.wait_for(
        lambda: [m for m in fake_slack.messages(room["id"]) if m.get("edited") and "Commander" in all_text(m)]
    )[0]
    assert f"*Commander*\n<@{RESPONDER}>" in all_text(summary)
    assert f"Commander changed from <@{COMMANDER}> to <@{RESPONDER}>" in timeline_text(slack, room)
    status = slack.command("/incident", "status", user=COMMANDER, channel=room["id"]).json()["text"]
    assert f"Commander: <@{RESPONDER}>" in status
    unknown = slack.command("/incident", "lead @nobody", user=COMMANDER, channel=room["id"]).json()["text"]
    assert "can't find a Slack user called @nobody" in unknown
