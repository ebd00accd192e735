"""INCIDENT_POLICY: escalation per level is configuration: who is invited, DMed and paged."""

from __future__ import annotations

import os
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import load_settings
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.paging.receiver import FakeReceiver, receiving
from tests.slack.conftest import (
    COMMANDER,
    ESCALATION,
    bot_posts,
    driver_for,
    run_cli,
    serve_until_it_exits,
    start_bot,
)
from tests.slack.test_resolve import declare
from tests.support.clock import RunningClock

ON_CALL = "UONCALL"
POLICY = f"""\
levels:
  SEV-1:
    page: false
  SEV-2:
    invite: [{ON_CALL}]
    dm: [{ON_CALL}]
    mention_groups: [S0ONCALL]
    page: true
"""


@pytest.fixture
def receiver() -> Iterator[FakeReceiver]:
    with receiving() as running:
        yield running


@pytest.fixture
def policy_bot(
    bot_env: dict[str, Any], clock: RunningClock, receiver: FakeReceiver, tmp_path: Path
) -> Iterator[RunningBot]:
    policy = tmp_path / "policy.yml"
    policy.write_text(POLICY)
    settings = load_settings({**bot_env, "INCIDENT_POLICY": str(policy)})
    bot = start_bot(
        settings,
        clock,
        pagerduty_routing_key=SecretStr("R0UTINGKEY0123456789abcdef012345"),
        pagerduty_events_url=f"{receiver.url}/v2/enqueue",
    )
    yield bot
    bot.stop()


@pytest.fixture
def driver(policy_bot: RunningBot, fake_slack: FakeSlack) -> SlackDriver:
    fake_slack.add_user(ON_CALL, "oncall")
    return driver_for(policy_bot, fake_slack)


def triggers(receiver: FakeReceiver) -> list[object]:
    return [r.json for r in receiver.requests if isinstance(r.json, dict) and r.json.get("event_action") == "trigger"]


def test_the_policy_file_decides_who_a_sev2_invites_dms_and_pages(
    driver: SlackDriver, fake_slack: FakeSlack, receiver: FakeReceiver
) -> None:
    room = declare(driver, fake_slack, "sev2 Pipeline stalled")
    fake_slack.wait_for(lambda: ON_CALL in fake_slack.channel(room["id"])["members"])
    dm = fake_slack.wait_for(partial(fake_slack.dms_to, ON_CALL))[0]
    assert "Pipeline stalled" in dm["text"]
    assert "Pipeline stalled" in str(fake_slack.wait_for(lambda: triggers(receiver)))
    announced = fake_slack.wait_for(lambda: bot_posts(fake_slack, "CANNOUNCE", "Pipeline stalled"))[0]
    assert announced["text"].startswith("<!subteam^S0ONCALL> ")


def test_a_levels_groups_are_mentioned_when_an_incident_is_raised_to_it_not_when_lowered(
    driver: SlackDriver, fake_slack: FakeSlack
) -> None:
    room = declare(driver, fake_slack, "sev3 Slow builds")
    announced = fake_slack.wait_for(lambda: bot_posts(fake_slack, "CANNOUNCE", "Slow builds"))[0]
    assert "subteam" not in announced["text"]
    driver.command("/incident", "sev2", user=COMMANDER, channel=room["id"])
    raised = fake_slack.wait_for(lambda: bot_posts(fake_slack, "CANNOUNCE", "from SEV-3 to"))[0]
    assert raised["text"].startswith("<!subteam^S0ONCALL> ")
    driver.command("/incident", "sev3", user=COMMANDER, channel=room["id"])
    lowered = fake_slack.wait_for(lambda: bot_posts(fake_slack, "CANNOUNCE", "from SEV-2 to"))[0]
    assert "subteam" not in lowered["text"]


def test_a_level_the_policy_says_not_to_page_is_not_paged(
    driver: SlackDriver, fake_slack: FakeSlack, receiver: FakeReceiver
) -> None:
    declare(driver, fake_slack, "sev1 Data exposure")
    # SEV1_ESCALATION_USERS still applies to SEV-1 (the short form): they are DMed.
    fake_slack.wait_for(partial(fake_slack.dms_to, ESCALATION[0]))
    declare(driver, fake_slack, "sev2 Second one")
    fake_slack.wait_for(lambda: triggers(receiver))  # the SEV-2 paged ...
    assert all("Data exposure" not in str(body) for body in triggers(receiver))  # ... the SEV-1 did not


def test_a_policy_file_with_a_bad_key_stops_the_bot_naming_it(bot_env: dict[str, Any], tmp_path: Path) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("levels:\n  SEV-1:\n    page: sometimes\n")
    env = {**os.environ, **{k: str(v) for k, v in bot_env.items()}, "INCIDENT_POLICY": str(policy)}
    result = serve_until_it_exits(env, tmp_path)
    assert result.returncode == 2
    assert "INCIDENT_POLICY levels.SEV-1.page" in result.stderr


def test_bad_status_update_minutes_stop_the_bot_naming_it(bot_env: dict[str, Any], tmp_path: Path) -> None:
    env = {**os.environ, **{k: str(v) for k, v in bot_env.items()}, "STATUS_UPDATE_MINUTES": "SEV-1=soon"}
    result = serve_until_it_exits(env, tmp_path)
    assert result.returncode == 2
    assert "STATUS_UPDATE_MINUTES" in result.stderr


def doctor_line(env: dict[str, Any], policy: Path) -> str:
    run = run_cli({**env, "INCIDENT_POLICY": str(policy)}, "doctor")
    return next(line for line in run.out.splitlines() if "INCIDENT_POLICY" in line)


def test_doctor_names_a_level_the_policy_escalates_that_the_severity_guide_lacks(
    bot_env: dict[str, Any], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("levels:\n  SEV-2:\n    page: true\n  SEV-5:\n    page: true\n")
    line = doctor_line(bot_env, policy)
    assert "SEV-5 is not in the severity guide" in line
    assert "SEV-2" not in line.split("not in the severity guide")[0]
    policy.write_text(POLICY)
    assert "escalation for SEV-1, SEV-2" in doctor_line(bot_env, policy)


def test_doctor_names_the_bad_key_of_a_policy_file(
    bot_env: dict[str, Any], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yml"
    policy.write_text("levels:\n  SEV-1:\n    page: sometimes\n")
    assert "INCIDENT_POLICY levels.SEV-1.page" in doctor_line(bot_env, policy)
