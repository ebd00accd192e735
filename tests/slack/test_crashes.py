"""kill -9 at the worst moment: the work resumes promptly after a restart, and nothing happens twice.

`serve` runs as a real process. The fake Slack holds one chosen call until the test has killed the
process with SIGKILL; then the held call either takes effect (the request had reached Slack) or not,
a new process starts, and the same end state as without a crash follows, within seconds.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from bot.demo.docs_repo import DocsRepo
from bot.storage import SqlJobStore, create_engine_for
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, ESCALATION, RESPONDER, all_text, bot_posts, driver_for
from tests.slack.test_resolve_ahead import rows_ahead

# A job leased by a process that died is taken over once its lease (6 s) runs out.
RESUMED_WITHIN = 10.0
LATE_OWNER = "UCAROL"  # given an action item once the resolve form is open
# SIGTERM lets a running job finish for up to STOP_GRACE_SECONDS (set lower in these tests), then exits.
STOPPED_WITHIN = 30.0


class Serve:
    """`incident-bot serve` as a child process."""

    def __init__(self, env: dict[str, Any], cwd: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", "0"],
            # faulthandler: a process that does not stop prints every thread's stack on SIGABRT
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"},
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        line, deadline = "", time.monotonic() + 60
        while "listening on" not in line and time.monotonic() < deadline:
            line = self.process.stdout.readline()
            assert line or self.process.poll() is None, "serve exited early"
        self.port = int(re.search(r"http://[\d.]+:(\d+)", line).group(1))  # type: ignore[union-attr]
        # Read what the process prints from now on, so a full pipe never blocks its logging (and its
        # shutdown), and keep it for the failure message when it does not stop in time.
        self.output: list[str] = [line]
        self._reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.output.append(line)

    def printed(self) -> str:
        """All the process printed, once it has exited."""
        self._reader.join(10)
        return "".join(self.output)

    def driver(self, fake: FakeSlack) -> SlackDriver:
        return driver_for(self, fake)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOPPED_WITHIN)
            except subprocess.TimeoutExpired:
                self.process.send_signal(signal.SIGABRT)
                self.process.wait(timeout=10)
                printed = self.printed()[-12000:]
                message = f"serve did not stop within {STOPPED_WITHIN}s of SIGTERM; it printed:\n{printed}"
                raise AssertionError(message) from None


@pytest.fixture
def serve(bot_env: dict[str, Any], tmp_path: Path) -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for process in started:
        process.stop()


def start(serve: list[Serve], env: dict[str, Any], cwd: Path) -> Serve:
    process = Serve(env, cwd)
    serve.append(process)
    return process


def declare_with_an_action_item(slack: SlackDriver, fake: FakeSlack, title: str, item: str) -> dict[str, Any]:
    """Alice declares a SEV-2 and gives bob, who joins its channel, an action item; returns the channel."""
    slack.command("/incident", f"sev2 {title}", user=COMMANDER, channel="CGENERAL")
    room = fake.wait_for(lambda: next((c for c in incident_rooms(fake) if fake.messages(c["id"])), None))
    fake.join(room["id"], RESPONDER)
    slack.command("/incident", f"action <@{RESPONDER}|bob> {item}", user=COMMANDER, channel=room["id"])
    fake.wait_for(lambda: bot_posts(fake, room["id"], "added action item"))
    return room


def jobs_left(env: dict[str, Any]) -> int:
    """Jobs in the bot's database not yet done (or failed for good), whichever process queued them."""
    engine = create_engine_for(env["DATABASE_URL"])
    try:
        return SqlJobStore(engine).pending()
    finally:
        engine.dispose()


def incident_rooms(fake: FakeSlack) -> list[dict[str, Any]]:
    return [c for c in fake.channels() if c["name"].startswith("inc-")]


