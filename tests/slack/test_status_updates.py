"""Status updates: `/incident update` (or its form) posts them; a cadence asks for the next one, once per interval."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.config import Settings
from bot.core.models import TimelineKind
from bot.core.rca_parse import parse_rca
from bot.demo.docs_repo import DocsRepo
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, RESPONDER, all_text, bot_posts, driver_for, start_bot
from tests.slack.test_replicas import at_once
from tests.slack.test_resolve import declare, open_resolve_form, room_says
from tests.support.clock import TODAY, RunningClock

NUDGE = "time for a status update"
EVERY = timedelta(minutes=1)  # STATUS_UPDATE_MINUTES="SEV-1=1"
# How far past an interval's end the tests move the clock. The tests jump the clock, so a long interval
# costs no time; the rest of it (59.8 s of real time) is what each step has before the next interval
# ends on its own, which no loaded machine runs out of.
PAST = timedelta(milliseconds=200)


@pytest.fixture
def fast(settings: Settings, clock: RunningClock) -> Iterator[RunningBot]:
    """A bot whose SEV-1s are due an update every minute."""
    bot = start_bot(settings, clock, status_update_minutes="SEV-1=1")
    yield bot
    bot.stop()


def announcement(fake: FakeSlack) -> dict[str, Any]:
    return fake.wait_for(lambda: bot_posts(fake, "CANNOUNCE", "declared"))[0]


def thread_replies(fake: FakeSlack, parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in fake.messages("CANNOUNCE") if m["thread_ts"] == parent["ts"] and m["ts"] != parent["ts"]]


def updates_in(fake: FakeSlack, room: dict[str, Any]) -> list[dict[str, Any]]:
    return bot_posts(fake, room["id"], "Status update (")


def nudges(fake: FakeSlack, room: dict[str, Any]) -> list[dict[str, Any]]:
    return bot_posts(fake, room["id"], NUDGE)


def declared_at(bot: RunningBot, room: dict[str, Any]) -> datetime:
    with bot.container.ctx.reader() as uow:
        incident = uow.incidents.by_room(room["id"])
    assert incident is not None
    return incident.declared_at


def last_update_at(bot: RunningBot, room: dict[str, Any]) -> datetime:
    with bot.container.ctx.reader() as uow:
        incident = uow.incidents.by_room(room["id"])
        assert incident is not None and incident.id is not None
        entries = uow.timeline.for_incident(incident.id)
    return [entry.occurred_at for entry in entries if entry.kind is TimelineKind.STATUS_UPDATE][-1]


def nudges_sent(bot: RunningBot, timeout: float = 20.0) -> None:
    """Wait until every nudge queued so far has run (posted, or found no longer due)."""
    deadline = time.monotonic() + timeout
    while bot.container.jobs.outstanding("nudge_for_update") and time.monotonic() < deadline:
        time.sleep(0.02)
    assert bot.container.jobs.outstanding("nudge_for_update") == 0, "a nudge did not run"


def move_to(clock: RunningClock, moment: datetime) -> None:
    """Move the clock on to `moment` (where it is already past it, it stays)."""
    clock.catch_up(moment)


def look_at(bot: RunningBot, clock: RunningClock, moment: datetime) -> int:
    """Move the clock to `moment`, look for missed updates as the running bot does, and wait for the nudges.

    Returns how many this look queued (the bot's own looks, every 6 s here, may have queued them first).
    """
    move_to(clock, moment)
    queued = bot.cadence.tick()
    nudges_sent(bot)
    return queued


def test_an_update_is_posted_in_the_channel_and_in_the_sev1_announcements_thread(
    slack: SlackDriver, fake_slack: FakeSlack
) -> None:
    room = declare(slack, fake_slack, "sev1 Checkout returns 500s")
    announced = announcement(fake_slack)
    answer = slack.command(
        "/incident", "update Failed over to the replica; 90% of checkouts succeed", user=COMMANDER, channel=room["id"]
    ).json()
    assert answer["response_type"] == "ephemeral"
    assert "Posting your status update here and in the thread of its announcement in <#CANNOUNCE>" in answer["text"]

    posted = fake_slack.wait_for(lambda: updates_in(fake_slack, room))
    assert len(posted) == 1
    shown = all_text(posted[0])
    assert posted[0]["text"].startswith(f"Status update (SEV-1) from <@{COMMANDER}>:")
    assert "*Status update*" in shown and "*SEV-1*" in shown and f"<@{COMMANDER}>" in shown
    assert "Failed over to the replica; 90% of checkouts succeed" in shown
    assert "Next update due within 30 minutes." in shown  # the SEV-1 default cadence

    reply = fake_slack.wait_for(lambda: thread_replies(fake_slack, announced))
    assert len(reply) == 1
    assert "Failed over to the replica" in all_text(reply[0]) and "*Checkout returns 500s*" in all_text(reply[0])

    timeline = all_text(slack.command("/incident", "timeline", user=COMMANDER, channel=room["id"]).json())
    assert "Status update: Failed over to the replica; 90% of checkouts succeed" in timeline


def test_a_sev2_update_stays_in_its_channel(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    room = declare(slack, fake_slack, "sev2 Exports are slow")
    announced = announcement(fake_slack)
    answer = slack.command("/incident", "update Queue drained", user=RESPONDER, channel=room["id"]).json()
    assert answer["text"] == ":mega: Posting your status update here."
    posted = fake_slack.wait_for(lambda: updates_in(fake_slack, room))
    assert f"from <@{RESPONDER}>" in posted[0]["text"] and "Next update due within 2 hours." in all_text(posted[0])
    assert thread_replies(fake_slack, announced) == []
    assert [m for m in fake_slack.messages("CANNOUNCE") if "Queue drained" in all_text(m)] == []


def test_update_without_text_opens_a_form_whose_submission_posts_it(slack: SlackDriver, fake_slack: FakeSlack) -> None:
    room = declare(slack, fake_slack, "sev1 Login loops")
    announced = announcement(fake_slack)
    before = len(fake_slack.views())
    assert slack.command("/incident", "update", user=COMMANDER, channel=room["id"]).status == 200
    form = fake_slack.wait_for(lambda: fake_slack.views()[before:])[-1]
    shown = all_text(form)
    assert "Login loops" in shown and f"<#{room['id']}>" in shown and "<#CANNOUNCE>" in shown

    blank = slack.submit(COMMANDER, form, {"What is happening?": "   "})
    assert blank.json()["response_action"] == "errors" and "update" in blank.json()["errors"]
    assert slack.submit(COMMANDER, form, {"What is happening?": "Rolled back\nthe session change"}).status == 200

    posted = fake_slack.wait_for(lambda: updates_in(fake_slack, room))
    assert "Rolled back\nthe session change" in all_text(posted[0])
    assert "Rolled back" in all_text(fake_slack.wait_for(lambda: thread_replies(fake_slack, announced))[0])


def test_a_resolved_incident_refuses_updates_and_the_rca_lists_them(
    slack: SlackDriver, fake_slack: FakeSlack, docs_repo: DocsRepo
) -> None:
    room = declare(slack, fake_slack, "sev2 Search index stale")
    slack.command("/incident", "update Reindexing | 40% done", user=COMMANDER, channel=room["id"])
    fake_slack.wait_for(lambda: updates_in(fake_slack, room))
    slack.submit(COMMANDER, open_resolve_form(slack, fake_slack, room), {"Summary": "Reindexed"})
    room_says(fake_slack, room, "RCA `DOCS/incidents/")

    rca = docs_repo.remote_file(f"DOCS/incidents/{TODAY}-search-index-stale-rca.md") or ""
    timeline = rca.split("## Timeline", 1)[1].split("## Root cause(s)", 1)[0]
    row = next(line for line in timeline.splitlines() if "Status update:" in line)
    assert "| Status update: Reindexing \\| 40% done |" in row and "alice" in row
    for heading in ["## Root cause(s)", "## Resolution", "## Lessons learned", "## Action items"]:
        assert heading in rca
    parsed = parse_rca(rca)
    assert not parsed.problems and parsed.title == "Search index stale"

    views = len(fake_slack.views())
    for text in ("update Too late", "update"):
        refused = slack.command("/incident", text, user=COMMANDER, channel=room["id"]).json()
        assert refused["response_type"] == "ephemeral"
        assert (
            "resolved, so it takes no more status updates" in refused["text"]
            and "`/incident reopen`" in refused["text"]
        )
    assert len(fake_slack.views()) == views
    assert len(updates_in(fake_slack, room)) == 1
    elsewhere = slack.command("/incident", "update All good", user=COMMANDER, channel="CGENERAL").json()
    assert "`/incident update` works inside an incident channel" in elsewhere["text"]


def test_sev1_is_nudged_once_per_missed_interval_never_after_an_update_in_time_nor_after_resolve(
    fast: RunningBot, fake_slack: FakeSlack, clock: RunningClock
) -> None:
    slack = driver_for(fast, fake_slack)
    room = declare(slack, fake_slack, "sev1 Payments failing")
    declared = declared_at(fast, room)

    look_at(fast, clock, declared + EVERY + PAST)
    assert len(nudges(fake_slack, room)) == 1
    said = nudges(fake_slack, room)[0]["text"]
    assert said.startswith(f":hourglass_flowing_sand: <@{COMMANDER}>, time for a status update")
    assert "none in the last 1 minute (a SEV-1 gets one every 1 minute)" in said
    assert fast.cadence.tick() == 0  # looking again within the interval changes nothing

    look_at(fast, clock, declared + 2 * EVERY + PAST)
    assert len(nudges(fake_slack, room)) == 2
    assert "none in the last 2 minutes" in nudges(fake_slack, room)[-1]["text"]

    move_to(clock, declared + 2 * EVERY + timedelta(seconds=30))
    slack.command("/incident", "update Card processor is back", user=COMMANDER, channel=room["id"])
    fake_slack.wait_for(lambda: updates_in(fake_slack, room))
    updated = last_update_at(fast, room)
    # The third interval since the declare ends with an update in it: no nudge; the next is counted from it.
    assert look_at(fast, clock, declared + 3 * EVERY + PAST) == 0
    assert clock.now() < updated + EVERY
    assert len(nudges(fake_slack, room)) == 2
    look_at(fast, clock, updated + EVERY + PAST)
    assert len(nudges(fake_slack, room)) == 3

    slack.submit(COMMANDER, open_resolve_form(slack, fake_slack, room), {"Summary": "Processor fixed"})
    room_says(fake_slack, room, "resolved")
    assert look_at(fast, clock, updated + 20 * EVERY) == 0
    assert len(nudges(fake_slack, room)) == 3


def test_a_sev3_is_never_nudged_until_raised_to_a_level_with_a_cadence(
    fast: RunningBot, fake_slack: FakeSlack, clock: RunningClock
) -> None:
    slack = driver_for(fast, fake_slack)
    room = declare(slack, fake_slack, "sev3 One agent flaky")
    declared = declared_at(fast, room)
    assert look_at(fast, clock, declared + timedelta(hours=1)) == 0
    assert nudges(fake_slack, room) == []

    # Raised to SEV-1, an hour without an update is long overdue at its one minute: asked at once.
    slack.command("/incident", "sev1", user=COMMANDER, channel=room["id"])
    look_at(fast, clock, clock.now())
    assert len(nudges(fake_slack, room)) == 1


def test_two_replicas_nudge_once_per_interval(settings: Settings, clock: RunningClock, fake_slack: FakeSlack) -> None:
    bots = [start_bot(settings, clock, status_update_minutes="SEV-1=1") for _ in range(2)]
    try:
        room = declare(driver_for(bots[0], fake_slack), fake_slack, "sev1 Both replicas watch")
        declared = declared_at(bots[0], room)
        for interval in (1, 2):
            move_to(clock, declared + interval * EVERY + PAST)
            at_once(*(bot.cadence.tick for bot in bots))
            for bot in bots:
                nudges_sent(bot)
            assert len(nudges(fake_slack, room)) == interval
    finally:
        for bot in bots:
            bot.stop()


def test_the_communications_lead_is_the_one_asked_for_the_update(
    fast: RunningBot, fake_slack: FakeSlack, clock: RunningClock
) -> None:
    slack = driver_for(fast, fake_slack)
    room = declare(slack, fake_slack, "sev1 Search is down")
    slack.command("/incident", f"role comms <@{RESPONDER}|bob>", user=COMMANDER, channel=room["id"])
    fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], "the Communications lead"))
    look_at(fast, clock, declared_at(fast, room) + EVERY + PAST)
    assert nudges(fake_slack, room)[0]["text"].startswith(f":hourglass_flowing_sand: <@{RESPONDER}>, {NUDGE}")
