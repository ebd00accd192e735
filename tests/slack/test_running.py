"""Starting the bot the way an operator does, and surviving a crash between ack and work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from bot.config import Settings
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import (
    COMMANDER,
    SECRET,
    driver_for,
    incident_channel,
    serve_until_it_exits,
    start_bot,
    wait_until_idle,
)
from tests.support.clock import RunningClock


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_serve_answers_healthz_and_slack(bot_env: dict[str, Any], fake_slack: FakeSlack, tmp_path: Any) -> None:
    env = {**os.environ, **bot_env}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = ""
        deadline = time.monotonic() + 30
        while "listening on" not in line and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line or process.poll() is None, "serve exited early"
        port = int(re.search(r"http://[\d.]+:(\d+)", line).group(1))  # type: ignore[union-attr]
        assert _get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")
        driver = SlackDriver(
            app_url=f"http://127.0.0.1:{port}/slack/events", signing_secret=SECRET, fake=fake_slack, team_id="T0TEST"
        )
        assert driver.command("/incident", "sev2 From a real process", user=COMMANDER, channel="CGENERAL").status == 200
        assert incident_channel(fake_slack)["topic"] == "SEV-2 · From a real process"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_missing_configuration_is_named(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    result = serve_until_it_exits(env, tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is required" in result.stderr
    assert "SLACK_SIGNING_SECRET is required" in result.stderr


def test_bad_token_fails_fast(bot_env: dict[str, Any], tmp_path: Any) -> None:
    env = {**os.environ, **bot_env, "SLACK_BOT_TOKEN": "xoxb-wrong"}
    result = serve_until_it_exits(env, tmp_path)
    assert result.returncode == 2
    assert "invalid_auth" in result.stderr and "SLACK_BOT_TOKEN" in result.stderr


def test_work_acked_before_a_crash_is_done_after_restart(
    settings: Settings, fake_slack: FakeSlack, clock: RunningClock
) -> None:
    # The first process acks the command, then dies before its job runner gets to the work.
    crashed = start_bot(settings, clock, worker_threads=0)
    driver = driver_for(crashed, fake_slack)
    assert driver.command("/incident", "sev2 Survives restarts", user=COMMANDER, channel="CGENERAL").status == 200
    crashed.stop()
    assert not fake_slack.calls("conversations.create")

    restarted = start_bot(settings, clock)
    try:
        channel = incident_channel(fake_slack)
        assert channel["topic"] == "SEV-2 · Survives restarts"
        wait_until_idle(restarted)
        assert len(fake_slack.calls("conversations.create")) == 1
    finally:
        restarted.stop()


def test_migrate_needs_only_the_database(tmp_path: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "migrate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stdout
    assert (tmp_path / "fresh.db").exists()
