"""The incident channel kept: its bookmarks, its archiving after the resolve, and a working channel again
when the incident is reopened after that."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.config import ConfigError, Settings, load_settings
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import (
    COMMANDER,
    RESPONDER,
    all_text,
    bot_posts,
    driver_for,
    incident_channel,
    settle,
    start_bot,
    wait_until_idle,
)
from tests.slack.test_metrics import scrape, value
from tests.support.clock import TODAY, RunningClock

WEB = "https://github.example/team/fleet/blob/main"
ARCHIVING = "archiving this channel now"
REOPENED = "reopened this incident"


@pytest.fixture
def archiving_bot(settings: Settings, clock: RunningClock) -> Iterator[RunningBot]:
    """A bot that archives a resolved incident's channel half a day after the resolve."""
    bot = start_bot(settings, clock, archive_after_days=0.5)
    yield bot
    bot.stop()


def driver(bot: RunningBot, fake: FakeSlack) -> SlackDriver:
    return driver_for(bot, fake)


def declare(slack: SlackDriver, fake: FakeSlack, text: str) -> dict[str, Any]:
    """Alice declares; bob joins the channel to help."""
    slack.command("/incident", text, user=COMMANDER, channel="CGENERAL")
    room = incident_channel(fake)
    fake.join(room["id"], RESPONDER)
    return room


def resolve(slack: SlackDriver, fake: FakeSlack, room: dict[str, Any], summary: str = "Fixed it") -> None:
    before = len(fake.views())
    slack.command("/incident", "resolve", user=COMMANDER, channel=room["id"])
    form = fake.wait_for(lambda: fake.views()[before:])[-1]
    answer = slack.submit(COMMANDER, form, {"Summary": summary})
    assert answer.status == 200 and "errors" not in answer.text


def bookmarks(fake: FakeSlack, room_id: str, *, at_least: int) -> dict[str, str]:
    """The channel's bookmarks (title -> link), once it has `at_least` of them."""

    def found() -> dict[str, str] | None:
        marks = {mark["title"]: mark["link"] for mark in fake.bookmarks(room_id)}
        return marks if len(marks) >= at_least else None

    return fake.wait_for(found)


def waiting_only_for_the_archive(bot: RunningBot, fake: FakeSlack, *, archives: int = 1) -> None:
    """Wait until everything but the archiving (due later) is done."""
    jobs = bot.container.jobs
    fake.wait_for(lambda: jobs.pending() == jobs.outstanding("archive_room") == archives)


def later(bot: RunningBot, clock: RunningClock, hours: float) -> None:
    clock.advance(timedelta(hours=hours))
    bot.container.runner.wake()


def reopen_from_general(slack: SlackDriver, room: dict[str, Any]) -> Any:
    return slack.command("/incident", f"reopen <#{room['id']}|{room['name']}>", user=COMMANDER, channel="CGENERAL")


