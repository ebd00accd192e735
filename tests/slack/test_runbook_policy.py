"""The runbook's Severity Guide is the bot's policy: a row the team adds is a level the bot knows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.core.models import BUILT_IN_SEVERITIES, use_severity_guide
from bot.demo.docs_repo import DocsRepo
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, all_text, driver_for, incident_channel, run_cli, start_bot
from tests.support.clock import RunningClock

RUNBOOK = "runbooks/incident-response.md"
SEV3_ROW = "| SEV-3 | Single agent failure, minor config drift | Next run | No (note in fleet-status) |"
SEV4_ROW = "| SEV-4 | Cosmetic glitch, no agent affected | 1 week | No |"


@pytest.fixture(autouse=True)
def built_in_levels_after() -> Iterator[None]:
    yield
    use_severity_guide(BUILT_IN_SEVERITIES)  # the levels in force are the process's; leave the built-in ones


def push_runbook_change(docs_repo: DocsRepo, where: Path, old: str, new: str, message: str) -> None:
    person = docs_repo.person_clone(where)
    path = Path(person.working_dir) / RUNBOOK
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    person.git.commit("-am", message)
    person.git.push("origin", "main")


def help_text(slack: SlackDriver) -> str:
    answer = slack.command("/incident", "help", user=COMMANDER, channel="CGENERAL")
    assert answer.status == 200
    return str(answer.json()["text"])


def help_mentioning(slack: SlackDriver, needle: str) -> str | None:
    text = help_text(slack)
    return text if needle in text else None


def test_a_sev4_row_added_to_the_runbook_is_a_level_people_can_declare(
    settings: Settings,
    bot_env: dict[str, Any],
    clock: RunningClock,
    fake_slack: FakeSlack,
    docs_repo: DocsRepo,
    tmp_path: Path,
) -> None:
    # The daily check pulls the docs repo often here, so the bot reads the runbook again soon after the push.
    bot = start_bot(settings, clock, daily_check_seconds=0.2)
    try:
        slack = driver_for(bot, fake_slack)
        assert "SEV-4" not in help_text(slack)
        refused = slack.command("/incident", "sev4 Dashboard graphs lag", user=COMMANDER, channel="CGENERAL")
        assert "There is no SEV4" in refused.json()["text"] and "SEV-1, SEV-2 and SEV-3" in refused.json()["text"]

        push_runbook_change(docs_repo, tmp_path / "person", SEV3_ROW, f"{SEV3_ROW}\n{SEV4_ROW}", "Add SEV-4")
        shown = fake_slack.wait_for(lambda: help_mentioning(slack, "SEV-4"))
        assert "*SEV-4* — Cosmetic glitch, no agent affected. Response: 1 week; RCA not required." in shown

        answer = slack.command("/incident", "sev4 Dashboard graphs lag", user=COMMANDER, channel="CGENERAL")
        assert "Declaring *SEV-4*" in answer.json()["text"]
        channel = incident_channel(fake_slack)
        assert channel["topic"] == "SEV-4 · Dashboard graphs lag"
        summary = fake_slack.messages(channel["id"])[0]
        assert "Response time: 1 week" in all_text(summary)

        # A table the bot cannot read keeps the last good levels.
        push_runbook_change(
            docs_repo, tmp_path / "person2", "| SEV-4 | Cosmetic", "| SEVX | Cosmetic", "Break the severity table"
        )
        doctor = fake_slack.wait_for(lambda: doctor_reporting(bot_env, "is not a level"))
        assert f"{RUNBOOK}:" in doctor  # the file and line of the row it cannot read
        assert "*SEV-4* — Cosmetic glitch" in help_text(slack)
        briefing = run_cli(bot_env, "briefing", "--dry-run")
        assert briefing.status == 0, briefing.err
        assert ":warning: The runbook's Severity Guide cannot be read" in briefing.out
        assert f"{RUNBOOK}:" in briefing.out and "is not a level" in briefing.out
    finally:
        bot.stop()


def doctor_reporting(env: dict[str, Any], needle: str) -> str | None:
    """`incident-bot doctor`'s output once it reports `needle` about the severity guide (it reads the bot's copy)."""
    run = run_cli(env, "doctor")
    line = next((line for line in run.out.splitlines() if "severity guide" in line), "")
    return line if needle in line else None
