"""With SLACK_APP_TOKEN set, the bot takes Slack's traffic over Socket Mode and still answers /healthz."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import load_settings
from slack_sim import FakeSlack
from tests.slack.conftest import COMMANDER, incident_channel, serve_until_it_exits, start_bot
from tests.support.clock import RunningClock
from tests.support.socket_mode_server import FakeSocketModeServer


@pytest.fixture
def socket_server(fake_slack: FakeSlack) -> Iterator[FakeSocketModeServer]:
    server = FakeSocketModeServer().start()
    fake_slack.socket_mode_url = server.url
    yield server
    server.stop()


def test_slash_command_over_socket_mode(
    bot_env: dict[str, Any], fake_slack: FakeSlack, socket_server: FakeSocketModeServer, clock: RunningClock
) -> None:
    bot = start_bot(load_settings({**bot_env, "SLACK_APP_TOKEN": "xapp-1-test"}), clock)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{bot.port}/healthz", timeout=2) as health:
            assert health.status == 200
        assert socket_server.connected.wait(5)
        envelope = socket_server.send_envelope(
            "slash_commands",
            {
                "token": "legacy",
                "team_id": "T0TEST",
                "channel_id": "CGENERAL",
                "channel_name": "general",
                "user_id": COMMANDER,
                "user_name": "alice",
                "command": "/incident",
                "text": "sev2 Over the socket",
                "api_app_id": "A0TEST",
                "trigger_id": fake_slack.issue_trigger_id(COMMANDER),
                "response_url": fake_slack.new_response_url(COMMANDER, "CGENERAL"),
            },
        )
        ack = socket_server.wait_for_ack(envelope)
        assert "Declaring *SEV-2*" in ack["payload"]["text"]
        assert incident_channel(fake_slack)["topic"] == "SEV-2 · Over the socket"
    finally:
        socket_server.stop()
        bot.stop()


def test_a_refused_app_token_is_named(bot_env: dict[str, Any], tmp_path: Any) -> None:
    import os

    env = {**os.environ, **bot_env, "SLACK_APP_TOKEN": "not-an-app-token"}
    result = serve_until_it_exits(env, tmp_path)
    assert result.returncode == 2
    assert "Slack refused SLACK_APP_TOKEN" in result.stderr
