"""Resolving: the RCA, the fleet-status entry and the incident history, committed and pushed."""

from __future__ import annotations

import threading
from functools import partial
from typing import Any

from bot.config import load_settings
from bot.core.models import ActionStatus
from bot.core.rca_parse import parse_rca
from bot.demo.docs_repo import DocsRepo
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import (
    COMMANDER,
    RESPONDER,
    all_text,
    driver_for,
    incident_channel,
    start_bot,
    wait_until_idle,
)
from tests.support.clock import TODAY, RunningClock


def declare(slack: SlackDriver, fake: FakeSlack, text: str) -> dict[str, Any]:
    """Alice declares; once the channel is ready, bob joins it to help."""
    slack.command("/incident", text, user=COMMANDER, channel="CGENERAL")
    room = incident_channel(fake)
    fake.join(room["id"], RESPONDER)
    return room


def open_resolve_form(slack: SlackDriver, fake: FakeSlack, room: dict[str, Any]) -> dict[str, Any]:
    before = len(fake.views())
    answer = slack.command("/incident", "resolve", user=COMMANDER, channel=room["id"])
    assert answer.status == 200
    return fake.wait_for(lambda: fake.views()[before:])[-1]


def incident_channels(fake: FakeSlack, *, at_least: int) -> list[dict[str, Any]]:
    """The incident channels, once there are `at_least` of them (else none)."""
    found = [c for c in fake.channels() if c["name"].startswith("inc-")]
    return found if len(found) >= at_least else []


def room_says(fake: FakeSlack, room: dict[str, Any], needle: str) -> dict[str, Any]:
    return fake.wait_for(lambda: [m for m in fake.messages(room["id"]) if needle in (m.get("text") or "")])[-1]


RESOLUTION = {
    "Summary": "6 of 10 agents failed because auth-profiles.json was missing after a redeploy",
    "Root cause(s)": "The redeploy script did not copy auth-profiles.json.",
    "Resolution": "Restored the file from backup and restarted the gateway.",
    "Lessons learned": "Config outside the repo is lost on redeploy.",
}


def test_full_incident_leaves_one_pushed_commit_a_person_would_accept(
    slack: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo
) -> None:
    room = declare(slack, fake_slack, "sev3 Gateway auth outage")
    slack.command("/incident", "sev2", user=COMMANDER, channel=room["id"])
    for who, text in [
        (RESPONDER, "Watchdog: 6/10 agents failing with 401"),
        (COMMANDER, "auth-profiles.json | missing"),
    ]:
        ts = fake_slack.post_as_user(room["id"], who, text)
        slack.reaction_added(COMMANDER, room["id"], ts, "pushpin")
    parent = fake_slack.post_as_user(room["id"], RESPONDER, "Restoring from backup")
    reply = fake_slack.post_as_user(room["id"], RESPONDER, "Restored, gateway restarted", thread_ts=parent)
    slack.reaction_added(RESPONDER, room["id"], reply, "pushpin")
    slack.command("/incident", "note All 10 agents green", user=COMMANDER, channel=room["id"])
    added = slack.command(
        "/incident", f"action <@{RESPONDER}|bob> Page a human when 3+ agents fail", user=COMMANDER, channel=room["id"]
    )
    assert "#1" in added.json()["text"]
    room_says(fake_slack, room, "added action item *#1*")

    def pinned() -> bool:
        return (
            all_text(slack.command("/incident", "timeline", user=COMMANDER, channel=room["id"]).json()).count(
                "(<https://"
            )
            == 3
        )

    fake_slack.wait_for(pinned)
    form = open_resolve_form(slack, fake_slack, room)
    assert [b["label"]["text"] for b in form["blocks"] if b["type"] == "input"] == list(RESOLUTION)
    seeded = len(docs_repo.remote_log())
    answer = slack.submit(COMMANDER, form, RESOLUTION)
    assert answer.status == 200 and "errors" not in answer.text

    published = room_says(fake_slack, room, "RCA `DOCS/incidents/")
    path = f"DOCS/incidents/{TODAY}-gateway-auth-outage-rca.md"
    assert f"`{path}`" in published["text"]
    assert "https://github.example/team/fleet/blob/main/" + path in published["text"]
    log = docs_repo.remote_log()
    assert len(log) == seeded + 1
    assert "SEV-2 Gateway auth outage" in log[0]
    assert sorted(docs_repo.remote_commit_files()) == sorted([path, "fleet-status.md", "runbooks/incident-response.md"])

    rca = docs_repo.remote_file(path)
    assert rca is not None
    for heading in ["## Timeline", "## Root cause(s)", "## Resolution", "## Lessons learned", "## Action items"]:
        assert heading in rca
    assert "Severity changed from SEV-3 to SEV-2" in rca
    assert "Watchdog: 6/10 agents failing with 401" in rca
    assert "auth-profiles.json \\| missing" in rca
    assert "Restored, gateway restarted" in rca and "thread_ts=" in rca
    assert "All 10 agents green" in rca
    assert "The redeploy script did not copy auth-profiles.json." in rca
    parsed = parse_rca(rca)
    assert not parsed.problems
    assert [(row.number, row.action, row.owner_id, row.status) for row in parsed.action_items] == [
        (1, "Page a human when 3+ agents fail", RESPONDER, ActionStatus.OPEN)
    ]

    fleet = docs_repo.remote_file("fleet-status.md")
    assert fleet is not None
    entries = [
        line
        for line in fleet.splitlines()
        if line.startswith(f"- [system] **INCIDENT — SEV-2 Gateway auth outage ({TODAY}")
    ]
    assert len(entries) == 1
    line = entries[0]
    assert line.endswith(
        f"** 6 of 10 agents failed because auth-profiles.json was missing after a redeploy. Full RCA: `{path}`"
    )
    assert f"({TODAY} " in line and " UTC).**" in line
    recent = fleet.split("## Recent Activity", 1)[1].strip().splitlines()
    assert recent[0] == line

    runbook = docs_repo.remote_file("runbooks/incident-response.md")
    assert runbook is not None
    assert f"[RCA](../{path})" in runbook
    row = next(x for x in runbook.splitlines() if x.startswith(f"| {TODAY} |"))
    assert row == (
        f"| {TODAY} | SEV-2 | Gateway auth outage — 6 of 10 agents failed because auth-profiles.json was missing "
        f"after a redeploy | [RCA](../{path}) |"
    )
    assert runbook.index("| 2026-02-23 |") < runbook.index(row)  # the history stays chronological

    announce = fake_slack.wait_for(lambda: [m for m in fake_slack.messages("CANNOUNCE") if "resolved" in m["text"]])
    assert "Gateway auth outage" in announce[0]["text"]


