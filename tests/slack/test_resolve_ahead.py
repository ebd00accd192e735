"""A resolve form that opens has the RCA's timeline rows made and the docs repo fetched while people fill it
in; whatever happens to the timeline or the docs repo meanwhile, the RCA pushed is the one the incident has."""

from __future__ import annotations

from pathlib import Path

from bot.demo.docs_repo import DocsRepo
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, RESPONDER, all_text
from tests.slack.test_metrics import Listening, scrape, value
from tests.slack.test_resolve import declare, open_resolve_form, room_says
from tests.support.clock import TODAY

ROWS = "incident_bot_rca_rows_ahead_total"


def rows_ahead(bot: Listening, outcome: str) -> float:
    return value(scrape(bot), ROWS, outcome=outcome)


def timeline(slack: SlackDriver, room_id: str) -> str:
    return all_text(slack.command("/incident", "timeline", user=COMMANDER, channel=room_id).json())


def test_entries_added_while_the_form_is_open_are_in_the_rca_with_the_rows_made_ahead(
    slack: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo, running_bot: RunningBot
) -> None:
    room = declare(slack, fake_slack, "sev2 Queue backs up")
    pinned = fake_slack.post_as_user(room["id"], RESPONDER, "Queue depth is 40,000 and rising")
    slack.reaction_added(COMMANDER, room["id"], pinned, "pushpin")
    slack.command("/incident", "note Paused the importer", user=COMMANDER, channel=room["id"])
    fake_slack.wait_for(lambda: "Queue depth is 40,000" in timeline(slack, room["id"]))
    form = open_resolve_form(slack, fake_slack, room)
    fake_slack.wait_for(lambda: rows_ahead(running_bot, "made") == 1)

    slack.command("/incident", "note Drained after the importer's restart", user=COMMANDER, channel=room["id"])
    late = fake_slack.post_as_user(room["id"], RESPONDER, "Consumers back at full speed")
    slack.reaction_added(COMMANDER, room["id"], late, "pushpin")
    fake_slack.wait_for(lambda: "Consumers back at full speed" in timeline(slack, room["id"]))
    slack.submit(COMMANDER, form, {"Summary": "The importer flooded the queue"})

    room_says(fake_slack, room, "RCA `DOCS/incidents/")
    rca = docs_repo.remote_file(f"DOCS/incidents/{TODAY}-queue-backs-up-rca.md") or ""
    rows = [line for line in rca.split("## Timeline", 1)[1].split("\n## ", 1)[0].splitlines() if line.startswith("| ")]
    events = [row.split(" | ")[2] for row in rows[1:]]
    assert events == [
        "Incident declared as SEV-2: Queue backs up",
        "Queue depth is 40,000 and rising",
        "Paused the importer",
        "Drained after the importer's restart",
        "Consumers back at full speed",
        "Incident resolved",
    ], rows
    assert rows_ahead(running_bot, "used") == 1 and rows_ahead(running_bot, "stale") == 0


def test_an_entry_edited_or_removed_while_the_form_is_open_is_read_again(
    slack: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo, running_bot: RunningBot
) -> None:
    room = declare(slack, fake_slack, "sev2 Cache stampede")
    edited = fake_slack.post_as_user(room["id"], RESPONDER, "Hit rate fell to 10%")
    removed = fake_slack.post_as_user(room["id"], RESPONDER, "Wrong channel, sorry")
    for ts in (edited, removed):
        slack.reaction_added(COMMANDER, room["id"], ts, "pushpin")
    fake_slack.wait_for(lambda: "Wrong channel, sorry" in timeline(slack, room["id"]))
    form = open_resolve_form(slack, fake_slack, room)
    fake_slack.wait_for(lambda: rows_ahead(running_bot, "made") == 1)

    slack.message_changed(room["id"], edited, "Hit rate fell to 12% (edited)")
    slack.message_deleted(room["id"], removed)
    fake_slack.wait_for(lambda: "Wrong channel" not in timeline(slack, room["id"]))
    fake_slack.wait_for(lambda: "12% (edited)" in timeline(slack, room["id"]))
    slack.submit(COMMANDER, form, {"Summary": "A cold cache after the deploy"})

    room_says(fake_slack, room, "RCA `DOCS/incidents/")
    rca = docs_repo.remote_file(f"DOCS/incidents/{TODAY}-cache-stampede-rca.md") or ""
    assert "Hit rate fell to 12% (edited)" in rca
    assert "fell to 10%" not in rca and "Wrong channel" not in rca
    assert rows_ahead(running_bot, "stale") == 1 and rows_ahead(running_bot, "used") == 0


def test_a_push_to_the_docs_repo_while_the_form_is_open_is_kept_under_the_rca(
    slack: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo, running_bot: RunningBot, tmp_path: Path
) -> None:
    room = declare(slack, fake_slack, "sev1 Login loop")
    form = open_resolve_form(slack, fake_slack, room)
    fake_slack.wait_for(lambda: rows_ahead(running_bot, "made") == 1)  # the docs repo is fetched by then
    person = docs_repo.person_clone(tmp_path / "person")
    status = Path(person.working_tree_dir or "") / "fleet-status.md"
    status.write_text(status.read_text() + "\nA line a person added while the form was open.\n")
    person.index.add(["fleet-status.md"])
    person.index.commit("A person's edit")
    person.remotes.origin.push()

    slack.submit(COMMANDER, form, {"Summary": "A redirect pointed at itself"})
    room_says(fake_slack, room, "RCA `DOCS/incidents/")
    assert docs_repo.remote_log()[1] == "A person's edit"
    assert "SEV-1 Login loop" in docs_repo.remote_log()[0]
    fleet = docs_repo.remote_file("fleet-status.md") or ""
    assert "A line a person added while the form was open." in fleet
    assert "**INCIDENT — SEV-1 Login loop" in fleet
    assert docs_repo.remote_file(f"DOCS/incidents/{TODAY}-login-loop-rca.md") is not None
