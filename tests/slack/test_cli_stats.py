"""`incident-bot stats`, as a person, cron or an agent runs it, over a docs repo and database the bot used."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.demo.docs_repo import DocsRepo
from bot.slack.resolve_blocks import RESOLVE_VIEW
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, RESPONDER, CliRun, run_cli, settle
from tests.slack.test_access import declare_private, declare_public
from tests.slack.test_resolve import room_says
from tests.support.clock import TODAY, RunningClock

CACHE_RCA = "DOCS/incidents/2026-09-14-cache-stampede-rca.md"
CACHE_TEXT = """# RCA: Cache stampede

- **Severity:** SEV-1
- **Declared:** 2026-09-14 09:00 UTC
- **Resolved:** 2026-09-14 10:30 UTC

## Action items

| # | Action | Owner | Status |
|---|--------|-------|--------|
| 1 | Add request coalescing | @carol | Open |
| 2 | Alert on the hit rate | @carol | Done |
"""
HISTORY_ROW = "| 2026-08-01 | SEV-2 | Queue backlog before the bot | |"
FLEET_LINE = (
    "- [system] **INCIDENT — SEV-1 Cache stampede (2026-09-14 09:00–10:30 UTC).** Coalescing added. "
    f"Full RCA: `{CACHE_RCA}`"
)


@pytest.fixture
def cli(clock: RunningClock) -> Callable[..., CliRun]:
    return lambda env, *args: run_cli(env, *args, clock=clock)


@pytest.fixture
def history(docs_repo: DocsRepo, tmp_path: Path) -> None:
    """What people wrote before and beside the bot: a hand-written RCA (also in fleet-status) and a history row."""
    editor = docs_repo.person_clone(tmp_path / "editor")
    root = tmp_path / "editor"
    (root / CACHE_RCA).write_text(CACHE_TEXT)
    runbook = root / "runbooks" / "incident-response.md"
    first = next(line for line in runbook.read_text().splitlines() if line.startswith("| 2026-02-23 |"))
    runbook.write_text(runbook.read_text().replace(first, f"{HISTORY_ROW}\n{first}"))
    fleet = root / "fleet-status.md"
    fleet.write_text(fleet.read_text().replace("## Recent Activity\n\n", f"## Recent Activity\n\n{FLEET_LINE}\n"))
    editor.git.add(A=True)
    editor.git.commit("-m", "Incidents from before the bot")
    editor.git.push()


def resolve(slack: SlackDriver, fake: FakeSlack, room: dict[str, Any], summary: str) -> None:
    seen = {view["id"] for view in fake.views()}
    assert slack.command("/incident", "resolve", user=COMMANDER, channel=room["id"]).status == 200
    form = fake.wait_for(
        lambda: [v for v in fake.views() if v["id"] not in seen and v.get("callback_id") == RESOLVE_VIEW]
    )[-1]
    slack.submit(COMMANDER, form, {"Summary": summary})
    room_says(fake, room, "RCA `DOCS/incidents/")


def stats_json(cli: Callable[..., CliRun], env: dict[str, Any], *args: str) -> dict[str, Any]:
    result = cli(env, "stats", "--json", *args)
    assert result.status == 0, result.err
    assert result.out.count("\n") == 1  # one line, for `jq`
    data: dict[str, Any] = json.loads(result.out)
    return data


def test_stats_counts_the_bots_and_the_docs_repos_incidents_once_and_never_titles_private_ones(
    history: None,
    slack: SlackDriver,
    fake_slack: FakeSlack,
    running_bot: Any,
    clock: RunningClock,
    bot_env: dict[str, Any],
    cli: Callable[..., CliRun],
) -> None:
    secret = declare_private(slack, fake_slack, "Leaked signing token")
    resolve(slack, fake_slack, secret, "Rotated the token")
    room = declare_public(slack, fake_slack, "sev2 Gateway flapping")
    slack.command("/incident", f"action <@{RESPONDER}|bob> Add a health check", user=COMMANDER, channel=room["id"])
    room_says(fake_slack, room, "added action item")
    settle(running_bot, clock)
    clock.advance(timedelta(minutes=42))
    resolve(slack, fake_slack, room, "Restarted the gateway")
    settle(running_bot, clock)

    report = stats_json(cli, bot_env)
    by_title = {i.get("title"): i for i in report["incidents"]}
    assert sorted(t for t in by_title if t) == [
        "Cache stampede",
        "Gateway auth outage",
        "Gateway flapping",
        "Queue backlog before the bot",
    ]
    assert report["totals"]["incidents"] == 5 and report["totals"]["private"] == 1
    gateway = by_title["Gateway flapping"]
    assert gateway["source"] == "bot" and gateway["rca"] == f"DOCS/incidents/{TODAY}-gateway-flapping-rca.md"
    assert gateway["resolve_minutes"] == pytest.approx(42, abs=0.5)
    assert (gateway["action_items"], gateway["open_action_items"]) == (1, 1)
    cache = by_title["Cache stampede"]
    assert (cache["source"], cache["level"], cache["rca"]) == ("rca", "SEV-1", CACHE_RCA)
    assert cache["resolve_minutes"] == 90.0
    assert by_title["Queue backlog before the bot"]["source"] == "history"
    private = [i for i in report["incidents"] if i["private"]]
    assert len(private) == 1 and "title" not in private[0] and private[0]["source"] == "bot"
    assert (private[0]["rca"], private[0]["has_rca"]) == (None, True)  # its file name is its title's slug
    # SEV-2: the fixture's outage, the backlog, the private incident, the flapping gateway.
    assert report["by_level"]["SEV-2"]["count"] == 4 and report["by_level"]["SEV-1"]["count"] == 1
    assert [i["title"] for i in report["missing_rca"]] == ["Queue backlog before the bot"]
    # The fixture's 4 items (2 done), the cache's 2 (1 done), the gateway's 1.
    assert report["action_items"] == {
        "opened": 7,
        "done": 3,
        "in_progress": 1,
        "open": 4,
        "completion_rate": 0.4286,
        "median_open_age_days": report["action_items"]["median_open_age_days"],
        "open_age_unknown": 0,
    }
    owners = {o["owner"]: o["count"] for o in report["overdue"]}
    assert owners == {"@carol": 1, "@matt": 1, "@docs": 1}  # the gateway's item is minutes old
    assert any("known only from the docs repo" in note for note in report["notes"])

    assert "leaked-signing-token" not in json.dumps(report)
    text = cli(bot_env, "stats")
    assert text.status == 0, text.err
    assert "Leaked signing token" not in text.out + text.err and "leaked-signing-token" not in text.out
    assert "Incidents so far (UTC): 5, 1 private, 3 known only from the docs repo" in text.out
    assert "Queue backlog before the bot (history)" in text.out
    assert "@carol: 1, the oldest" in text.out


def test_since_and_until_choose_the_days_and_a_bad_date_is_refused(
    history: None, bot_env: dict[str, Any], cli: Callable[..., CliRun]
) -> None:
    september = stats_json(cli, bot_env, "--since", "2026-09-01", "--until", "2026-09-30")
    assert [i["title"] for i in september["incidents"]] == ["Cache stampede"]
    assert (september["since"], september["until"]) == ("2026-09-01", "2026-09-30")
    assert september["by_week"][0]["period"] == "2026-W36"
    assert september["action_items"]["opened"] == 2
    assert [i["title"] for i in stats_json(cli, bot_env, "--until", "2026-02-23")["incidents"]] == [
        "Gateway auth outage"
    ]

    bad = cli(bot_env, "stats", "--since", "2026-02-30")
    assert bad.status == 2 and bad.out == ""
    assert "--since must be a date such as 2026-01-31, not '2026-02-30'" in bad.err
    backwards = cli(bot_env, "stats", "--since", "2026-10-01", "--until", "2026-09-01")
    assert backwards.status == 2 and "is after --until" in backwards.err


def test_stats_needs_no_slack_and_writes_the_charts(
    history: None, bot_env: dict[str, Any], fake_slack: FakeSlack, tmp_path: Path, cli: Callable[..., CliRun]
) -> None:
    offline = {k: v for k, v in bot_env.items() if k not in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")}
    before = len(fake_slack.calls())
    charts = tmp_path / "charts"
    result = cli(offline, "stats", "--json", "--charts", str(charts))
    assert result.status == 0, result.err
    assert json.loads(result.out)["totals"]["incidents"] == 3  # stdout stays JSON; the files are named on stderr
    assert len(fake_slack.calls()) == before
    names = sorted(path.name for path in charts.iterdir())
    assert names == ["incidents-per-week.png", "open-action-items.png", "time-to-resolve.png"]
    assert all(f"wrote {charts / name}" in result.err for name in names)
    for name in names:
        data = (charts / name).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(charts / name) as image:
            assert image.size == (1000, 500)
            colours = image.convert("RGB").getcolors(maxcolors=1_000_000) or []
            assert len(colours) > 50  # axes, text and data: not a blank canvas


def test_an_unreadable_docs_repo_is_said_plainly(bot_env: dict[str, Any], cli: Callable[..., CliRun]) -> None:
    result = cli({**bot_env, "DOCS_REPO_PATH": "/nonexistent/docs"}, "stats")
    assert result.status == 1
    assert "cannot read the docs repo: The docs repo clone (DOCS_REPO_PATH) does not exist." in result.err


def test_a_run_after_an_rca_changed_reads_it_again(
    history: None, bot_env: dict[str, Any], docs_repo: DocsRepo, tmp_path: Path, cli: Callable[..., CliRun]
) -> None:
    before = stats_json(cli, bot_env)
    assert (docs_repo.clone / ".git" / "incident-bot" / "stats-facts.json").is_file()  # the parsed RCAs, kept
    assert before["action_items"]["done"] == 3
    editor = docs_repo.person_clone(tmp_path / "editor-2")
    rca = tmp_path / "editor-2" / CACHE_RCA
    rca.write_text(
        rca.read_text().replace(
            "| Add request coalescing | @carol | Open |", "| Add request coalescing | @carol | Done |"
        )
    )
    editor.git.commit("-am", "Coalescing is done")
    editor.git.push()
    after = stats_json(cli, bot_env)
    assert after["action_items"]["done"] == 4 and after["action_items"]["open"] == 2
