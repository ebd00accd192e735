"""Each command once as a real process, the way cron, an agent or an operator starts it.

Everything else about these commands is tested in-process (`bot.cli.main`), which is faster and runs
on the test clock; these make sure the entry points themselves start, read the environment and exit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from slack_sim import FakeSlack


def run(env: dict[str, Any], *args: str, command: list[str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*(command or [sys.executable, "-m", "bot"]), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("scan", "--json"), '"items"'),
        (("remind", "--dry-run"), "would remind UMATT of 1 open item(s)"),
        (("briefing", "--dry-run"), "🔔"),
        (("publish", "--retry"), "every RCA is published"),
    ],
    ids=["scan", "remind", "briefing", "publish"],
)
def test_each_command_runs_as_a_process(
    bot_env: dict[str, Any], fake_slack: FakeSlack, args: tuple[str, ...], expected: str
) -> None:
    fake_slack.add_user("UMATT", "matt")  # owns the fixture RCA's open item #3
    result = run({**bot_env, "PYTHONIOENCODING": "utf-8"}, *args)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout
    if args[0] == "scan":
        assert {item["number"] for item in json.loads(result.stdout)["items"]} == {3, 4}  # the fixture RCA's


def test_the_console_script_is_installed(bot_env: dict[str, Any]) -> None:
    script = Path(sys.executable).with_name("incident-bot")
    result = run(bot_env, "--help", command=[str(script)])
    assert result.returncode == 0, result.stderr
    for command in ("serve", "demo", "remind", "briefing", "scan", "publish", "migrate"):
        assert command in result.stdout
