"""Incident roles, as people use them in Slack: picked on declare, assigned by command or button, in the RCA."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import load_settings
from bot.core.rca_parse import parse_rca
from bot.demo.docs_repo import DocsRepo
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import (
    COMMANDER,
    RESPONDER,
    all_text,
    bot_posts,
    button_texts,
    driver_for,
    incident_channel,
    start_bot,
)
from tests.slack.test_resolve import declare, open_resolve_form
from tests.support.clock import TODAY, RunningClock

SCRIBE = "UCAROL"


@pytest.fixture
def room(slack: SlackDriver, fake_slack: FakeSlack) -> dict[str, Any]:
    fake_slack.add_user(SCRIBE, "carol", real_name="Carol Example")
    return declare(slack, fake_slack, "sev2 Gateway auth outage")


def summary_of(fake: FakeSlack, room: dict[str, Any]) -> dict[str, Any]:
    return fake.messages(room["id"])[0]


def summary_says(fake: FakeSlack, room: dict[str, Any], needle: str) -> dict[str, Any]:
    """The summary message, once it says `needle`."""

    def saying() -> dict[str, Any] | None:
        message = summary_of(fake, room)
        return message if needle in all_text(message) else None

    return fake.wait_for(saying)


def nothing_due(bot: RunningBot, clock: RunningClock, fake: FakeSlack) -> None:
    """Wait until no job is running or due now (jobs for later, such as Home tab refreshes, may wait)."""

    def idle() -> bool:
        state = bot.container.jobs.queue_state(clock.now())
        return state.running == 0 and (state.next_run_at is None or state.next_run_at > clock.now())

    bot.container.runner.wake()
    fake.wait_for(idle)


def timeline_text(slack: SlackDriver, room: dict[str, Any]) -> str:
    return all_text(slack.command("/incident", "timeline", user=COMMANDER, channel=room["id"]).json())


def test_the_declare_form_picks_the_commander(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    slack.command("/incident", "", user=COMMANDER, channel="CGENERAL")
    form = fake_slack.wait_for(lambda: fake_slack.views())[-1]
    picker = next(block for block in form["blocks"] if block.get("block_id") == "commander")
    assert picker["label"]["text"] == "Commander"
    assert (picker["element"]["type"], picker["element"]["initial_user"]) == ("users_select", COMMANDER)

    answer = slack.submit(COMMANDER, form, {"Title": "Keys leaked", "Severity": "SEV-1", "Commander": RESPONDER})
    assert answer.status == 200 and "response_action" not in answer.text
    room = incident_channel(fake_slack)
    summary = summary_says(fake_slack, room, "*Communications lead*")
    assert f"*Commander*\n<@{RESPONDER}>" in all_text(summary)
    assert "*Communications lead*\n_unassigned_" in all_text(summary)
    assert "*Scribe*\n_unassigned_" in all_text(summary)
    assert "Assign role" in button_texts(summary)
    # The declarer and the commander they picked are both in the channel.
    fake_slack.wait_for(lambda: {COMMANDER, RESPONDER} <= set(fake_slack.channel(room["id"])["members"]))
    status = slack.command("/incident", "status", user=COMMANDER, channel=room["id"]).json()["text"]
    assert f"Commander: <@{RESPONDER}>" in status
    assert "Communications lead: _unassigned_ · Scribe: _unassigned_" in status
    assert f"Incident declared as SEV-1: Keys leaked (commander: <@{RESPONDER}>)" in timeline_text(slack, room)


def test_the_declare_form_left_as_it_is_makes_the_declarer_commander(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    slack.command("/incident", "", user=COMMANDER, channel="CGENERAL")
    form = fake_slack.wait_for(lambda: fake_slack.views())[-1]
    slack.submit(COMMANDER, form, {"Title": "Queue stalled", "Severity": "SEV-3"})
    room = incident_channel(fake_slack)
    assert f"*Commander*\n<@{COMMANDER}>" in all_text(summary_says(fake_slack, room, "*Commander*"))


def test_role_command_assigns_the_comms_lead_everywhere_people_look(
    slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]
) -> None:
    answer = slack.command("/incident", f"role comms <@{RESPONDER}|bob>", user=COMMANDER, channel=room["id"])
    body = answer.json()
    assert body["response_type"] == "ephemeral"
    assert body["text"] == f"<@{RESPONDER}> is now the Communications lead."

    summary = summary_says(fake_slack, room, f"*Communications lead*\n<@{RESPONDER}>")
    assert summary.get("edited")
    assert f"*Commander*\n<@{COMMANDER}>" in all_text(summary)
    assert "*Scribe*\n_unassigned_" in all_text(summary)
    notice = fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], "the Communications lead"))
    assert notice[0]["text"] == f":busts_in_silhouette: <@{COMMANDER}> made <@{RESPONDER}> the Communications lead."
    assert f"Communications lead: <@{RESPONDER}>" in timeline_text(slack, room)
    status = slack.command("/incident", "status", user=COMMANDER, channel=room["id"]).json()["text"]
    assert f"Communications lead: <@{RESPONDER}> · Scribe: _unassigned_" in status

    # Handed on by name: the timeline says who had it before.
    slack.command("/incident", "role communications lead @carol", user=RESPONDER, channel=room["id"])
    summary_says(fake_slack, room, f"*Communications lead*\n<@{SCRIBE}>")
    assert f"Communications lead: <@{SCRIBE}> (was <@{RESPONDER}>)" in timeline_text(slack, room)
    fake_slack.wait_for(lambda: SCRIBE in fake_slack.channel(room["id"])["members"])


def test_role_none_clears_the_role_everywhere_people_look(
    slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]
) -> None:
    slack.command("/incident", f"role scribe <@{SCRIBE}|carol>", user=COMMANDER, channel=room["id"])
    summary_says(fake_slack, room, f"*Scribe*\n<@{SCRIBE}>")

    body = slack.command("/incident", "role scribe none", user=COMMANDER, channel=room["id"]).json()
    assert (body["response_type"], body["text"]) == ("ephemeral", "Nobody is the Scribe now.")
    summary_says(fake_slack, room, "*Scribe*\n_unassigned_")
    notice = fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], "role unassigned"))
    assert notice[0]["text"] == f":busts_in_silhouette: <@{COMMANDER}> left the Scribe role unassigned."
    assert f"Scribe: nobody (was <@{SCRIBE}>)" in timeline_text(slack, room)
    status = slack.command("/incident", "status", user=COMMANDER, channel=room["id"]).json()["text"]
    assert "Scribe: _unassigned_" in status

    again = slack.command("/incident", "role scribe none", user=COMMANDER, channel=room["id"]).json()
    assert (again["response_type"], again["text"]) == ("ephemeral", ":warning: Nobody is the Scribe of this incident.")
    lead = slack.command("/incident", "role commander none", user=COMMANDER, channel=room["id"]).json()
    assert lead["response_type"] == "ephemeral" and "always has a commander" in lead["text"]
    assert f"*Commander*\n<@{COMMANDER}>" in all_text(summary_of(fake_slack, room))


def test_the_commander_role_is_the_hand_over(slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]) -> None:
    slack.command("/incident", f"role ic <@{RESPONDER}|bob>", user=COMMANDER, channel=room["id"])
    summary_says(fake_slack, room, f"*Commander*\n<@{RESPONDER}>")
    fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], f"made <@{RESPONDER}> the incident commander"))
    assert f"Commander changed from <@{COMMANDER}> to <@{RESPONDER}>" in timeline_text(slack, room)


def test_the_assign_role_button_opens_a_form_that_assigns(
    slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]
) -> None:
    before = len(fake_slack.views())
    slack.click(RESPONDER, summary_of(fake_slack, room), "Assign role", channel=room["id"])
    form = fake_slack.wait_for(lambda: fake_slack.views()[before:])[-1]
    role_input = next(block for block in form["blocks"] if block.get("block_id") == "role")
    options = [option["text"]["text"] for option in role_input["element"]["options"]]
    assert options == ["Incident commander", "Communications lead", "Scribe"]

    answer = slack.submit(RESPONDER, form, {"Role": "Scribe", "Person": SCRIBE})
    assert answer.status == 200 and "response_action" not in answer.text
    summary_says(fake_slack, room, f"*Scribe*\n<@{SCRIBE}>")
    fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], f"<@{RESPONDER}> made <@{SCRIBE}> the Scribe."))
    assert f"Scribe: <@{SCRIBE}>" in timeline_text(slack, room)

    # The same person again is refused on the form, and changes nothing.
    slack.click(RESPONDER, summary_of(fake_slack, room), "Assign role", channel=room["id"])
    again = fake_slack.wait_for(lambda: fake_slack.views()[before + 1 :])[-1]
    refused = slack.submit(RESPONDER, again, {"Role": "Scribe", "Person": SCRIBE})
    assert refused.json()["response_action"] == "errors"
    assert "already the Scribe" in refused.json()["errors"]["user"]


def test_a_stranger_cannot_assign_roles(slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any]) -> None:
    summary = summary_of(fake_slack, room)
    views = len(fake_slack.views())
    slack.click(SCRIBE, summary, "Assign role", channel=room["id"])
    told = fake_slack.wait_for(lambda: fake_slack.responses(user=SCRIBE) or fake_slack.ephemerals(user=SCRIBE))
    assert "You can't assign roles in this incident" in told[-1]["text"]
    assert len(fake_slack.views()) == views


def test_bad_role_commands_get_a_private_answer_and_change_nothing(
    slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any], running_bot: RunningBot, clock: RunningClock
) -> None:
    nothing_due(running_bot, clock, fake_slack)
    summary_before = summary_of(fake_slack, room)
    posts_before = len(fake_slack.messages(room["id"]))

    unknown = slack.command("/incident", f"role bystander <@{RESPONDER}|bob>", user=COMMANDER, channel=room["id"])
    body = unknown.json()
    assert body["response_type"] == "ephemeral"
    assert "There is no role `bystander`" in body["text"]
    assert "`commander` (Incident commander), `comms` (Communications lead), `scribe` (Scribe)" in body["text"]

    missing = slack.command("/incident", "role comms", user=COMMANDER, channel=room["id"]).json()
    assert missing["response_type"] == "ephemeral"
    assert "Usage: `/incident role <role> @someone`" in missing["text"]
    nobody = slack.command("/incident", "role comms @nobody", user=COMMANDER, channel=room["id"]).json()
    assert "can't find a Slack user called @nobody" in nobody["text"]
    outside = slack.command("/incident", f"role comms <@{RESPONDER}>", user=COMMANDER, channel="CGENERAL").json()
    assert "works inside an incident channel" in outside["text"]

    nothing_due(running_bot, clock, fake_slack)
    assert summary_of(fake_slack, room) == summary_before
    assert len(fake_slack.messages(room["id"])) == posts_before
    assert "Communications lead:" not in timeline_text(slack, room)


def test_help_lists_the_role_command(slack: SlackDriver) -> None:
    text = slack.command("/incident", "help", user=COMMANDER, channel="CGENERAL").json()["text"]
    assert (
        "`/incident role <role> @someone` — give someone a role (`commander`, `comms`, `scribe`); "
        "`/incident role <role> none` clears it"
    ) in text


def test_the_committed_rca_names_the_role_holders(
    slack: SlackDriver, fake_slack: FakeSlack, room: dict[str, Any], docs_repo: DocsRepo
) -> None:
    slack.command("/incident", f"role comms <@{RESPONDER}|bob>", user=COMMANDER, channel=room["id"])
    slack.command("/incident", f"role scribe <@{SCRIBE}|carol>", user=COMMANDER, channel=room["id"])
    summary_says(fake_slack, room, f"*Scribe*\n<@{SCRIBE}>")
    slack.submit(COMMANDER, open_resolve_form(slack, fake_slack, room), {"Summary": "Restored the auth file"})
    fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], "RCA `DOCS/incidents/"))

    rca = docs_repo.remote_file(f"DOCS/incidents/{TODAY}-gateway-auth-outage-rca.md")
    assert rca is not None
    assert "- **Commander:** @alice · **Communications lead:** @bob · **Scribe:** @carol\n" in rca
    assert "| Communications lead: @bob |" in rca  # the assignment is on the RCA's timeline too
    parsed = parse_rca(rca)
    assert (parsed.title, parsed.problems) == ("Gateway auth outage", [])


ROLES_POLICY = """\
roles:
  - {key: commander, label: Incident lead}
  - {key: ops, label: Ops liaison}
