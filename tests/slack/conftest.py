"""A running bot wired to a fake Slack on loopback, driven by signed requests like Slack's."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from bot.cli import main
from bot.config import Settings, load_settings
from bot.container import build_container
from bot.demo.docs_repo import DocsRepo, create_docs_repo
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.paths import FLEET_REPO
from tests.support.clock import RunningClock

SECRET = "test-signing-secret"
COMMANDER = "UALICE"
RESPONDER = "UBOB"
ESCALATION = ("UESC1", "UESC2")


@pytest.fixture
def fake_slack(clock: RunningClock) -> Iterator[FakeSlack]:
    fake = FakeSlack(bot_token="xoxb-test", team_id="T0TEST", bot_user_id="UBOT", bot_id="BBOT", clock=clock.timestamp)
    fake.start()
    fake.add_user(COMMANDER, "alice", real_name="Alice Example", tz="Europe/Berlin", tz_offset=3600)
    fake.add_user(RESPONDER, "bob", real_name="Bob Example")
    for user_id in ESCALATION:
        fake.add_user(user_id, user_id.lower())
    fake.add_channel("general", members=[COMMANDER, RESPONDER], channel_id="CGENERAL")
    fake.add_channel("incidents", members=[COMMANDER], channel_id="CANNOUNCE")
    yield fake
    fake.stop()


@pytest.fixture
def docs_repo(tmp_path: Path) -> DocsRepo:
    """The team's docs repo (the fleet-repo fixture): a bare remote and the bot's clone."""
    return create_docs_repo(tmp_path / "docs-repo", seed=FLEET_REPO)


@pytest.fixture
def bot_env(fake_slack: FakeSlack, database_url: str, docs_repo: DocsRepo, tmp_path: Path) -> dict[str, Any]:
    """The environment a team would set, pointed at the fake Slack and the test database."""
    return {
        "PACING_DIR": str(tmp_path / "pacing"),
        "STOP_GRACE_SECONDS": "10",
        "DOCS_REPO_PATH": str(docs_repo.clone),
        "DAILY_CHECK_SECONDS": "0",
        "RUNBOOK_PATH": "runbooks/incident-response.md",
        "DOCS_REPO_WEB_URL": "https://github.example/team/fleet/blob/main",
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake_slack.url,
        "DATABASE_URL": database_url,
        "INCIDENT_ANNOUNCE_CHANNEL": "CANNOUNCE",
        "SEV1_ESCALATION_USERS": ",".join(ESCALATION),
        # Archiving is tested on its own (test_channel_upkeep.py): elsewhere a resolve would leave a job
        # waiting a week, and waiting for an idle queue would wait for it.
        "ARCHIVE_AFTER_DAYS": "0",
    }


@pytest.fixture
def settings(bot_env: dict[str, Any]) -> Settings:
    return load_settings(bot_env)


def start_bot(settings: Settings, clock: RunningClock, **changes: Any) -> RunningBot:
    """`serve` in this process, on the test's clock, with job threads that poll often."""
    configured = settings.model_copy(update=changes) if changes else settings
    return RunningBot(
        configured, host="127.0.0.1", port=0, build=lambda s: build_container(s, clock=clock, poll_seconds=0.05)
    )


@pytest.fixture
def running_bot(settings: Settings, clock: RunningClock) -> Iterator[RunningBot]:
    bot = start_bot(settings, clock)
    yield bot
    bot.stop()


class Listening(Protocol):
    @property
    def port(self) -> int: ...


def driver_for(bot: Listening, fake: FakeSlack) -> SlackDriver:
    """Signed requests, as Slack sends them, to this running bot."""
    return SlackDriver(app_url=f"http://127.0.0.1:{bot.port}/slack/events", signing_secret=SECRET, fake=fake)


@pytest.fixture
def slack(running_bot: RunningBot, fake_slack: FakeSlack) -> SlackDriver:
    return driver_for(running_bot, fake_slack)


def wait_until_idle(bot: RunningBot, timeout: float = 20.0) -> None:
    """Wait until every queued job is done, so that a test may assert that nothing more happens."""
    deadline = time.monotonic() + timeout
    while bot.container.jobs.pending() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert bot.container.jobs.pending() == 0, "queued work did not finish"


def settle(bot: RunningBot, clock: RunningClock, timeout: float = 30.0) -> None:
    """Wait until every queued job is done; a job waiting to be retried is brought due by moving the
    clock to its time (never while a job runs), so retries cost no waiting."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = bot.container.jobs.queue_state(clock.now())
        if state.pending == 0:
            return
        if state.running == 0 and state.next_run_at is not None and state.next_run_at > clock.now():
            clock.catch_up(state.next_run_at)  # the clock may pass it meanwhile
            bot.container.runner.wake()
        time.sleep(0.02)
    raise AssertionError(f"queued work did not finish: {bot.container.jobs.queue_state(clock.now())}")


def bot_posts(fake: FakeSlack, channel: str, needle: str) -> list[dict[str, Any]]:
    """The bot's messages in `channel` (threads included) that say `needle`."""
    return [m for m in fake.messages(channel) if m.get("user") == fake.bot_user_id and needle in all_text(m)]


def incident_channel(fake: FakeSlack, prefix: str = "inc-") -> dict[str, Any]:
    """Wait until the bot has opened an incident channel and posted its summary in it."""

    def ready() -> dict[str, Any] | None:
        for channel in fake.channels():
            if channel["name"].startswith(prefix) and fake.messages(channel["id"]):
                return channel
        return None

    return fake.wait_for(ready)


def button_texts(message: dict[str, Any]) -> list[str]:
    return [
        element["text"]["text"]
        for block in message.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def all_text(message: dict[str, Any]) -> str:
    """Everything a person would read in a message: text plus every text in its blocks."""
    parts = [message.get("text") or ""]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str):
                parts.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks") or [])
    return "\n".join(parts)


@dataclass(frozen=True)
class CliRun:
    status: int
    out: str
    err: str


def run_cli(env: dict[str, Any], *args: str, clock: RunningClock | None = None) -> CliRun:
    """`incident-bot <args>` in this process, with exactly `env` as its environment."""
    out, err = io.StringIO(), io.StringIO()
    status = main(list(args), environ={key: str(value) for key, value in env.items()}, out=out, err=err, clock=clock)
    return CliRun(status, out.getvalue(), err.getvalue())


def serve_until_it_exits(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `incident-bot serve` as an operator would, for start-ups that must stop with a message."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", "0"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
