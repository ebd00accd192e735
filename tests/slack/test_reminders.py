"""Action items that get done: DMs on resolve, daily reminders, the briefing, the RCA kept true."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.config import Settings, load_settings
from bot.container import build_container
from bot.core.open_items import Person
from bot.demo.docs_repo import DocsRepo
from bot.scan_process import ScanInChildProcess, wire_scan
from bot.scheduler import DailyJobs
from bot.server import RunningBot
from bot.services.context import ServiceContext
from bot.startup import open_database
from bot.storage import SqlUnitOfWork
from slack_sim import FakeSlack, SlackDriver
from tests.paths import HAND_WRITTEN_RCA
from tests.slack.conftest import (
    COMMANDER,
    RESPONDER,
    all_text,
    button_texts,
    driver_for,
    start_bot,
    wait_until_idle,
)
from tests.slack.test_resolve import declare, open_resolve_form, room_says
from tests.support.clock import START, TODAY, RunningClock

HAND_WRITTEN = HAND_WRITTEN_RCA
# What `serve` logs when the scan's own process gave nothing back and it scanned in its own.
FELL_BACK = "the scan's own process failed"


def tomorrow_at(hour: int, minute: int = 0, *, days: int = 1) -> datetime:
    """A moment `days` after the test clock's first day (UTC)."""
    base = START.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=days)
    return base.replace(hour=hour, minute=minute)


@pytest.fixture
def reminder_env(bot_env: dict[str, Any], fake_slack: FakeSlack) -> dict[str, Any]:
    fake_slack.add_user("UMATT", "matt", real_name="Matt Example", tz="America/New_York", tz_offset=-18000)
    fake_slack.add_user("UCAROL", "carol", real_name="Carol Stranger")
    fake_slack.add_channel("briefing", members=[COMMANDER], channel_id="CBRIEF")
    return {**bot_env, "BRIEFING_CHANNEL": "CBRIEF", "REMINDER_TIME": "09:00", "BRIEFING_TIME": "08:00"}


@pytest.fixture
def bot(reminder_env: dict[str, Any], clock: RunningClock) -> Iterator[RunningBot]:
    running = start_bot(load_settings(reminder_env), clock)
    yield running
    running.stop()


@pytest.fixture
def driver(bot: RunningBot, fake_slack: FakeSlack) -> SlackDriver:
    return driver_for(bot, fake_slack)


def tick(bot: RunningBot, clock: RunningClock, moment: datetime) -> None:
    """What the scheduler inside `serve` does at `moment`; then let the queued DMs go out."""
    clock.set(moment)
    DailyJobs(bot.container.reminders, clock).tick()
    bot.container.runner.run_pending()
    # The bot's own job threads may have taken some of the work: wait until all of it is done.
    wait_until_idle(bot)


def resolved_with_item(driver: SlackDriver, fake: FakeSlack, title: str, owner: str = RESPONDER) -> dict[str, Any]:
    room = declare(driver, fake, f"sev2 {title}")
    driver.command("/incident", f"action <@{owner}> Add a startup check", user=COMMANDER, channel=room["id"])
    driver.submit(COMMANDER, open_resolve_form(driver, fake, room), {"Summary": f"{title} fixed"})
    room_says(fake, room, "RCA `DOCS/incidents/")
    return room


def hand_written_row_says(fake: FakeSlack, docs: DocsRepo, status: str) -> None:
    """Wait until the pushed hand-written RCA shows item #3 with `status`."""
    row = f"| 3 | Page a human when 3+ agents fail within 10 minutes | @matt | {status} |"
    fake.wait_for(lambda: row in (docs.remote_file(HAND_WRITTEN) or ""), timeout=10)


def reminders_to(fake: FakeSlack, user_id: str) -> list[dict[str, Any]]:
    return [m for m in fake.dms_to(user_id) if "Your open incident action items" in all_text(m)]


