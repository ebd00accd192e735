"""`incident-bot remind | briefing | scan`, as cron or an agent runs them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from bot.demo.docs_repo import DocsRepo
from slack_sim import FakeSlack
from tests.slack.conftest import CliRun, run_cli
from tests.support.clock import RunningClock

MALFORMED = """# RCA: Broken table

- **Severity:** SEV-2

## Action items

| # | Action | Owner | Status |
|---|--------|-------|--------|
| 1 | Rotate the keys | @matt | Open |
| two | Not a number | @matt | Open |
| 3 | Too | many | cells | here | Open |

| 4 | After a blank line | @matt | Open |
"""


@pytest.fixture
def cli(clock: RunningClock) -> Callable[..., CliRun]:
    """`incident-bot <args>` as cron or an agent runs it, in this process and on the test clock."""
    return lambda env, *args: run_cli(env, *args, clock=clock)


@pytest.fixture
def env(bot_env: dict[str, Any], fake_slack: FakeSlack, docs_repo: DocsRepo, tmp_path: Any) -> dict[str, Any]:
    fake_slack.add_user("UMATT", "matt", tz="America/New_York", tz_offset=-18000)
    fake_slack.add_channel("briefing", members=[], channel_id="CBRIEF")
    editor = docs_repo.person_clone(tmp_path / "editor")
    incidents = tmp_path / "editor" / "DOCS" / "incidents"
    incidents.mkdir(parents=True, exist_ok=True)
    (incidents / "2026-03-01-broken-table-rca.md").write_text(MALFORMED)
    editor.git.add(A=True)
    editor.git.commit("-m", "A hand-written RCA with a sloppy table")
    editor.git.push()
    owner_map = tmp_path / "owners.yml"
    owner_map.write_text("docs: UCAROL\n")
    fake_slack.add_user("UCAROL", "carol")
    return {**bot_env, "BRIEFING_CHANNEL": "CBRIEF", "OWNER_MAP": str(owner_map)}


def test_scan_lists_open_items_and_reports_bad_rows(env: dict[str, Any], cli: Callable[..., CliRun]) -> None:
    result = cli(env, "scan", "--json")
    assert result.status == 0, result.err
    report = json.loads(result.out)
    rows = {(item["source"].rsplit("/", 1)[-1], item["number"]): item for item in report["items"]}
    assert rows[("2026-03-01-broken-table-rca.md", 1)]["owner_id"] == "UMATT"
    assert rows[("2026-03-01-broken-table-rca.md", 1)]["age_days"] > 30
    problems = [(p["file"].rsplit("/", 1)[-1], p["line"]) for p in report["problems"]]
    assert ("2026-03-01-broken-table-rca.md", 10) in problems
    assert ("2026-03-01-broken-table-rca.md", 11) in problems
    assert rows[("2026-02-23-gateway-auth-outage-rca.md", 3)]["status"] == "Open"
    assert rows[("2026-02-23-gateway-auth-outage-rca.md", 4)]["owner_id"] == "UCAROL"  # from OWNER_MAP
    assert ("2026-02-23-gateway-auth-outage-rca.md", 1) not in rows

    text = cli(env, "scan")
    assert text.status == 0
    assert "Rotate the keys" in text.out
    assert "2026-03-01-broken-table-rca.md:10:" in text.err


def test_scan_reads_only_the_docs_repo_without_slack_credentials(
    env: dict[str, Any], fake_slack: FakeSlack, cli: Callable[..., CliRun]
) -> None:
    offline = {k: v for k, v in env.items() if k not in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")}
    before = len(fake_slack.calls())
    result = cli(offline, "scan", "--json")
    assert result.status == 0, result.err
    assert "SLACK_BOT_TOKEN is not set; owners are shown as written" in result.err
    rows = {(i["source"].rsplit("/", 1)[-1], i["number"]): i for i in json.loads(result.out)["items"]}
    assert rows[("2026-03-01-broken-table-rca.md", 1)]["owner"] == "@matt"  # as written, not matched
    assert rows[("2026-03-01-broken-table-rca.md", 1)]["owner_id"] is None
    assert len(fake_slack.calls()) == before  # Slack was never asked


def test_a_scan_after_someone_edits_an_rca_shows_the_edit(
    env: dict[str, Any], docs_repo: DocsRepo, tmp_path: Any, cli: Callable[..., CliRun]
) -> None:
    def rows(run: CliRun) -> dict[tuple[str, int], dict[str, Any]]:
        assert run.status == 0, run.err
        return {(i["source"].rsplit("/", 1)[-1], i["number"]): i for i in json.loads(run.out)["items"]}

    before = rows(cli(env, "scan", "--json"))
    assert before[("2026-03-01-broken-table-rca.md", 1)]["status"] == "Open"
    editor = docs_repo.person_clone(tmp_path / "second-editor")
    rca = tmp_path / "second-editor" / "DOCS" / "incidents" / "2026-03-01-broken-table-rca.md"
    rca.write_text(MALFORMED.replace("| Rotate the keys | @matt | Open |", "| Rotate the keys | @matt | In progress |"))
    editor.git.commit("-am", "Keys are being rotated")
    editor.git.push()

    after = rows(cli(env, "scan", "--json"))  # a new process: the other RCAs are not parsed again

    assert after[("2026-03-01-broken-table-rca.md", 1)]["status"] == "In progress"
    unchanged = {key: {**item, "age_days": 0} for key, item in before.items() if key[0] != rca.name}
    assert unchanged == {key: {**item, "age_days": 0} for key, item in after.items() if key[0] != rca.name}


def test_scans_one_after_another_list_the_workspace_once(
    env: dict[str, Any], fake_slack: FakeSlack, cli: Callable[..., CliRun]
) -> None:
    # an agent asking again and again: the processes of the host share one users.list (Tier 2)
    runs = [cli(env, "scan", "--json") for _ in range(4)]
    assert all(run.status == 0 for run in runs)
    owners = [
        sorted((item["source"], item["number"], item["owner_id"] or "") for item in json.loads(run.out)["items"])
        for run in runs
    ]
    assert all(found == owners[0] for found in owners)
    assert len(fake_slack.calls("users.list")) == 1
    assert any(item["owner_id"] == "UMATT" for item in json.loads(runs[-1].out)["items"])


def test_remind_is_idempotent_per_local_day(
    env: dict[str, Any], fake_slack: FakeSlack, cli: Callable[..., CliRun]
) -> None:
    dry = cli(env, "remind", "--dry-run")
    assert dry.status == 0 and "would remind UMATT" in dry.out
    assert fake_slack.dms_to("UMATT") == []
    first = cli(env, "remind")
    assert first.status == 0, first.err
    assert "reminded UMATT" in first.out
    assert len(fake_slack.dms_to("UMATT")) == 1
    assert "Rotate the keys" in str(fake_slack.dms_to("UMATT")[0]["blocks"])
    second = cli(env, "remind")
    assert second.status == 0 and "nobody to remind" in second.out
    assert len(fake_slack.dms_to("UMATT")) == 1


def test_briefing_posts_once_and_dry_run_prints(
    env: dict[str, Any], fake_slack: FakeSlack, cli: Callable[..., CliRun]
) -> None:
    dry = cli(env, "briefing", "--dry-run")
    assert dry.status == 0 and "🔔 #1 Rotate the keys" in dry.out
    assert fake_slack.messages("CBRIEF") == []
    posted = cli(env, "briefing")
    assert posted.status == 0, posted.err
    assert "🔔 #1 Rotate the keys — <@UMATT>" in fake_slack.messages("CBRIEF")[0]["text"]
    again = cli(env, "briefing")
    assert "already posted" in again.out
    assert len(fake_slack.messages("CBRIEF")) == 1


def test_a_briefing_slack_refuses_is_reported_and_sent_by_the_next_run(
    env: dict[str, Any], fake_slack: FakeSlack, cli: Callable[..., CliRun]
) -> None:
    nowhere = {**env, "BRIEFING_CHANNEL": "CGONE"}
    refused = cli(nowhere, "briefing")
    assert refused.status == 1
    assert "could not post the briefing to CGONE" in refused.err and "channel_not_found" in refused.err
    assert "posted the briefing" not in refused.out
    fake_slack.add_channel("gone-and-back", members=[], channel_id="CGONE")
    again = cli(nowhere, "briefing")  # not marked as posted, so the next run posts it
    assert again.status == 0, again.err
    assert len(fake_slack.messages("CGONE")) == 1


def test_a_reminder_run_survives_slack_failing_once(
    env: dict[str, Any], fake_slack: FakeSlack, cli: Callable[..., CliRun]
) -> None:
    fake_slack.server_error("users.list")
    fake_slack.server_error("chat.postMessage")
    reminded = cli(env, "remind")
    assert reminded.status == 0, reminded.err
    assert len(fake_slack.dms_to("UMATT")) == 1


def test_briefing_without_channel_is_a_clear_error(bot_env: dict[str, Any], cli: Callable[..., CliRun]) -> None:
    result = cli(bot_env, "briefing")
    assert result.status == 2
    assert "BRIEFING_CHANNEL is not set" in result.err


def test_a_broken_owner_map_is_named(bot_env: dict[str, Any], tmp_path: Any, cli: Callable[..., CliRun]) -> None:
    broken = tmp_path / "owners.yml"
    broken.write_text("- just\n- a list\n")
    result = cli({**bot_env, "OWNER_MAP": str(broken)}, "scan")
    assert result.status == 2
    assert "OWNER_MAP must map names to Slack user IDs" in result.err