"""


@pytest.fixture
def policy_slack(
    bot_env: dict[str, Any], clock: RunningClock, fake_slack: FakeSlack, tmp_path: Path
) -> Iterator[SlackDriver]:
    policy = tmp_path / "policy.yml"
    policy.write_text(ROLES_POLICY)
    bot = start_bot(load_settings({**bot_env, "INCIDENT_POLICY": str(policy)}), clock)
    try:
        yield driver_for(bot, fake_slack)
    finally:
        bot.stop()


def test_the_roles_are_the_ones_incident_policy_lists(policy_slack: SlackDriver, fake_slack: FakeSlack) -> None:
    room = declare(policy_slack, fake_slack, "sev3 Dashboard lags")
    summary = summary_says(fake_slack, room, "*Ops liaison*\n_unassigned_")
    assert "Communications lead" not in all_text(summary)
    refused = policy_slack.command("/incident", f"role comms <@{RESPONDER}>", user=COMMANDER, channel=room["id"])
    assert "`commander` (Incident lead), `ops` (Ops liaison)" in refused.json()["text"]
    policy_slack.command("/incident", f"role ops <@{RESPONDER}|bob>", user=COMMANDER, channel=room["id"])
    summary_says(fake_slack, room, f"*Ops liaison*\n<@{RESPONDER}>")
    fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], f"made <@{RESPONDER}> the Ops liaison"))
