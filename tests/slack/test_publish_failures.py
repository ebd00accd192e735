"""When the docs repo cannot be reached, the incident is still resolved and nothing is lost."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.demo.docs_repo import DocsRepo
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, driver_for, run_cli, start_bot
from tests.slack.test_resolve import declare, open_resolve_form, room_says
from tests.support.clock import TODAY, RunningClock


def test_remote_down_keeps_the_commit_and_publish_retry_pushes_it(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    docs_repo: DocsRepo,
    bot_env: dict[str, Any],
    running_bot: RunningBot,
    clock: RunningClock,
) -> None:
    room = declare(slack, fake_slack, "sev2 Remote is down")
    hidden = docs_repo.remote.with_name("docs-away.git")
    docs_repo.remote.rename(hidden)
    slack.submit(COMMANDER, open_resolve_form(slack, fake_slack, room), {"Summary": "Fixed while git was away"})
    told = room_says(fake_slack, room, "could not publish the RCA")
    assert "committed locally" in told["text"] and "incident-bot publish --retry" in told["text"]
    status = slack.command("/incident", "status", user=COMMANDER, channel=room["id"]).json()["text"]
    assert "Status: Resolved" in status

    hidden.rename(docs_repo.remote)
    running_bot.stop()  # The operator retries from a shell while the bot is down.
    result = run_cli(bot_env, "publish", "--retry", clock=clock)
    assert result.status == 0, result.err
    assert "every RCA is published" in result.out
    path = f"DOCS/incidents/{TODAY}-remote-is-down-rca.md"
    assert docs_repo.remote_file(path) is not None
    assert "Fixed while git was away" in (docs_repo.remote_file("fleet-status.md") or "")
    assert len([s for s in docs_repo.remote_log() if "Remote is down" in s]) == 1
    # The channel hears it, and bookmarks the RCA, as after a publish that worked the first time.
    assert room_says(fake_slack, room, f"RCA `{path}`")
    assert any(mark["title"] == "RCA" and mark["link"].endswith(path) for mark in fake_slack.bookmarks(room["id"]))


def test_missing_docs_repo_is_reported_and_the_cli_says_what_is_left(
    settings: Settings,
    fake_slack: FakeSlack,
    bot_env: dict[str, Any],
    docs_repo: DocsRepo,
    tmp_path: Any,
    clock: RunningClock,
) -> None:
    bot = start_bot(settings, clock)
    docs_repo.clone.rename(tmp_path / "moved-away")  # gone while the bot runs (a start-up would refuse it)
    try:
        slack = driver_for(bot, fake_slack)
        room = declare(slack, fake_slack, "sev1 Nowhere to write")
        slack.submit(COMMANDER, open_resolve_form(slack, fake_slack, room), {"Summary": "Fixed"})
        told = room_says(fake_slack, room, "could not publish the RCA")
        assert "(DOCS_REPO_PATH) does not exist" in told["text"] and "kept in the bot's database" in told["text"]
        assert str(tmp_path) not in told["text"]  # the channel hears the problem, not the host's paths
    finally:
        bot.stop()
    result = run_cli({**bot_env, "DOCS_REPO_PATH": str(tmp_path / "nowhere")}, "publish", "--retry", clock=clock)
    assert result.status == 1
    assert "still pending" in result.err and "nowhere" in result.err


def test_restart_between_resolve_and_commit_makes_exactly_one_commit(
    settings: Settings, fake_slack: FakeSlack, docs_repo: DocsRepo, clock: RunningClock
) -> None:
    first = start_bot(settings, clock)
    slack = driver_for(first, fake_slack)
    room = declare(slack, fake_slack, "sev2 Crash mid publish")
    first.stop()
    web_only = start_bot(settings, clock, worker_threads=0)
    slack = driver_for(web_only, fake_slack)
    slack.submit(COMMANDER, open_resolve_form(slack, fake_slack, room), {"Summary": "Done"})
    web_only.stop()  # Acked, then the process died before any git work.
    seeded = len(docs_repo.remote_log())

    second = start_bot(settings, clock)
    try:
        room_says(fake_slack, room, "RCA `DOCS/incidents/")
        assert len(docs_repo.remote_log()) == seeded + 1
        fleet = docs_repo.remote_file("fleet-status.md") or ""
        assert len([x for x in fleet.splitlines() if "Crash mid publish" in x]) == 1
    finally:
        second.stop()


def test_people_text_cannot_break_the_rca(slack: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo) -> None:
    room = declare(slack, fake_slack, "sev2 {{ config }} <script>alert(1)</script> | pipes")
    nasty = "# Heading?\n`tick` {{ 7*7 }} <@UBOB|bob> in <#CGENERAL|general> see <https://x.example|the dashboard>"
    ts = fake_slack.post_as_user(room["id"], COMMANDER, nasty)
    slack.reaction_added(COMMANDER, room["id"], ts, "pushpin")
    fake_slack.wait_for(
        lambda: any(r["name"] == "white_check_mark" for r in (fake_slack.message(room["id"], ts) or {})["reactions"])
    )
    slack.submit(COMMANDER, open_resolve_form(slack, fake_slack, room), {"Summary": "Pipes | and\nnewlines"})
    published = room_says(fake_slack, room, "RCA `DOCS/incidents/")
    path = published["text"].split("`")[1]
    assert path.startswith(f"DOCS/incidents/{TODAY}-config-script-alert-1-script-pipes")
    rca = docs_repo.remote_file(path) or ""
    assert "{{ config }}" in rca and "{{ 7*7 }}" in rca
    assert "<script>" not in rca and "&lt;script&gt;" in rca
    assert "\n# Heading" not in rca
    assert "@Bob Example" in rca or "@bob" in rca
    assert "#general" in rca and "[the dashboard](https://x.example)" in rca
    fleet_line = next(x for x in (docs_repo.remote_file("fleet-status.md") or "").splitlines() if "pipes" in x)
    assert "Pipes | and newlines." in fleet_line
