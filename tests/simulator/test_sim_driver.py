"""SlackDriver against a real slack_bolt App served over WSGI, talking to FakeSlack."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import urlencode
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from slack_sim import FakeSlack, SlackDriver

SECRET = "test-signing-secret"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class Harness:
    def __init__(self) -> None:
        self.fake = FakeSlack().start()
        self.fake.add_user("U1", "alice")
        self.fake.add_user("U2", "bob")
        self.channel = self.fake.add_channel("incidents", members=["U1", "U2"])
        self.app = App(signing_secret=SECRET, client=WebClient(token="xoxb-test", base_url=self.fake.url))
        self.seen: list[dict[str, Any]] = []
        self.server = make_server(
            "127.0.0.1",
            0,
            SlackRequestHandler(self.app),
            server_class=_ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        url = f"http://127.0.0.1:{self.server.server_port}/slack/events"
        self.driver = SlackDriver(app_url=url, signing_secret=SECRET, fake=self.fake, team_id="T0TEST")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.fake.stop()


@pytest.fixture
def harness() -> Iterator[Harness]:
    running = Harness()
    yield running
    running.close()


MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "declare",
    "private_metadata": "from-command",
    "title": {"type": "plain_text", "text": "Declare incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        },
        {
            "type": "input",
            "block_id": "sev",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "pick",
                "options": [
                    {"text": {"type": "plain_text", "text": "SEV1 - critical"}, "value": "sev1"},
                    {"text": {"type": "plain_text", "text": "SEV2 - major"}, "value": "sev2"},
                ],
            },
        },
        {
            "type": "input",
            "block_id": "lead",
            "label": {"type": "plain_text", "text": "Incident lead"},
            "element": {"type": "users_select", "action_id": "who"},
        },
        {
            "type": "input",
            "block_id": "flags",
            "optional": True,
            "label": {"type": "plain_text", "text": "Options"},
            "element": {
                "type": "checkboxes",
                "action_id": "opts",
                "options": [
                    {"text": {"type": "plain_text", "text": "Page on-call"}, "value": "page"},
                    {"text": {"type": "plain_text", "text": "Status page"}, "value": "status"},
                ],
            },
        },
    ],
}


def test_signed_command_reaches_listener_and_can_open_modal(harness: Harness) -> None:
    @harness.app.command("/incident")
    def on_command(ack: Any, command: dict[str, Any], client: WebClient, respond: Any) -> None:
        ack()
        harness.seen.append(command)
        client.views_open(trigger_id=command["trigger_id"], view=MODAL)
        respond(text=f"Declaring: {command['text']}")

    response = harness.driver.command("/incident", "sev1 Database down", user="U1", channel=harness.channel)
    assert response.status == 200
    view = harness.fake.wait_for(lambda: harness.fake.views())[0]
    assert (view["callback_id"], view["user"]) == ("declare", "U1")
    command = harness.seen[0]
    assert (command["text"], command["user_name"], command["channel_name"]) == (
        "sev1 Database down",
        "alice",
        "incidents",
    )
    assert (
        harness.fake.wait_for(lambda: harness.fake.responses(user="U1"))[0]["text"] == "Declaring: sev1 Database down"
    )


def test_bad_signatures_are_rejected(harness: Harness) -> None:
    calls: list[str] = []

    @harness.app.command("/incident")
    def on_command(ack: Any) -> None:
        calls.append("ran")
        ack()

    body = urlencode({"command": "/incident", "text": "x", "team_id": "T0TEST", "user_id": "U1"}).encode()
    form = "application/x-www-form-urlencoded"
    assert harness.driver.raw(body, form, signature="v0=" + "0" * 64).status == 401
    assert harness.driver.raw(body, form, timestamp=int(time.time()) - 600).status == 401
    assert harness.driver.unsigned(body, {"Content-Type": form}).status == 401
    assert calls == []
    assert harness.driver.raw(body, form).status == 200
    assert calls == ["ran"]


def test_view_submission_state_values(harness: Harness) -> None:
    received: list[dict[str, Any]] = []

    @harness.app.view("declare")
    def on_submit(ack: Any, view: dict[str, Any]) -> None:
        received.append(view)
        title = view["state"]["values"]["title"]["value"]["value"]
        if title == "bad":
            ack(response_action="errors", errors={"title": "Too vague"})
        else:
            ack()

    client = WebClient(token="xoxb-test", base_url=harness.fake.url)
    client.views_open(trigger_id=harness.fake.issue_trigger_id("U1"), view=MODAL)
    view = harness.fake.views()[0]
    with pytest.raises(KeyError, match="available labels"):
        harness.driver.submit("U1", view, {"Nope": "x"})
    with pytest.raises(ValueError, match="Incident lead"):
        harness.driver.submit("U1", view, {"Title": "x", "Severity": "SEV1"})

    rejected = harness.driver.submit("U1", view, {"Title": "bad", "Severity": "SEV2", "Incident lead": "U2"})
    assert rejected.json() == {"response_action": "errors", "errors": {"title": "Too vague"}}
    assert harness.fake.views()[0]["is_open"] is True

    answer = {"Title": "DB down", "Severity": "SEV1", "Incident lead": "U2", "Options": ["Page", "Status"]}
    assert harness.driver.submit("U1", view, answer).status == 200
    values = received[-1]["state"]["values"]
    assert values["title"]["value"] == {"type": "plain_text_input", "value": "DB down"}
    assert values["sev"]["pick"]["selected_option"]["value"] == "sev1"
    assert values["lead"]["who"] == {"type": "users_select", "selected_user": "U2"}
    assert [o["value"] for o in values["flags"]["opts"]["selected_options"]] == ["page", "status"]
    assert received[-1]["private_metadata"] == "from-command" and received[-1]["id"] == view["id"]
    assert harness.fake.views()[0]["is_open"] is False


def test_click_and_select_in_a_message(harness: Harness) -> None:
    clicks: list[dict[str, Any]] = []

    @harness.app.action("ack")
    def on_ack(ack: Any, body: dict[str, Any], respond: Any) -> None:
        ack()
        clicks.append(body)
        respond(replace_original=True, text="Acknowledged by <@U2>")

    @harness.app.action("sev")
    def on_sev(ack: Any, body: dict[str, Any]) -> None:
        ack()
        clicks.append(body)

    client = WebClient(token="xoxb-test", base_url=harness.fake.url)
    options = [{"text": {"type": "plain_text", "text": t}, "value": t.lower()} for t in ("SEV1", "SEV2")]
    blocks = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Acknowledge"},
                    "action_id": "ack",
                    "value": "inc-7",
                },
                {
                    "type": "static_select",
                    "action_id": "sev",
                    "placeholder": {"type": "plain_text", "text": "Severity"},
                    "options": options,
                },
            ],
        }
    ]
    client.chat_postMessage(channel=harness.channel, text="Incident 7", blocks=blocks)
    message = harness.fake.messages(harness.channel)[0]
    with pytest.raises(KeyError, match="Acknowledge"):
        harness.driver.click("U2", message, "Nope")
    assert harness.driver.click("U2", message, "Acknowledge").status == 200
    body = clicks[0]
    assert body["actions"][0]["value"] == "inc-7" and body["user"]["id"] == "U2"
    assert body["container"]["message_ts"] == message["ts"] and body["channel"]["id"] == harness.channel
    harness.fake.wait_for(lambda: harness.fake.messages(harness.channel)[0]["text"].startswith("Acknowledged"))
    assert harness.driver.select("U2", message, "Severity", "SEV2").status == 200
    assert clicks[1]["actions"][0]["selected_option"]["value"] == "sev2"


def test_events_and_state_changes(harness: Harness) -> None:
    events: list[dict[str, Any]] = []
    harness.app.event("reaction_added")(lambda event: events.append(event))
    harness.app.event("message")(lambda event: events.append(event))

    ts = harness.fake.post_as_user(harness.channel, "U1", "is the db down?")
    assert harness.driver.reaction_added("U2", harness.channel, ts, "eyes", retry_num=1).status == 200
    event = harness.fake.wait_for(lambda: events)[0]
    assert (event["item_user"], event["item"]["ts"], event["reaction"]) == ("U1", ts, "eyes")
    assert harness.fake.messages(harness.channel)[0]["reactions"] == [{"name": "eyes", "users": ["U2"], "count": 1}]

    harness.driver.message_changed(harness.channel, ts, "the db is down")
    changed = harness.fake.wait_for(lambda: [e for e in events if e.get("subtype") == "message_changed"])[0]
    assert changed["message"]["text"] == "the db is down"
    assert changed["previous_message"]["text"] == "is the db down?"
    harness.driver.message_deleted(harness.channel, ts)
    deleted = harness.fake.wait_for(lambda: [e for e in events if e.get("subtype") == "message_deleted"])[0]
    assert deleted["deleted_ts"] == ts and harness.fake.messages(harness.channel) == []


def test_event_envelope_is_slack_shaped(harness: Harness) -> None:
    bodies: list[dict[str, Any]] = []
    harness.app.event("app_mention")(lambda body: bodies.append(body))
    mention = {"type": "app_mention", "user": "U1", "text": "<@UBOT> help", "channel": harness.channel, "ts": "1.1"}
    first = harness.driver.event(mention, event_id="Ev123")
    assert first.status == 200
    harness.driver.event(mention)
    harness.fake.wait_for(lambda: len(bodies) == 2)
    assert bodies[0]["event_id"] == "Ev123" and bodies[1]["event_id"].startswith("Ev")
    assert bodies[1]["event_id"] != "Ev123"
    assert bodies[0]["authorizations"][0]["user_id"] == "UBOT"
    assert json.loads(json.dumps(bodies[0]))["type"] == "event_callback"