def test_owner_is_dmed_reminded_each_morning_and_done_is_written_to_the_rca(
    driver: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo, bot: RunningBot, clock: RunningClock
) -> None:
    room = resolved_with_item(driver, fake_slack, "Gateway flapping")
    dm = fake_slack.wait_for(lambda: fake_slack.dms_to(RESPONDER))
    assert len(dm) == 1
    text = all_text(dm[0])
    assert "Gateway flapping" in text and "is resolved" in text and "#1" in text and "Add a startup check" in text
    assert f"<#{room['id']}>" in text and "https://github.example/team/fleet/blob/main/DOCS/incidents/" in text
    assert button_texts(dm[0]) == ["Mark done", "In progress"]

    tick(bot, clock, tomorrow_at(8, 30))  # bob is in UTC: not yet 09:00
    assert reminders_to(fake_slack, RESPONDER) == []
    tick(bot, clock, tomorrow_at(9, 5))
    assert len(reminders_to(fake_slack, RESPONDER)) == 1
    tick(bot, clock, tomorrow_at(17, 0))
    assert len(reminders_to(fake_slack, RESPONDER)) == 1  # once per local day

    reminder = reminders_to(fake_slack, RESPONDER)[0]
    answer = driver.click(RESPONDER, reminder, "Mark done", channel=fake_slack.dm_channel(RESPONDER))
    assert answer.status == 200
    path = f"DOCS/incidents/{TODAY}-gateway-flapping-rca.md"
    fake_slack.wait_for(lambda: "| ✅ DONE |" in (docs_repo.remote_file(path) or ""), timeout=10)
    assert "action item #1 ✅ DONE" in docs_repo.remote_log()[0]
    assert docs_repo.remote_commit_files() == [path]
    room_says(fake_slack, room, "marked action item *#1* ✅ DONE")
    timeline = all_text(driver.command("/incident", "timeline", user=COMMANDER, channel=room["id"]).json())
    assert "Action item #1 marked ✅ DONE" in timeline

    tick(bot, clock, tomorrow_at(9, 5, days=2))
    assert len(reminders_to(fake_slack, RESPONDER)) == 1  # never reminded of it again


def test_reminders_follow_each_owners_time_zone(
    driver: SlackDriver, fake_slack: FakeSlack, bot: RunningBot, clock: RunningClock
) -> None:
    resolved_with_item(driver, fake_slack, "Queue stuck", owner="UMATT")  # matt lives in New York
    tick(bot, clock, tomorrow_at(13, 30))  # 08:30 in New York
    assert reminders_to(fake_slack, "UMATT") == []
    tick(bot, clock, tomorrow_at(14, 5))  # 09:05 in New York
    assert len(reminders_to(fake_slack, "UMATT")) == 1
    tick(bot, clock, tomorrow_at(4, 0, days=2))  # 23:00 the same New York day
    assert len(reminders_to(fake_slack, "UMATT")) == 1


def test_hand_written_rca_items_are_reminded_briefed_and_can_be_marked_done(
    driver: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo, bot: RunningBot, clock: RunningClock
) -> None:
    tick(bot, clock, tomorrow_at(14, 5))
    reminder = reminders_to(fake_slack, "UMATT")
    assert len(reminder) == 1
    assert "Page a human when 3+ agents fail" in all_text(reminder[0])

    briefing = fake_slack.wait_for(lambda: fake_slack.messages("CBRIEF"))[0]["text"]
    assert "🔔 #3 Page a human when 3+ agents fail within 10 minutes — <@UMATT> · Open" in briefing
    assert "🔔 #4 Update the redeploy runbook with a config checklist — unassigned (@docs) · In progress" in briefing
    assert "Move `auth-profiles.json`" not in briefing  # done items are not briefed

    driver.click("UCAROL", reminder[0], "Mark done", channel=fake_slack.dm_channel("UCAROL"))
    refused = fake_slack.wait_for(lambda: fake_slack.responses(user="UCAROL"))
    assert "only its owner (<@UMATT>)" in refused[-1]["text"]
    driver.click("UMATT", reminder[0], "Mark done", channel=fake_slack.dm_channel("UMATT"))
    hand_written_row_says(fake_slack, docs_repo, "✅ DONE")


