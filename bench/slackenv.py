"""The fake Slack the bot talks to, the bot's environment, and the steps of an incident, as the tests do them."""

from __future__ import annotations

import re
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench.docsrepo import DocsRepo, owner_name
from slack_sim import FakeSlack, SlackDriver

SECRET = "bench-signing-secret"
TOKEN = "xoxb-bench"
COMMANDER = "UALICE"
RESPONDER = "UBOB"
ANNOUNCE = "CANNOUNCE"
GENERAL = "CGENERAL"
RESOLUTION = {
    "Summary": "6 of 10 agents failed because auth-profiles.json was missing after a redeploy",
    "Root cause(s)": "The redeploy script did not copy auth-profiles.json.",
    "Resolution": "Restored the file from backup and restarted the gateway.",
    "Lessons learned": "Config outside the repo is lost on redeploy.",
}


def owner_id(number: int) -> str:
    """The Slack user who is `@user<number>` in the generated RCAs."""
    return f"U{number:07d}"


@contextmanager
def fake_slack(owners: int = 0) -> Iterator[FakeSlack]:
    """A started fake workspace: alice and bob, #general, the announce channel, and `owners` owners."""
    fake = FakeSlack(bot_token=TOKEN, team_id="T0TEST", bot_user_id="UBOT", bot_id="BBOT")
    fake.start()
    try:
        fake.add_user(COMMANDER, "alice", real_name="Alice Example")
        fake.add_user(RESPONDER, "bob", real_name="Bob Example")
        for number in range(1, owners + 1):
            fake.add_user(owner_id(number), owner_name(number))
        fake.add_channel("general", members=[COMMANDER, RESPONDER], channel_id=GENERAL)
        fake.add_channel("incidents", members=[COMMANDER], channel_id=ANNOUNCE)
        yield fake
    finally:
        fake.stop()


def bot_env(fake: FakeSlack, database_url: str, docs: DocsRepo, **extra: str) -> dict[str, str]:
    """What a team would set (see tests/slack/conftest.py `bot_env`), pointed at the fake and `database_url`."""
    return {
        "PACING_DIR": str(docs.clone.parent / "pacing"),
        "DOCS_REPO_PATH": str(docs.clone),
        "DAILY_CHECK_SECONDS": "0",
        "RUNBOOK_PATH": "runbooks/incident-response.md",
        "DOCS_REPO_WEB_URL": "https://github.example/team/fleet/blob/main",
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.url,
        "DATABASE_URL": database_url,
        "INCIDENT_ANNOUNCE_CHANNEL": ANNOUNCE,
        **extra,
    }


def driver(fake: FakeSlack, port: int) -> SlackDriver:
    return SlackDriver(app_url=f"http://127.0.0.1:{port}/slack/events", signing_secret=SECRET, fake=fake)


def incident_rooms(fake: FakeSlack) -> list[dict[str, Any]]:
    return [c for c in fake.channels() if c["name"].startswith("inc-")]


def declare(slack: SlackDriver, fake: FakeSlack, title: str, timeout: float = 60.0) -> dict[str, Any]:
    """Alice declares a SEV-2; once its channel exists and has the summary, bob joins it. Returns the channel."""
    known = {c["id"] for c in incident_rooms(fake)}
    answer = slack.command("/incident", f"sev2 {title}", user=COMMANDER, channel=GENERAL)
    if answer.status != 200:
        raise RuntimeError(f"declaring answered {answer.status}: {answer.text[:300]}")

    def ready() -> dict[str, Any] | None:
        for channel in incident_rooms(fake):
            if channel["id"] not in known and fake.messages(channel["id"]):
                return channel
        return None

    room = fake.wait_for(ready, timeout=timeout)
    fake.join(room["id"], RESPONDER)
    return room


def open_resolve_form(slack: SlackDriver, fake: FakeSlack, room: dict[str, Any]) -> dict[str, Any]:
    before = len(fake.views())
    answer = slack.command("/incident", "resolve", user=COMMANDER, channel=room["id"])
    if answer.status != 200:
        raise RuntimeError(f"/incident resolve answered {answer.status}: {answer.text[:300]}")
    views: list[dict[str, Any]] = fake.wait_for(lambda: fake.views()[before:], timeout=30)
    return views[-1]


def submit_resolve(slack: SlackDriver, fake: FakeSlack, form: dict[str, Any]) -> None:
    answer = slack.submit(COMMANDER, form, RESOLUTION)
    if answer.status != 200 or "errors" in answer.text:
        raise RuntimeError(f"the resolve form answered {answer.status}: {answer.text[:300]}")


def wait_until_idle(port: int, timeout: float = 120.0) -> None:
    """Until the bot's /metrics shows no job due (its queue drained), so that work queued earlier
    (a declare's similar-incidents search over the whole docs repo) does not run inside a timed window."""
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            seen = answer.read().decode()
        if re.search(r"^incident_bot_job_queue_depth 0(\.0)?$", seen, re.MULTILINE):
            return
        time.sleep(0.05)  # polling the end state, not waiting a fixed time
    depth = re.findall(r"^incident_bot_job_queue_depth .*$", seen, re.MULTILINE)
    raise RuntimeError(f"the bot's job queue did not drain within {timeout:.0f} s ({depth})")
