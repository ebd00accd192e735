"""The weekly digest: posted at DIGEST_TIME once a week across replicas and restarts, with its charts
uploaded through files.uploadV2; `incident-bot digest` for cron; the Home tab's last 30 days."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.config import load_settings
from bot.container import Container, build_container
from bot.scheduler import DailyJobs
from bot.server import RunningBot
from bot.slack.resolve_blocks import RESOLVE_VIEW
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, RESPONDER, SECRET, CliRun, all_text, run_cli, settle, start_bot
from tests.slack.test_access import declare_private, declare_public
from tests.slack.test_home import home_of, open_home
from tests.slack.test_resolve import room_says
from tests.support.clock import START, RunningClock

DIGEST = "CDIGEST0001"


def monday(hour: int, minute: int = 0, *, weeks: int = 0) -> datetime:
    """A moment on the Monday after the test clock's Wednesday (UTC), `weeks` later."""
    first = START.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=5, weeks=weeks)
    return first.replace(hour=hour, minute=minute)


@pytest.fixture
def digest_env(bot_env: dict[str, Any], fake_slack: FakeSlack) -> dict[str, Any]:
    fake_slack.add_channel("incident-digest", members=[COMMANDER], channel_id=DIGEST)
    return {**bot_env, "DIGEST_CHANNEL": DIGEST}


@pytest.fixture
def bot(digest_env: dict[str, Any], clock: RunningClock) -> Iterator[RunningBot]:
    running = start_bot(load_settings(digest_env), clock)
    yield running
    running.stop()


@pytest.fixture
def driver(bot: RunningBot, fake_slack: FakeSlack) -> SlackDriver:
    return SlackDriver(app_url=f"http://127.0.0.1:{bot.port}/slack/events", signing_secret=SECRET, fake=fake_slack)


def resolve(slack: SlackDriver, fake: FakeSlack, room: dict[str, Any], summary: str) -> None:
    seen = {view["id"] for view in fake.views()}
    assert slack.command("/incident", "resolve", user=COMMANDER, channel=room["id"]).status == 200
    form = fake.wait_for(
        lambda: [v for v in fake.views() if v["id"] not in seen and v.get("callback_id") == RESOLVE_VIEW]
    )[-1]
    slack.submit(COMMANDER, form, {"Summary": summary})
    room_says(fake, room, "RCA `DOCS/incidents/")


def this_weeks_incidents(slack: SlackDriver, fake: FakeSlack, bot: RunningBot, clock: RunningClock) -> None:
    """A SEV-2 resolved after 42 minutes with an open item, and a private one, on the test clock's Wednesday."""
    room = declare_public(slack, fake, "sev2 Gateway flapping")
    slack.command("/incident", f"action <@{RESPONDER}|bob> Add a health check", user=COMMANDER, channel=room["id"])
    room_says(fake, room, "added action item")
    settle(bot, clock)
    clock.advance(timedelta(minutes=42))
    resolve(slack, fake, room, "Restarted the gateway")
    secret = declare_private(slack, fake, "Leaked signing token")
    resolve(slack, fake, secret, "Rotated the token")
    settle(bot, clock)


def digests(fake: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in fake.messages(DIGEST) if "Weekly incident digest" in (m.get("text") or "")]


def chart_shares(fake: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in fake.messages(DIGEST) if m.get("files")]