def test_the_channel_bookmarks_the_runbook_and_the_announcement_then_the_rca(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    room = declare(slack, fake_slack, "sev2 Checkout errors")
    marks = bookmarks(fake_slack, room["id"], at_least=2)
    assert marks["Runbook"] == f"{WEB}/runbooks/incident-response.md"
    announcement = next(m for m in fake_slack.messages("CANNOUNCE") if "Checkout errors" in all_text(m))
    expected = f"https://fake-workspace.slack.com/archives/CANNOUNCE/p{announcement['ts'].replace('.', '')}"
    assert marks["Announcement"] == expected

    resolve(slack, fake_slack, room)
    marks = bookmarks(fake_slack, room["id"], at_least=3)
    assert marks["RCA"] == f"{WEB}/DOCS/incidents/{TODAY}-checkout-errors-rca.md"
    assert len(fake_slack.bookmarks(room["id"])) == 3


def test_a_bookmark_slack_refuses_is_logged_and_holds_nothing_up(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    fake_slack.fail_next("bookmarks.add", "missing_scope", times=2)
    room = declare(slack, fake_slack, "sev2 Search slow")
    fake_slack.wait_for(lambda: bot_posts(fake_slack, "CANNOUNCE", "Search slow"))
    wait_until_idle(running_bot)
    assert fake_slack.bookmarks(room["id"]) == []
    assert not fake_slack.unmet_faults()
    assert "could not bookmark" in caplog.text
    # Nobody is told of it: the incident goes on as usual.
    assert not [m for m in fake_slack.everything_the_bot_said() if "Sorry" in all_text(m)]


def test_a_bookmark_whose_answer_was_lost_is_not_added_twice(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot, clock: RunningClock
) -> None:
    fake_slack.lose_response("bookmarks.add", when=lambda args: args.get("title") == "Runbook")
    room = declare(slack, fake_slack, "sev2 Disk full")
    bookmarks(fake_slack, room["id"], at_least=2)
    settle(running_bot, clock)
    assert not fake_slack.unmet_faults() and fake_slack.calls("bookmarks.list")
    assert sorted(mark["title"] for mark in fake_slack.bookmarks(room["id"])) == ["Announcement", "Runbook"]


def test_a_resolved_channel_is_archived_after_the_delay_with_a_notice_first_and_a_reopen_brings_it_back(
    archiving_bot: RunningBot, fake_slack: FakeSlack, clock: RunningClock
) -> None:
    slack = driver(archiving_bot, fake_slack)
    room = declare(slack, fake_slack, "sev2 Queue backlog")
    resolve(slack, fake_slack, room)
    waiting_only_for_the_archive(archiving_bot, fake_slack)
    metrics = scrape(archiving_bot)  # the archive a day out is scheduled work, not a backlog
    assert value(metrics, "incident_bot_job_queue_depth") == 0 and value(metrics, "incident_bot_jobs_scheduled") == 1
    later(archiving_bot, clock, 11)
    waiting_only_for_the_archive(archiving_bot, fake_slack)
    assert not fake_slack.channel(room["id"])["is_archived"]
    assert not bot_posts(fake_slack, room["id"], ARCHIVING)

    later(archiving_bot, clock, 2)
    fake_slack.wait_for(lambda: fake_slack.channel(room["id"])["is_archived"])
    last = fake_slack.messages(room["id"])[-1]
    assert ARCHIVING in last["text"] and f"/incident reopen #{room['name']}" in last["text"]
    assert "<!date^" in last["text"]
    assert fake_slack.calls("conversations.archive")[-1][1]["channel"] == room["id"]

    answer = reopen_from_general(slack, room)
    assert answer.json()["response_type"] == "ephemeral" and "Reopened *Queue backlog*" in answer.json()["text"]
    fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], REOPENED))
    assert not fake_slack.channel(room["id"])["is_archived"]
    assert [c["name"] for c in fake_slack.channels() if c["name"].startswith("inc-")] == [room["name"]]
    status = slack.command("/incident", "status", user=COMMANDER, channel=room["id"]).json()["text"]
    assert "Status: Active" in status


def test_when_slack_will_not_unarchive_a_new_channel_carries_the_incident_and_links_the_old_one(
    archiving_bot: RunningBot, fake_slack: FakeSlack, clock: RunningClock
) -> None:
    slack = driver(archiving_bot, fake_slack)
    room = declare(slack, fake_slack, "sev2 Payments timing out")
    resolve(slack, fake_slack, room)
    waiting_only_for_the_archive(archiving_bot, fake_slack)
    later(archiving_bot, clock, 13)
    fake_slack.wait_for(lambda: fake_slack.channel(room["id"])["is_archived"])
    # What Slack answers a bot token today: it cannot unarchive.
    fake_slack.fail_next("conversations.unarchive", "not_in_channel")

    reopen_from_general(slack, room)
    new = fake_slack.wait_for(
        lambda: next((c for c in fake_slack.channels() if c["name"] == f"{room['name']}-2"), None)
    )
    fake_slack.wait_for(lambda: bot_posts(fake_slack, new["id"], REOPENED))
    assert fake_slack.channel(room["id"])["is_archived"] and not fake_slack.unmet_faults()
    assert {COMMANDER, RESPONDER} <= set(fake_slack.channel(new["id"])["members"])
    assert fake_slack.channel(new["id"])["topic"] == "SEV-2 · Payments timing out"
    texts = [all_text(m) for m in fake_slack.messages(new["id"])]
    assert any(f"<#{room['id']}>" in text and "continues here" in text for text in texts)
    assert any("Payments timing out" in text and "Resolve" in text for text in texts)  # a fresh summary
    assert bookmarks(fake_slack, new["id"], at_least=2)["RCA"].endswith(f"{TODAY}-payments-timing-out-rca.md")
    status = slack.command("/incident", "status", user=COMMANDER, channel=new["id"]).json()["text"]
    assert "Status: Active" in status

    # Its next resolve is said, and archived in time, in the new channel.
    resolve(slack, fake_slack, new, summary="Fixed for good")
    fake_slack.wait_for(lambda: bot_posts(fake_slack, new["id"], "resolved"))


