"""Start-up as an operator meets it: a bad or unreachable setting is one line naming it, exit status 2;
a good start is quiet; LOG_FORMAT=json gives one JSON object per line."""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import SECRET


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(env: dict[str, Any], port: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port or closed_port())],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


class NotSlack(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html>Not Found</html>")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def not_slack() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotSlack)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/"
    server.shutdown()
    server.server_close()


def one_line_naming(result: subprocess.CompletedProcess[str], variable: str) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # no traceback, no library chatter
    assert variable in lines[0] and "Traceback" not in result.stderr
    return lines[0]


def test_an_unreachable_slack_is_named(bot_env: dict[str, Any]) -> None:
    line = one_line_naming(
        serve({**bot_env, "SLACK_API_URL": f"http://127.0.0.1:{closed_port()}/api/"}), "SLACK_API_URL"
    )
    assert "Cannot reach Slack" in line and "refused" in line.lower()


def test_an_address_that_is_not_slack_is_not_blamed_on_the_token(bot_env: dict[str, Any], not_slack: str) -> None:
    line = one_line_naming(serve({**bot_env, "SLACK_API_URL": not_slack}), "SLACK_API_URL")
    assert "HTTP 404" in line and "did not answer like Slack" in line and "SLACK_BOT_TOKEN" not in line


def test_a_refused_token_is_named(bot_env: dict[str, Any]) -> None:
    line = one_line_naming(serve({**bot_env, "SLACK_BOT_TOKEN": "xoxb-wrong"}), "SLACK_BOT_TOKEN")
    assert "invalid_auth" in line


@pytest.mark.parametrize("url", ["notaurl", "mysql://someone@db.example/incidents"])
def test_a_database_url_the_bot_cannot_use_is_named(bot_env: dict[str, Any], url: str) -> None:
    line = one_line_naming(serve({**bot_env, "DATABASE_URL": url}), "DATABASE_URL")
    assert "sqlite:///" in line  # the fix: what a good one looks like


def test_an_unreachable_database_is_named_without_its_password(bot_env: dict[str, Any]) -> None:
    url = f"postgresql+psycopg://postgres:hunter2@127.0.0.1:{closed_port()}/test"
    line = one_line_naming(serve({**bot_env, "DATABASE_URL": url}), "DATABASE_URL")
    assert "Cannot use the database" in line and "hunter2" not in line and "127.0.0.1" in line


def start(env: dict[str, Any]) -> tuple[subprocess.Popen[str], int]:
    port = closed_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return process, port
        except OSError:
            assert process.poll() is None, process.communicate()[1]
        time.sleep(0.05)  # polling for the process to come up, not waiting for an outcome
    process.kill()
    raise AssertionError("serve did not become healthy")


def stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    _, err = process.communicate(timeout=60)
    return err


def test_a_good_start_is_quiet_at_the_default_level(bot_env: dict[str, Any], fake_slack: FakeSlack) -> None:
    process, _ = start(bot_env)
    err = stop(process)
    assert "incident-bot ready on port" in err
    assert "alembic" not in err and "will be unused" not in err and "slack_sdk" not in err


def test_json_logs_are_one_object_per_line(bot_env: dict[str, Any], fake_slack: FakeSlack) -> None:
    process, port = start({**bot_env, "LOG_FORMAT": "json", "LOG_LEVEL": "debug"})
    slack = SlackDriver(app_url=f"http://127.0.0.1:{port}/slack/events", signing_secret=SECRET, fake=fake_slack)
    fake_slack.rate_limit("conversations.create")  # the job logs its retry
    slack.command("/incident", "sev2 Logged outage", user="UALICE", channel="CGENERAL")
    fake_slack.wait_for(lambda: [c for c in fake_slack.channels() if c["name"].startswith("inc-")])
    body = "token=x&team_id=T0TEST&command=%2Fincident&text=sev3+Replayed&user_id=UALICE&channel_id=CGENERAL"
    stamp = int(time.time())
    slack.raw(body.encode(), "application/x-www-form-urlencoded", timestamp=stamp)
    slack.raw(body.encode(), "application/x-www-form-urlencoded", timestamp=stamp)  # a replay
    err = stop(process)
    entries = [json.loads(line) for line in err.strip().splitlines()]
    ready = [e for e in entries if e["message"].startswith("incident-bot ready on port")]
    assert ready and ready[0]["level"] == "INFO" and ready[0]["logger"] == "bot.server"
    assert all({"time", "level", "logger", "message"} <= entry.keys() for entry in entries)
    retried = [e for e in entries if "will be retried" in e["message"]]
    assert retried and isinstance(retried[0]["job_id"], int) and isinstance(retried[0]["incident_id"], int)
    replayed = [e for e in entries if "applied before" in e["message"]]
    assert replayed and replayed[0].get("request_id") and "job_id" not in replayed[0]
    assert "xoxb-test" not in err and bot_env["SLACK_SIGNING_SECRET"] not in err


def test_problems_a_resolve_would_meet_stop_the_start(bot_env: dict[str, Any], tmp_path: Path) -> None:
    line = one_line_naming(serve({**bot_env, "DOCS_REPO_PATH": str(tmp_path / "nowhere")}), "DOCS_REPO_PATH")
    assert "does not exist" in line and "git clone" in line
    line = one_line_naming(serve({**bot_env, "INCIDENT_ANNOUNCE_CHANNEL": "#incidents"}), "INCIDENT_ANNOUNCE_CHANNEL")
    assert "not a channel ID" in line
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "rca.md.j2").write_text("# {{ title }}\n{% if %}\n", encoding="utf-8")
    line = one_line_naming(serve({**bot_env, "TEMPLATES_DIR": str(templates)}), "TEMPLATES_DIR")
    assert "rca.md.j2:2" in line


def test_a_channel_the_bot_cannot_post_to_stops_the_start(bot_env: dict[str, Any], fake_slack: FakeSlack) -> None:
    fake_slack.add_channel("hidden", members=["UALICE"], channel_id="CHIDDEN", is_private=True, bot_is_member=False)
    line = one_line_naming(serve({**bot_env, "BRIEFING_CHANNEL": "CHIDDEN"}), "BRIEFING_CHANNEL")
    assert "channel_not_found" in line and "/invite" in line


# A started `serve` (after its first daily check) holds only what requests and jobs need at once: the
# numbers, the digest's content, similar incidents, charts and the policy file's reader load on first use.
LOADED_ON_FIRST_USE = (
    "bot.core.stats",
    "bot.core.stats_report",
    "bot.services.stats",
    "bot.stats_cache",
    "bot.services.similar",
    "bot.search",
    "bot.charts",
    "bot.slack.digest_blocks",
    "bot.policy_file",
    "bot.paging.senders",
    "bot.ops.doctor",
    "bot.slack.scopes",
    "yaml",
    "jinja2",
    "matplotlib",
    "numpy",
    "bm25s",
)
IDLE_PROBE = """
import sys, time
from bot.config import load_settings
from bot.server import RunningBot

bot = RunningBot(load_settings(), host="127.0.0.1", port=0)
while bot.daily_checks < 1:  # the first check runs as the bot starts
    time.sleep(0.02)
print(" ".join(sorted(name for name in sys.modules if name.startswith(tuple(sys.argv[1:])))))
bot.stop()
"""


def test_a_started_bot_loads_the_numbers_digest_and_search_on_first_use(bot_env: dict[str, Any]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", IDLE_PROBE, *LOADED_ON_FIRST_USE],
        env={**os.environ, **bot_env, "DAILY_CHECK_SECONDS": "3600"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