def test_killed_while_creating_the_channel_it_reuses_that_channel(
    serve: list[Serve], bot_env: dict[str, Any], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    first = start(serve, bot_env, tmp_path)
    creating = fake_slack.hold("conversations.create")
    first.driver(fake_slack).command("/incident", "sev1 Database is down", user=COMMANDER, channel="CGENERAL")
    assert creating.reached.wait(20)
    first.kill()
    creating.release()  # the request had reached Slack: the channel exists, but nobody recorded it
    fake_slack.wait_for(lambda: incident_rooms(fake_slack))

    start(serve, bot_env, tmp_path)
    summary = fake_slack.wait_for(
        lambda: bot_posts(fake_slack, incident_rooms(fake_slack)[0]["id"], "Immediate escalation"),
        timeout=RESUMED_WITHIN,
    )
    fake_slack.wait_for(lambda: all(fake_slack.dms_to(user) for user in ESCALATION))
    rooms = incident_rooms(fake_slack)
    assert len(rooms) == 1 and not rooms[0]["name"].endswith("-2")  # the same channel, not a second one
    assert len(summary) == 1 and len(bot_posts(fake_slack, "CANNOUNCE", "Database is down")) == 1


def test_killed_while_posting_the_summary_it_is_posted_once(
    serve: list[Serve], bot_env: dict[str, Any], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    first = start(serve, bot_env, tmp_path)
    posting = fake_slack.hold("chat.postMessage", when=lambda args: bool(args.get("blocks")))
    first.driver(fake_slack).command("/incident", "sev2 Queue stalled", user=COMMANDER, channel="CGENERAL")
    assert posting.reached.wait(20)
    first.kill()
    posting.release()  # posted after all, with the dead process's job labelled on it
    room = fake_slack.wait_for(
        lambda: next((c for c in incident_rooms(fake_slack) if fake_slack.messages(c["id"])), None)
    )

    start(serve, bot_env, tmp_path)
    fake_slack.wait_for(lambda: bot_posts(fake_slack, "CANNOUNCE", "Queue stalled"), timeout=RESUMED_WITHIN)
    fake_slack.wait_for(lambda: fake_slack.channel(room["id"]).get("pins"))
    assert len(bot_posts(fake_slack, room["id"], "*Severity*")) == 1


def test_killed_during_a_publish_the_rca_and_the_owners_dm_happen_once(
    serve: list[Serve], bot_env: dict[str, Any], fake_slack: FakeSlack, docs_repo: DocsRepo, tmp_path: Path
) -> None:
    first = start(serve, bot_env, tmp_path)
    slack = first.driver(fake_slack)
    room = declare_with_an_action_item(slack, fake_slack, "Gateway auth outage", "Add a startup check")
    before = len(fake_slack.views())
    slack.command("/incident", "resolve", user=COMMANDER, channel=room["id"])
    form = fake_slack.wait_for(lambda: fake_slack.views()[before:])[-1]
    fake_slack.wait_for(lambda: rows_ahead(first, "made") == 1)  # the form's head start is done
    # The publish looks up the names its RCA mentions while rendering it; an owner named after the head
    # start was made is looked up by the publish itself.
    rendering = fake_slack.hold("users.info", when=lambda args: args.get("user") == LATE_OWNER)
    late_item = f"action <@{LATE_OWNER}|carol> Alert on a missing file"
    slack.command("/incident", late_item, user=COMMANDER, channel=room["id"])
    fake_slack.wait_for(lambda: len(bot_posts(fake_slack, room["id"], "added action item")) == 2)
    slack.submit(COMMANDER, form, {"Summary": "Restored the file"})
    assert rendering.reached.wait(20)
    first.kill()
    rendering.drop()

    start(serve, bot_env, tmp_path)
    fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], "RCA `DOCS/incidents/"), timeout=RESUMED_WITHIN)
    dm = fake_slack.wait_for(lambda: fake_slack.dms_to(RESPONDER))
    assert len([s for s in docs_repo.remote_log() if "Gateway auth outage" in s]) == 1
    assert len(dm) == 1 and "Add a startup check" in all_text(dm[0])
    assert len(bot_posts(fake_slack, room["id"], "RCA `DOCS/incidents/")) == 1