def check(replicas: list[Container], clock: RunningClock, moment: datetime) -> None:
    """What the daily check of every replica does at `moment`, at the same time; then the queued work runs."""
    clock.set(moment)
    checks = [DailyJobs(c.reminders, clock, weekly=c.digest.post_weekly) for c in replicas]
    threads = [threading.Thread(target=daily.tick) for daily in checks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for container in replicas:
        container.runner.run_pending()


def test_the_digest_is_posted_once_a_week_across_replicas_and_restarts(
    driver: SlackDriver, fake_slack: FakeSlack, bot: RunningBot, clock: RunningClock, digest_env: dict[str, Any]
) -> None:
    this_weeks_incidents(driver, fake_slack, bot, clock)
    settings = load_settings(digest_env)
    other = build_container(settings, clock=clock, poll_seconds=0.05)
    try:
        check([bot.container, other], clock, monday(8, 55))  # before DIGEST_TIME (Monday 09:00)
        assert digests(fake_slack) == []
        check([bot.container, other], clock, monday(9, 5))
        settle(bot, clock)
        fake_slack.wait_for(lambda: chart_shares(fake_slack))
        check([bot.container, other], clock, monday(11, 0))
    finally:
        other.close()
    restarted = build_container(settings, clock=clock, poll_seconds=0.05)
    try:
        check([restarted], clock, monday(15, 0))
        restarted.runner.run_pending()
    finally:
        restarted.close()
    settle(bot, clock)
    [digest] = digests(fake_slack)
    text = digest["text"]
    assert "16 Nov – 22 Nov 2026 (UTC)" in text
    assert "*2 incident(s)*: SEV-1 0 · SEV-2 2 · SEV-3 0 (1 private)" in text
    assert "Time to resolve (median / p90): SEV-2" in text
    assert "Their action items: 1 opened, 0 done, 1 open, 0% done" in text
    assert "Leaked signing token" not in text
    [share] = chart_shares(fake_slack)
    names = sorted(f["name"] for f in share["files"])
    assert names == [
        "incidents-per-week-2026-11-23.png",
        "open-action-items-2026-11-23.png",
        "time-to-resolve-2026-11-23.png",
    ]
    assert share["text"].startswith("Charts of the 12 weeks to 2026-11-22")
    uploads = fake_slack.uploaded_files()
    assert len(uploads) == 3 and all(f["completed"] and f["data"].startswith(b"\x89PNG\r\n\x1a\n") for f in uploads)
    assert len(fake_slack.calls("files.completeUploadExternal")) == 1

    check([bot.container], clock, monday(9, 5, weeks=1) - timedelta(days=1))  # Sunday: not the digest's day
    assert len(digests(fake_slack)) == 1
    check([bot.container], clock, monday(9, 5, weeks=1))
    settle(bot, clock)
    fake_slack.wait_for(lambda: len(chart_shares(fake_slack)) == 2)
    assert len(digests(fake_slack)) == 2
    assert "23 Nov – 29 Nov 2026" in digests(fake_slack)[-1]["text"]


def test_a_digest_slack_refuses_is_given_back_and_posted_by_a_later_check(
    bot: RunningBot, fake_slack: FakeSlack, clock: RunningClock
) -> None:
    fake_slack.fail_next("chat.postMessage", "channel_not_found", when=lambda args: args.get("channel") == DIGEST)
    check([bot.container], clock, monday(9, 5))
    settle(bot, clock)
    assert digests(fake_slack) == []
    check([bot.container], clock, monday(9, 10))
    settle(bot, clock)
    fake_slack.wait_for(lambda: chart_shares(fake_slack))
    assert len(digests(fake_slack)) == 1


@pytest.fixture
def cli(clock: RunningClock) -> Callable[..., CliRun]:
    return lambda env, *args: run_cli(env, *args, clock=clock)


def test_the_digest_command_prints_posts_once_and_says_what_it_could_not(
    digest_env: dict[str, Any], fake_slack: FakeSlack, cli: Callable[..., CliRun]
) -> None:
    dry = cli(digest_env, "digest", "--dry-run")
    assert dry.status == 0, dry.err
    # The test clock's Wednesday: the digest of the week before its Monday.
    assert "*Weekly incident digest*: 09 Nov – 15 Nov 2026 (UTC)" in dry.out
    assert "incidents-per-week-2026-11-16.png" in dry.out
    assert fake_slack.messages(DIGEST) == [] and fake_slack.calls("files.getUploadURLExternal") == []

    posted = cli(digest_env, "digest")
    assert posted.status == 0, posted.err
    assert "posted the digest of 2026-11-09 – 2026-11-15 to CDIGEST0001, with its charts" in posted.out
    assert len(digests(fake_slack)) == 1 and len(chart_shares(fake_slack)) == 1
    again = cli(digest_env, "digest")
    assert again.status == 0 and "was already posted" in again.out
    assert len(digests(fake_slack)) == 1

    fake_slack.add_channel("not-joined", members=[COMMANDER], channel_id="CNOTJOINED1", bot_is_member=False)
    elsewhere = cli({**digest_env, "DIGEST_CHANNEL": "CNOTJOINED1"}, "digest")
    assert elsewhere.status == 1
    assert "posted the digest to CNOTJOINED1, but not its charts" in elsewhere.err and "not_in_channel" in elsewhere.err

    nowhere = cli({k: v for k, v in digest_env.items() if k != "DIGEST_CHANNEL"}, "digest")
    assert nowhere.status == 2 and "neither DIGEST_CHANNEL nor BRIEFING_CHANNEL is set" in nowhere.err


def test_a_bad_digest_time_stops_the_command_naming_it(digest_env: dict[str, Any], cli: Callable[..., CliRun]) -> None:
    result = cli({**digest_env, "DIGEST_TIME": "someday 25:00"}, "digest", "--dry-run")
    assert result.status == 2
    assert "DIGEST_TIME" in result.err and "Monday 09:00" in result.err


def test_the_home_tab_shows_the_last_30_days(
    driver: SlackDriver, fake_slack: FakeSlack, bot: RunningBot, clock: RunningClock
) -> None:
    this_weeks_incidents(driver, fake_slack, bot, clock)
    open_home(driver, COMMANDER)
    home = home_of(fake_slack, COMMANDER, showing="The last 30 days")
    text = all_text(home)
    assert "*2 incident(s)*: SEV-1 0 · SEV-2 2 · SEV-3 0 (1 private)" in text
    assert "Median time to resolve: SEV-2" in text
    assert "Action items: 1 opened, 0 done (0% done), 1 open · 0 overdue · 0 incident(s) without" in text
    assert "Leaked signing token" not in text.split("The last 30 days")[1]
