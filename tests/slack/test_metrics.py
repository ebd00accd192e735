"""/metrics after traffic: acks by kind, events by type, jobs by kind and outcome, the queue, publishes,
reminders and Slack calls by method and status (429s included), and never a secret."""

from __future__ import annotations

import re
import urllib.request
from typing import Protocol

from bot.server import RunningBot
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, RESPONDER, SECRET, wait_until_idle
from tests.slack.test_resolve import declare, open_resolve_form, room_says


class Listening(Protocol):
    """A running bot, in this process or a child: where its HTTP server listens."""

    @property
    def port(self) -> int: ...


def scrape(bot: Listening) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{bot.port}/metrics", timeout=10) as answer:
        assert answer.status == 200 and answer.headers["Content-Type"].startswith("text/plain")
        return str(answer.read().decode())


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` (labels in any order); 0 when there is none."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_after_an_incident(slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot) -> None:
    room = declare(slack, fake_slack, "sev2 Metered outage")
    slack.command("/incident", "note Checked the dashboards", user=COMMANDER, channel=room["id"])
    ts = fake_slack.post_as_user(room["id"], RESPONDER, "Shard 3 is failing over")
    fake_slack.react_as_user(room["id"], ts, COMMANDER, "pushpin")
    slack.reaction_added(COMMANDER, room["id"], ts, "pushpin")
    slack.command("/incident", f"action <@{RESPONDER}|bob> Add alerts", user=COMMANDER, channel=room["id"])
    room_says(fake_slack, room, "added action item")
    fake_slack.rate_limit("chat.postMessage", retry_after=1)  # the next post meets a 429 and is retried
    slack.submit(COMMANDER, open_resolve_form(slack, fake_slack, room), {"Summary": "Fixed"})
    room_says(fake_slack, room, "RCA `DOCS/incidents/")
    fake_slack.wait_for(lambda: fake_slack.dms_to(RESPONDER))
    wait_until_idle(running_bot)

    text = scrape(running_bot)
    assert value(text, "incident_bot_ack_seconds_count", kind="command") >= 4
    assert value(text, "incident_bot_ack_seconds_count", kind="interaction") >= 1
    assert value(text, "incident_bot_ack_seconds_bucket", kind="command", le="3.0") >= 4
    assert value(text, "incident_bot_events_total", type="reaction_added") == 1
    assert value(text, "incident_bot_jobs_total", kind="publish_rca", outcome="done") == 1
    assert value(text, "incident_bot_jobs_total", kind="create_room", outcome="done") == 1
    assert value(text, "incident_bot_publishes_total", outcome="pushed") == 1
    assert value(text, "incident_bot_reminders_sent_total", reason="resolved") == 1
    assert value(text, "incident_bot_slack_api_calls_total", method="chat.postMessage", status="ok") >= 3
    assert value(text, "incident_bot_slack_api_calls_total", method="chat.postMessage", status="429") == 1
    assert value(text, "incident_bot_jobs_total", outcome="retry") >= 1
    assert value(text, "incident_bot_job_queue_depth") == 0
    assert "incident_bot_job_oldest_pending_seconds" in text
    for secret in ("xoxb-test", SECRET, "Checked the dashboards", "Metered outage"):
        assert secret not in text  # no token, secret or person's text in a metric