def test_sev3_without_rca_gets_only_a_fleet_status_note(
    slack: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo
) -> None:
    room = declare(slack, fake_slack, "sev3 Docs agent stuck")
    form = open_resolve_form(slack, fake_slack, room)
    assert "requires no RCA" in all_text(form)
    slack.submit(COMMANDER, form, {"Summary": "Restarted the docs agent"})
    room_says(fake_slack, room, "Noted in `fleet-status.md`")
    fleet = docs_repo.remote_file("fleet-status.md") or ""
    line = next(x for x in fleet.splitlines() if "SEV-3 Docs agent stuck" in x)
    assert line.endswith(".** Restarted the docs agent.")
    assert docs_repo.remote_commit_files() == ["fleet-status.md"]


def test_sev3_can_ask_for_an_rca(slack: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo) -> None:
    room = declare(slack, fake_slack, "sev3 Config drift")
    form = open_resolve_form(slack, fake_slack, room)
    slack.submit(COMMANDER, form, {"Summary": "Drift fixed", "RCA": ["Write an RCA anyway"]})
    room_says(fake_slack, room, "RCA `DOCS/incidents/")
    assert docs_repo.remote_file(f"DOCS/incidents/{TODAY}-config-drift-rca.md") is not None


def test_resolve_form_refuses_an_empty_summary(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    room = declare(slack, fake_slack, "sev2 Queue stalled")
    form = open_resolve_form(slack, fake_slack, room)
    answer = slack.submit(COMMANDER, form, {"Summary": " ", "Resolution": "x"})
    assert answer.json()["response_action"] == "errors"
    assert "summary" in answer.json()["errors"]
    status = slack.command("/incident", "status", user=COMMANDER, channel=room["id"]).json()["text"]
    assert "Status: Active" in status


def test_action_items_by_button_and_by_name(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    room = declare(slack, fake_slack, "sev2 Search down")
    summary = fake_slack.messages(room["id"])[0]
    slack.click(COMMANDER, summary, "Add action item", channel=room["id"])
    form = fake_slack.wait_for(lambda: [v for v in fake_slack.views() if v["callback_id"] == "add_action_item"])[-1]
    slack.submit(COMMANDER, form, {"Action": "Add a search health check", "Owner": RESPONDER})
    room_says(fake_slack, room, "*#1*: Add a search health check")
    by_name = slack.command("/incident", "action @bob Write the runbook", user=COMMANDER, channel=room["id"])
    assert "#2" in by_name.json()["text"]
    unknown = slack.command("/incident", "action @nobody Fix it", user=COMMANDER, channel=room["id"])
    assert "can't find a Slack user called @nobody" in unknown.json()["text"]
    elsewhere = slack.command("/incident", "action @bob Fix it", user=COMMANDER, channel="CGENERAL")
    assert "works inside an incident channel" in elsewhere.json()["text"]


def test_rca_preview_is_shown_only_to_the_asker(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    room = declare(slack, fake_slack, "sev1 Token leak")
    slack.command("/incident", "note Rotated every token", user=COMMANDER, channel=room["id"])
    answer = slack.command("/incident", "rca", user=RESPONDER, channel=room["id"])
    assert answer.json()["response_type"] == "ephemeral"
    drafts = fake_slack.wait_for(
        lambda: [r for r in fake_slack.responses(user=RESPONDER) if "RCA draft" in all_text(r)]
    )
    text = all_text(drafts[-1])
    assert "# RCA: Token leak" in text and "Rotated every token" in text and "## Action items" in text


def test_reopen_and_resolve_again_updates_the_same_file(
    slack: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo
) -> None:
    room = declare(slack, fake_slack, "sev2 Billing export failing")
    slack.submit(COMMANDER, open_resolve_form(slack, fake_slack, room), {"Summary": "First fix"})
    room_says(fake_slack, room, "RCA `DOCS/incidents/")
    reopened = slack.command("/incident", "reopen", user=COMMANDER, channel=room["id"])
    assert "Reopened" in reopened.json()["text"]
    form = open_resolve_form(slack, fake_slack, room)
    slack.submit(COMMANDER, form, {"Summary": "Second, real fix"})
    fake_slack.wait_for(lambda: len([m for m in fake_slack.messages(room["id"]) if "RCA `DOCS" in m["text"]]) == 2)
    files = [f for f in docs_repo.remote_commit_files() if f.startswith("DOCS/incidents/")]
    assert files == [f"DOCS/incidents/{TODAY}-billing-export-failing-rca.md"]
    fleet = docs_repo.remote_file("fleet-status.md") or ""
    entries = [x for x in fleet.splitlines() if "Billing export failing" in x]
    assert len(entries) == 1 and "Second, real fix" in entries[0]
    assert "Incident reopened" in (docs_repo.remote_file(files[0]) or "")


def test_two_resolves_at_once_publish_once(
    slack: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo, running_bot: RunningBot
) -> None:
    room = declare(slack, fake_slack, "sev2 Double submit")
    first = open_resolve_form(slack, fake_slack, room)
    second = open_resolve_form(slack, fake_slack, room)
    answers: list[Any] = []
    threads = [
        threading.Thread(target=lambda v=view: answers.append(slack.submit(COMMANDER, v, {"Summary": "Fixed"})))
        for view in (first, second)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(a.status for a in answers) == [200, 200]
    room_says(fake_slack, room, "RCA `DOCS/incidents/")
    wait_until_idle(running_bot)
    refused = [a for a in answers if "errors" in a.text]
    assert len(refused) == 1 and "resolved" in refused[0].text
    fleet = docs_repo.remote_file("fleet-status.md") or ""
    assert len([x for x in fleet.splitlines() if "Double submit" in x]) == 1
    assert len([s for s in docs_repo.remote_log() if "Double submit" in s]) == 1


def test_same_title_same_day_gets_a_numbered_file_in_the_configured_folder(
    bot_env: dict[str, Any], fake_slack: FakeSlack, docs_repo: DocsRepo, clock: RunningClock
) -> None:
    bot = start_bot(load_settings({**bot_env, "INCIDENTS_DIR": "postmortems"}), clock)
    try:
        slack = driver_for(bot, fake_slack)
        for attempt in (1, 2):
            slack.command("/incident", "sev2 Login broken", user=COMMANDER, channel="CGENERAL")
            room = fake_slack.wait_for(partial(incident_channels, fake_slack, at_least=attempt))[-1]
            fake_slack.wait_for(partial(fake_slack.messages, room["id"]))
            slack.submit(COMMANDER, open_resolve_form(slack, fake_slack, room), {"Summary": f"Fix {attempt}"})
            room_says(fake_slack, room, "RCA `postmortems/")
    finally:
        bot.stop()
    assert "Fix 1" in (docs_repo.remote_file(f"postmortems/{TODAY}-login-broken-rca.md") or "")
    assert "Fix 2" in (docs_repo.remote_file(f"postmortems/{TODAY}-login-broken-2-rca.md") or "")
    fleet = docs_repo.remote_file("fleet-status.md") or ""
    assert f"Full RCA: `postmortems/{TODAY}-login-broken-2-rca.md`" in fleet