def test_done_command_permissions_and_bad_numbers(
    driver: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo, bot: RunningBot
) -> None:
    room = resolved_with_item(driver, fake_slack, "Cache poisoned")
    wrong = driver.command("/incident", "done 7", user=COMMANDER, channel=room["id"])
    assert "no action item #7" in wrong.json()["text"] and "#1" in wrong.json()["text"]
    stranger = driver.command("/incident", "done 1", user="UCAROL", channel=room["id"])
    assert "only the item's owner <@UBOB>, people in" in stranger.json()["text"]
    done = driver.command("/incident", "done 1", user=COMMANDER, channel=room["id"])
    assert "now ✅ DONE" in done.json()["text"]
    path = f"DOCS/incidents/{TODAY}-cache-poisoned-rca.md"
    fake_slack.wait_for(lambda: "| ✅ DONE |" in (docs_repo.remote_file(path) or ""), timeout=10)
    again = driver.command("/incident", "done 1", user=COMMANDER, channel=room["id"])
    assert "already ✅ DONE" in again.json()["text"]


def test_marking_done_in_git_stops_the_reminders(
    driver: SlackDriver,
    fake_slack: FakeSlack,
    docs_repo: DocsRepo,
    bot: RunningBot,
    clock: RunningClock,
    tmp_path: Any,
) -> None:
    resolved_with_item(driver, fake_slack, "Disk full")
    path = f"DOCS/incidents/{TODAY}-disk-full-rca.md"
    editor = docs_repo.person_clone(tmp_path / "editor")
    file = tmp_path / "editor" / path
    file.write_text(file.read_text().replace("| Open |", "| ✅ DONE |"))
    editor.git.commit("-am", "Done by hand")
    editor.git.push()
    tick(bot, clock, tomorrow_at(9, 5))
    assert reminders_to(fake_slack, RESPONDER) == []