def test_killed_while_sending_the_owners_dm_it_arrives_once(
    serve: list[Serve], bot_env: dict[str, Any], fake_slack: FakeSlack, tmp_path: Path
) -> None:
    first = start(serve, bot_env, tmp_path)
    slack = first.driver(fake_slack)
    slack.command("/incident", "sev2 Disk full", user=COMMANDER, channel="CGENERAL")
    room = fake_slack.wait_for(
        lambda: next((c for c in incident_rooms(fake_slack) if fake_slack.messages(c["id"])), None)
    )
    slack.command("/incident", f"action <@{RESPONDER}|bob> Add disk alerts", user=COMMANDER, channel=room["id"])
    fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], "added action item"))
    dm_channel = fake_slack.dm_channel(RESPONDER)
    # The DM is posted to the user (Slack delivers it in their DM with the bot).
    sending = fake_slack.hold("chat.postMessage", when=lambda args: args.get("channel") in (dm_channel, RESPONDER))
    before = len(fake_slack.views())
    slack.command("/incident", "resolve", user=COMMANDER, channel=room["id"])
    slack.submit(COMMANDER, fake_slack.wait_for(lambda: fake_slack.views()[before:])[-1], {"Summary": "Cleaned up"})
    assert sending.reached.wait(20)
    first.kill()
    sending.release()  # delivered, though the process that sent it never heard back
    fake_slack.wait_for(lambda: fake_slack.dms_to(RESPONDER))

    start(serve, bot_env, tmp_path)
    fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], "RCA `DOCS/incidents/"), timeout=RESUMED_WITHIN)
    # Once the second process has done every job the first left, there is still exactly one DM.
    fake_slack.wait_for(lambda: jobs_left(bot_env) == 0, timeout=RESUMED_WITHIN)
    assert len(fake_slack.dms_to(RESPONDER)) == 1


def test_sigterm_during_a_publish_gives_the_job_back_and_the_next_process_pushes_it_once(
    serve: list[Serve], bot_env: dict[str, Any], fake_slack: FakeSlack, docs_repo: DocsRepo, tmp_path: Path
) -> None:
    env = {**bot_env, "STOP_GRACE_SECONDS": "1"}
    first = start(serve, env, tmp_path)
    slack = first.driver(fake_slack)
    slack.command("/incident", "sev2 Stuck push", user=COMMANDER, channel="CGENERAL")
    room = fake_slack.wait_for(
        lambda: next((c for c in incident_rooms(fake_slack) if fake_slack.messages(c["id"])), None)
    )
    # The remote takes a very long time to accept the push: the publish is mid-push when SIGTERM comes.
    hook = docs_repo.remote / "hooks" / "pre-receive"
    started = tmp_path / "push-started"
    hook.write_text(f"#!/bin/sh\ntouch {started}\nsleep 120\n", encoding="utf-8")
    hook.chmod(0o755)
    before = len(fake_slack.views())
    slack.command("/incident", "resolve", user=COMMANDER, channel=room["id"])
    slack.submit(COMMANDER, fake_slack.wait_for(lambda: fake_slack.views()[before:])[-1], {"Summary": "Unstuck"})
    fake_slack.wait_for(started.exists, timeout=30)

    stopping = time.monotonic()
    first.process.terminate()
    assert first.process.wait(timeout=30) == 0
    assert time.monotonic() - stopping < 15  # the grace period, not the push's two minutes
    out = first.printed()
    assert re.search(r"jobs \[[\d, ]+\] unfinished: their leases are given back", out), out
    assert "ended 1 git process(es)" in out
    assert not [s for s in docs_repo.remote_log() if "Stuck push" in s]

    hook.unlink()  # the remote is well again
    start(serve, bot_env, tmp_path)
    # given back, not left to run out: the next process takes the publish at once
    fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], "RCA `DOCS/incidents/"), timeout=RESUMED_WITHIN)
    fake_slack.wait_for(lambda: jobs_left(bot_env) == 0, timeout=RESUMED_WITHIN)
    assert len([s for s in docs_repo.remote_log() if "Stuck push" in s]) == 1
    assert len(bot_posts(fake_slack, room["id"], "RCA `DOCS/incidents/")) == 1
