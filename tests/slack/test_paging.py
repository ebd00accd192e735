"""Paging: a SEV-1 pages the on-call (PagerDuty Events API v2, a signed webhook) and its resolve resolves it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.paging import verify_webhook_signature
from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.paging.receiver import FakeReceiver, receiving
from tests.slack.conftest import (
    COMMANDER,
    all_text,
    bot_posts,
    driver_for,
    incident_channel,
    settle,
    start_bot,
    wait_until_idle,
)
from tests.slack.test_metrics import scrape, value
from tests.slack.test_resolve import declare, open_resolve_form, room_says
from tests.support.clock import RunningClock

ROUTING_KEY = "R0UTINGKEY0123456789abcdef012345"
WEBHOOK_SECRET = "whsec-test-0123456789"


@pytest.fixture
def receiver() -> Iterator[FakeReceiver]:
    with receiving() as running:
        yield running


@pytest.fixture
def paging_bot(settings: Settings, clock: RunningClock, receiver: FakeReceiver) -> Iterator[RunningBot]:
    bot = start_bot(
        settings,
        clock,
        pagerduty_routing_key=SecretStr(ROUTING_KEY),
        pagerduty_events_url=f"{receiver.url}/v2/enqueue",
        paging_webhook_url=f"{receiver.url}/hooks/incidents",
        paging_webhook_secret=SecretStr(WEBHOOK_SECRET),
    )
    yield bot
    bot.stop()


@pytest.fixture
def driver(paging_bot: RunningBot, fake_slack: FakeSlack) -> SlackDriver:
    return driver_for(paging_bot, fake_slack)


def received(receiver: FakeReceiver, path: str, action: str) -> list[dict[str, object]]:
    bodies = [r.json for r in receiver.requests if r.path == path and isinstance(r.json, dict)]
    key = "event_action" if path.endswith("enqueue") else "action"
    return [body for body in bodies if isinstance(body, dict) and body.get(key) == action]


def test_a_sev1_pages_pagerduty_and_the_webhook_and_its_resolve_resolves_the_page(
    driver: SlackDriver, fake_slack: FakeSlack, receiver: FakeReceiver
) -> None:
    room = declare(driver, fake_slack, "sev1 Agents leaking data")
    trigger = fake_slack.wait_for(lambda: received(receiver, "/v2/enqueue", "trigger"))[0]
    assert trigger["routing_key"] == ROUTING_KEY
    payload = trigger["payload"]
    assert isinstance(payload, dict)
    assert payload["severity"] == "critical" and "Agents leaking data" in str(payload["summary"])
    dedup_key = trigger["dedup_key"]

    hook = fake_slack.wait_for(lambda: [r for r in receiver.requests if r.path == "/hooks/incidents"])[0]
    assert verify_webhook_signature(
        secret=WEBHOOK_SECRET,
        timestamp=hook.headers["x-incident-bot-timestamp"],
        body=hook.body,
        signature=hook.headers["x-incident-bot-signature"],
        now=time.time(),
    )
    assert json.loads(hook.body)["dedup_key"] == dedup_key

    driver.submit(COMMANDER, open_resolve_form(driver, fake_slack, room), {"Summary": "Leak closed"})
    resolve = fake_slack.wait_for(lambda: received(receiver, "/v2/enqueue", "resolve"))[0]
    assert resolve["dedup_key"] == dedup_key
    fake_slack.wait_for(lambda: received(receiver, "/hooks/incidents", "resolve"))
    assert len(received(receiver, "/v2/enqueue", "trigger")) == 1  # paged once


def test_a_sev2_pages_nobody_until_it_is_raised_to_sev1(
    driver: SlackDriver, fake_slack: FakeSlack, receiver: FakeReceiver
) -> None:
    room = declare(driver, fake_slack, "sev2 Pipeline stalled")
    room_says(fake_slack, room, "SEV-2")
    assert received(receiver, "/v2/enqueue", "trigger") == []
    driver.command("/incident", "sev1", user=COMMANDER, channel=room["id"])
    trigger = fake_slack.wait_for(lambda: received(receiver, "/v2/enqueue", "trigger"))[0]
    assert "Pipeline stalled" in str(trigger["payload"])


def test_a_page_the_service_refuses_is_reported_in_the_incident_channel_without_the_key(
    driver: SlackDriver, fake_slack: FakeSlack, receiver: FakeReceiver
) -> None:
    receiver.answer_next(status=400, body={"status": "invalid event", "message": "Event object is invalid"}, times=2)
    room = declare(driver, fake_slack, "sev1 Gateway breach")
    warning = room_says(fake_slack, room, "could not page the on-call through")
    text = str(warning)
    assert "Page the on-call by hand" in text
    assert ROUTING_KEY not in text and WEBHOOK_SECRET not in text


def test_a_page_refused_before_the_channel_exists_is_said_in_the_channel_once_it_does(
    driver: SlackDriver, fake_slack: FakeSlack, receiver: FakeReceiver, paging_bot: RunningBot
) -> None:
    # The pages run beside the channel's creation: here both services refuse while the channel is not made yet.
    receiver.answer_next(status=400, body={"status": "invalid event", "message": "Event object is invalid"}, times=2)
    creating = fake_slack.hold("conversations.create")
    driver.command("/incident", "sev1 Gateway breach", user=COMMANDER, channel="CGENERAL")
    fake_slack.wait_for(
        lambda: value(scrape(paging_bot), "incident_bot_jobs_total", kind="send_page", outcome="failed") == 2
    )
    assert creating.reached.is_set() and not [c for c in fake_slack.channels() if c["name"].startswith("inc-")]
    creating.release()
    room = incident_channel(fake_slack)
    warning = "could not page the on-call through"
    fake_slack.wait_for(lambda: len(bot_posts(fake_slack, room["id"], warning)) == 2)
    wait_until_idle(paging_bot)
    assert len(bot_posts(fake_slack, room["id"], warning)) == 2  # each service's refusal, said once
    assert not [dm for dm in fake_slack.dms_to(COMMANDER) if warning in all_text(dm)]


def test_a_refused_page_for_an_incident_whose_channel_never_comes_is_told_to_the_declarer(
    driver: SlackDriver, fake_slack: FakeSlack, receiver: FakeReceiver, paging_bot: RunningBot, clock: RunningClock
) -> None:
    receiver.answer_next(status=400, body={"status": "invalid event", "message": "Event object is invalid"}, times=2)
    fake_slack.fail_next("conversations.create", "restricted_action")  # the channel is never made
    driver.command("/incident", "sev1 Gateway breach", user=COMMANDER, channel="CGENERAL")
    settle(paging_bot, clock, timeout=60.0)  # the warnings wait for the channel until they give up
    told = [r["text"] for r in fake_slack.responses(user=COMMANDER)]
    assert any("could not set up the incident channel" in text for text in told)
    warnings = [text for text in told if "could not page the on-call through" in text]
    assert len(warnings) == 2 and all("Page the on-call by hand" in text for text in warnings)
    assert not [c for c in fake_slack.channels() if c["name"].startswith("inc-")]