def test_a_reopen_before_the_archive_time_keeps_the_channel_and_only_the_last_resolve_archives(
    archiving_bot: RunningBot, fake_slack: FakeSlack, clock: RunningClock
) -> None:
    slack = driver(archiving_bot, fake_slack)
    room = declare(slack, fake_slack, "sev2 Cache stampede")
    resolve(slack, fake_slack, room)
    waiting_only_for_the_archive(archiving_bot, fake_slack)
    slack.command("/incident", "reopen", user=COMMANDER, channel=room["id"])
    fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], REOPENED))
    later(archiving_bot, clock, 13)
    wait_until_idle(archiving_bot)
    assert not fake_slack.channel(room["id"])["is_archived"]
    assert not bot_posts(fake_slack, room["id"], ARCHIVING)

    resolve(slack, fake_slack, room, summary="Really fixed")
    slack.command("/incident", "reopen", user=COMMANDER, channel=room["id"])
    fake_slack.wait_for(lambda: len(bot_posts(fake_slack, room["id"], REOPENED)) == 2)
    resolve(slack, fake_slack, room, summary="Really, really fixed")
    waiting_only_for_the_archive(archiving_bot, fake_slack, archives=2)
    later(archiving_bot, clock, 13)
    wait_until_idle(archiving_bot)
    assert fake_slack.channel(room["id"])["is_archived"]
    assert len(bot_posts(fake_slack, room["id"], ARCHIVING)) == 1
    assert len(fake_slack.calls("conversations.archive")) == 1


def test_archive_after_days_0_never_archives(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot, clock: RunningClock
) -> None:
    assert running_bot.container.settings.archive_after_days == 0
    room = declare(slack, fake_slack, "sev3 Flaky deploy")
    resolve(slack, fake_slack, room)
    wait_until_idle(running_bot)
    later(running_bot, clock, 24 * 30)
    wait_until_idle(running_bot)
    assert not fake_slack.channel(room["id"])["is_archived"]
    assert not fake_slack.calls("conversations.archive")


def test_a_reopen_from_elsewhere_must_name_an_incident_channel(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    elsewhere = slack.command("/incident", "reopen <#CGENERAL|general>", user=COMMANDER, channel="CGENERAL")
    assert "<#CGENERAL> is not an incident's channel" in elsewhere.json()["text"]
    vague = slack.command("/incident", "reopen yesterday's outage", user=COMMANDER, channel="CGENERAL")
    assert "`/incident reopen #its-channel`" in vague.json()["text"]
    room = declare(slack, fake_slack, "sev2 Login loop")
    active = reopen_from_general(slack, room)
    assert "still active" in active.json()["text"]


def test_archive_after_days_is_a_non_negative_number_of_days(bot_env: dict[str, Any]) -> None:
    assert load_settings({k: v for k, v in bot_env.items() if k != "ARCHIVE_AFTER_DAYS"}).archive_after_days == 7
    assert load_settings({**bot_env, "ARCHIVE_AFTER_DAYS": "0.25"}).archive_after_days == 0.25
    for bad in ("-1", "a week", "inf"):
        with pytest.raises(ConfigError, match="ARCHIVE_AFTER_DAYS"):
            load_settings({**bot_env, "ARCHIVE_AFTER_DAYS": bad})


def test_a_reopen_that_lands_while_the_channel_is_being_archived_gets_the_channel_back(
    archiving_bot: RunningBot, fake_slack: FakeSlack, clock: RunningClock
) -> None:
    slack = driver(archiving_bot, fake_slack)
    room = declare(slack, fake_slack, "sev2 Cache stampede")
    resolve(slack, fake_slack, room)
    waiting_only_for_the_archive(archiving_bot, fake_slack)
    held = fake_slack.hold("conversations.archive")
    later(archiving_bot, clock, 13)
    fake_slack.wait_for(held.reached.is_set)  # the archive job has looked (resolved) and is archiving
    answer = slack.command("/incident", "reopen", user=COMMANDER, channel=room["id"])
    assert "Reopened" in answer.json()["text"]
    fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], REOPENED))  # its check: the channel is open
    held.release()
    fake_slack.wait_for(lambda: fake_slack.calls("conversations.unarchive"))
    fake_slack.wait_for(lambda: not fake_slack.channel(room["id"])["is_archived"])
    wait_until_idle(archiving_bot)
    assert len(bot_posts(fake_slack, room["id"], REOPENED)) == 1  # said once
    status = slack.command("/incident", "status", user=COMMANDER, channel=room["id"]).json()["text"]
    assert "Status: Active" in status