def test_two_instances_sharing_a_database_remind_once(
    driver: SlackDriver, fake_slack: FakeSlack, bot: RunningBot, clock: RunningClock, reminder_env: dict[str, Any]
) -> None:
    resolved_with_item(driver, fake_slack, "Two replicas")
    other = build_container(load_settings(reminder_env), clock=clock, poll_seconds=0.05)
    try:
        clock.set(tomorrow_at(9, 5))
        replicas = [DailyJobs(bot.container.reminders, clock), DailyJobs(other.reminders, clock)]
        threads = [threading.Thread(target=replica.tick) for replica in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        bot.container.runner.run_pending()
        other.runner.run_pending()
        wait_until_idle(bot)
    finally:
        other.close()
    assert len(reminders_to(fake_slack, RESPONDER)) == 1
    assert len(fake_slack.messages("CBRIEF")) == 1


def test_rate_limited_dms_are_retried_and_sent_once(
    driver: SlackDriver, fake_slack: FakeSlack, bot: RunningBot, clock: RunningClock
) -> None:
    resolved_with_item(driver, fake_slack, "Rate limits")
    fake_slack.wait_for(lambda: fake_slack.dms_to(RESPONDER))
    fake_slack.rate_limit("chat.postMessage", retry_after=1, times=2)
    tick(bot, clock, tomorrow_at(9, 5))
    fake_slack.wait_for(lambda: reminders_to(fake_slack, RESPONDER), timeout=10)
    assert len(reminders_to(fake_slack, RESPONDER)) == 1


def test_briefing_lists_overdue_items_first_and_missing_rcas(
    driver: SlackDriver,
    fake_slack: FakeSlack,
    docs_repo: DocsRepo,
    bot: RunningBot,
    clock: RunningClock,
    settings: Settings,
) -> None:
    resolved_with_item(driver, fake_slack, "Old outage")
    tick(bot, clock, tomorrow_at(8, 5, days=3))  # three days later: past SEV-2's same-day response time
    briefing = fake_slack.wait_for(lambda: fake_slack.messages("CBRIEF"))[0]["text"]
    assert briefing.startswith("*Daily incident briefing*")
    old = briefing.index("Add a startup check")
    assert "past response time" in briefing[old : briefing.index("\n", old) if "\n" in briefing[old:] else None]
    tick(bot, clock, tomorrow_at(12, 0, days=3))
    assert len(fake_slack.messages("CBRIEF")) == 1  # once a day


def test_briefing_flags_a_resolved_incident_whose_rca_is_gone(
    driver: SlackDriver,
    fake_slack: FakeSlack,
    docs_repo: DocsRepo,
    bot: RunningBot,
    clock: RunningClock,
    tmp_path: Any,
) -> None:
    resolved_with_item(driver, fake_slack, "Vanished report")
    editor = docs_repo.person_clone(tmp_path / "editor")
    editor.git.rm(f"DOCS/incidents/{TODAY}-vanished-report-rca.md")
    editor.git.commit("-m", "Remove an RCA by mistake")
    editor.git.push()
    tick(bot, clock, tomorrow_at(8, 5))
    briefing = fake_slack.wait_for(lambda: fake_slack.messages("CBRIEF"))[0]["text"]
    assert "*Resolved without an RCA in the docs repo*" in briefing
    assert "🔔 SEV-2 Vanished report — resolved, RCA missing" in briefing


def test_one_reminder_lists_all_of_an_owners_items_across_incidents_oldest_first(
    driver: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo, bot: RunningBot, clock: RunningClock
) -> None:
    room = resolved_with_item(driver, fake_slack, "Newer outage", owner="UMATT")
    tick(bot, clock, tomorrow_at(14, 5))
    reminder = reminders_to(fake_slack, "UMATT")
    assert len(reminder) == 1
    text = all_text(reminder[0])
    assert text.index("Page a human when 3+ agents fail") < text.index("Add a startup check")
    assert "Gateway auth outage" in text and "Newer outage" in text
    assert button_texts(reminder[0]) == ["Mark done", "In progress"] * 2

    # The first button is the oldest item's: the hand-written RCA's #3.
    driver.click("UMATT", reminder[0], "In progress", channel=fake_slack.dm_channel("UMATT"))
    hand_written_row_says(fake_slack, docs_repo, "In progress")
    assert "| 1 | Add a startup check |" in (docs_repo.remote_file(f"DOCS/incidents/{TODAY}-newer-outage-rca.md") or "")
    assert room["id"]


@pytest.mark.parametrize("scan_in_child", [False, True], ids=["scanning-here", "scanning-apart"])
def test_serve_runs_the_daily_jobs_by_itself(
    reminder_env: dict[str, Any],
    fake_slack: FakeSlack,
    clock: RunningClock,
    scan_in_child: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = {**reminder_env, "DAILY_CHECK_SECONDS": "0.2", "REMINDER_TIME": "00:00", "BRIEFING_TIME": "00:00"}
    running = RunningBot(
        load_settings(env),
        host="127.0.0.1",
        port=0,
        build=lambda s: build_container(s, clock=clock, poll_seconds=0.05, scan_in_child=scan_in_child),
    )
    try:
        driver = driver_for(running, fake_slack)
        resolved_with_item(driver, fake_slack, "Scheduler check")
        fake_slack.wait_for(lambda: reminders_to(fake_slack, RESPONDER))
        fake_slack.wait_for(lambda: fake_slack.messages("CBRIEF"))
        # Three more checks of who is due, and whatever they queued done: still one of each today.
        checked = running.daily_checks
        fake_slack.wait_for(lambda: running.daily_checks >= checked + 3)
        wait_until_idle(running)
        assert len(reminders_to(fake_slack, RESPONDER)) == 1
        assert len(fake_slack.messages("CBRIEF")) == 1
    finally:
        running.stop()
    assert FELL_BACK not in caplog.text


@pytest.fixture
def bot_scanning_apart(reminder_env: dict[str, Any], clock: RunningClock) -> Iterator[RunningBot]:
    """`serve` as `incident-bot serve` wires it: the daily runs' scan in a process of its own."""
    running = RunningBot(
        load_settings(reminder_env),
        host="127.0.0.1",
        port=0,
        build=lambda s: build_container(s, clock=clock, poll_seconds=0.05, scan_in_child=True),
    )
    yield running
    running.stop()


def test_a_scan_in_a_process_of_its_own_reminds_briefs_and_follows_the_files(
    bot_scanning_apart: RunningBot,
    fake_slack: FakeSlack,
    docs_repo: DocsRepo,
    clock: RunningClock,
    tmp_path: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = bot_scanning_apart
    driver = driver_for(bot, fake_slack)
    disk_full = resolved_with_item(driver, fake_slack, "Disk full")
    # Someone marks the incident's one item done by editing its RCA in git.
    editor = docs_repo.person_clone(tmp_path / "editor")
    file = tmp_path / "editor" / f"DOCS/incidents/{TODAY}-disk-full-rca.md"
    file.write_text(file.read_text().replace("| Open |", "| ✅ DONE |"))
    editor.git.commit("-am", "Done by hand")
    editor.git.push()

    tick(bot, clock, tomorrow_at(14, 5))  # 09:05 in New York, where matt lives

    assert reminders_to(fake_slack, RESPONDER) == []  # done in git: not reminded
    reminder = reminders_to(fake_slack, "UMATT")
    assert len(reminder) == 1
    assert "Page a human when 3+ agents fail" in all_text(reminder[0])  # a hand-written RCA's row
    briefing = fake_slack.wait_for(lambda: fake_slack.messages("CBRIEF"))[0]["text"]
    assert "🔔 #3 Page a human when 3+ agents fail within 10 minutes — <@UMATT> · Open" in briefing
    # The database followed the file: the item is done for the bot too.
    done = driver.command("/incident", "done 1", user=COMMANDER, channel=disk_full["id"])
    assert "already ✅ DONE" in done.json()["text"]
    assert FELL_BACK not in caplog.text


@pytest.mark.parametrize(
    ("child", "falls_back"),
    [
        (None, False),
        ([sys.executable, "-c", "import sys; sys.exit(3)"], True),  # it crashed
        ([sys.executable, "-c", "print('not a scan')"], True),  # it answered something else
        ([sys.executable, "-c", "import sys; sys.stdout.buffer.write((99).to_bytes(8, 'big') + b'x')"], True),  # cut
    ],
    ids=["child", "crashed", "garbled", "cut-short"],
)
def test_the_scan_apart_finds_what_the_scan_here_finds_and_falls_back_to_it(
    settings: Settings, clock: RunningClock, child: list[str] | None, falls_back: bool, caplog: pytest.LogCaptureFixture
) -> None:
    engine = open_database(settings.database_url)
    try:
        ctx = ServiceContext(
            uow=lambda: SqlUnitOfWork(engine, clock=clock),
            read=lambda: SqlUnitOfWork(engine, clock=clock, read_only=True),
            clock=clock,
        )
        people = [Person(id="UMATT", name="matt", real_name="Matt Example", tz="America/New_York")]
        here = wire_scan(settings, ctx).scan(people=people)
        inline = wire_scan(settings, ctx)
        apart = ScanInChildProcess(settings, inline, command=child) if child else ScanInChildProcess(settings, inline)
        found = apart.scan(people=people)
    finally:
        engine.dispose()
    assert [item.action for item in here.items if item.owner_id == "UMATT"] == [
        "Page a human when 3+ agents fail within 10 minutes"
    ]
    assert found == here
    assert (FELL_BACK in caplog.text) is falls_back
