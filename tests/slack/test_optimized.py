"""`serve` as the Dockerfile's image runs it: PYTHONOPTIMIZE=2, which drops docstrings and asserts from
every module (the bot's and its libraries') for ≈3 MB less memory (bench/RESULTS.md). Nothing the bot
does may depend on either: an incident is declared, an owner given an action item, and on resolve the
RCA is pushed and the owner gets the DM, all from a process started that way."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot.demo.docs_repo import DocsRepo
from slack_sim import FakeSlack
from tests.slack.conftest import COMMANDER, RESPONDER, all_text, bot_posts
from tests.slack.test_crashes import Serve, declare_with_an_action_item, serve, start

__all__ = ["serve"]  # the fixture


def test_serve_run_as_the_image_runs_it_declares_resolves_and_pushes_the_rca(
    serve: list[Serve], bot_env: dict[str, Any], fake_slack: FakeSlack, docs_repo: DocsRepo, tmp_path: Path
) -> None:
    bot = start(serve, {**bot_env, "PYTHONOPTIMIZE": "2"}, tmp_path)
    slack = bot.driver(fake_slack)
    room = declare_with_an_action_item(slack, fake_slack, "Gateway auth outage", "Add a startup check")
    before = len(fake_slack.views())
    slack.command("/incident", "resolve", user=COMMANDER, channel=room["id"])
    form = fake_slack.wait_for(lambda: fake_slack.views()[before:])[-1]
    slack.submit(COMMANDER, form, {"Summary": "Restored the missing file"})

    posted = fake_slack.wait_for(lambda: bot_posts(fake_slack, room["id"], "RCA `DOCS/incidents/"), timeout=30)
    path = re.search(r"`(DOCS/incidents/[^`]+\.md)`", all_text(posted[0]))
    assert path is not None, all_text(posted[0])
    rca = docs_repo.remote_file(path.group(1))
    assert rca is not None and "Gateway auth outage" in rca and "Restored the missing file" in rca
    assert "Add a startup check" in rca
    dm = fake_slack.wait_for(lambda: fake_slack.dms_to(RESPONDER))
    assert len(dm) == 1 and "Add a startup check" in all_text(dm[0])
