"""Similar past incidents: on declare, the channel is shown the docs repo's RCAs most like the new incident."""

from __future__ import annotations

import fcntl
import logging
import shutil
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pytest

from bot.config import Settings
from bot.core.jobs import PostSimilarIncidents
from bot.core.models import Incident, IncidentStatus, Severity
from bot.core.rca import rca_environment, render_rca
from bot.demo.docs_repo import DocsRepo
from bot.publish import GitPublisher
from bot.server import RunningBot
from bot.services.publishing import DocsLayout
from bot.services.similar import SimilarIncidents
from slack_sim import FakeSlack, SlackDriver
from tests.slack.conftest import COMMANDER, all_text, bot_posts, driver_for, incident_channel, start_bot
from tests.support.clock import RunningClock

WEB = "https://github.example/team/fleet/blob/main"
HEADING = "Similar past incidents"
SEARCH_JOB: str = PostSimilarIncidents.model_fields["kind"].default
CHECKOUT = "DOCS/incidents/2025-09-14-checkout-api-errors-after-deploy-rca.md"
CART = "DOCS/incidents/2024-06-01-slow-checkout-rca.md"
CDN = "DOCS/incidents/2025-03-03-cdn-certificate-expired-rca.md"
GATEWAY = "DOCS/incidents/2026-02-23-gateway-auth-outage-rca.md"  # in the fixture repo already
CARD_DATA = "DOCS/incidents/2025-12-01-checkout-card-data-exposure-rca.md"


def bot_made(*, title: str, severity: Severity, declared: datetime, summary: str, root_causes: str) -> str:
    """An RCA as the bot writes it, from its shipped template."""
    incident = Incident(
        id=1,
        title=title,
        severity=severity,
        commander_id="U0MATT",
        declared_by="U0MATT",
        declared_at=declared,
        resolved_at=declared,
    )
    return render_rca(
        incident=incident,
        timeline=[],
        action_items=[],
        names={"U0MATT": "matt"},
        summary=summary,
        root_causes=root_causes,
        resolution="Rolled back.",
        lessons="",
        templates=rca_environment(jinja2.PackageLoader("bot", "templates")),
    )


RCAS = {
    CHECKOUT: bot_made(
        title="Checkout API errors after deploy",
        severity=Severity.SEV1,
        declared=datetime(2025, 9, 14, 9, 30, tzinfo=UTC),
        summary="The checkout API returned HTTP 500s to every customer for 25 minutes.",
        root_causes="- A config push pointed the payments client at a retired host.",
    ),
    # Written by hand, with headings of its own.
    CART: (
        "# Postmortem: Slow checkout\n\n**Date:** 2024-06-01 · **Severity:** SEV-2\n\n"
        "## What happened\n\nCustomers waited 30 s on the checkout page; many gave up.\n\n"
        "## Root Cause\n\nA missing index on the carts table made the checkout API time out.\n"
    ),
    CDN: bot_made(
        title="CDN certificate expired",
        severity=Severity.SEV2,
        declared=datetime(2025, 3, 3, 7, 0, tzinfo=UTC),
        summary="Browsers refused the static assets: the TLS certificate had expired.",
        root_causes="- The renewal job had been failing silently for a month.",
    ),
    CARD_DATA: bot_made(
        title="Checkout card data exposure",
        severity=Severity.SEV1,
        declared=datetime(2025, 12, 1, 9, 0, tzinfo=UTC),
        summary="Checkout API logs held card numbers.",
        root_causes="- Debug logging was left on in the checkout API.",
    ),
}


def push_files(docs_repo: DocsRepo, where: Path, files: Mapping[str, str | None]) -> None:
    """What a teammate would do: write (or delete) files in their clone, commit and push."""
    person = docs_repo.person_clone(where)
    for path, text in files.items():
        file = Path(person.working_dir) / path
        if text is None:
            person.git.rm("-q", path)
        else:
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(text)
            person.git.add(path)
    person.git.commit("-m", "RCAs")
    person.git.push("origin", "main")


def record_private_incident(bot: RunningBot, *, title: str, rca_path: str) -> None:
    """A past private incident, as the bot's database has it once its RCA was published."""
    declared = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
    with bot.container.ctx.uow() as uow:
        incident = uow.incidents.add(
            Incident(
                title=title,
                severity=Severity.SEV1,
                status=IncidentStatus.RESOLVED,
                commander_id=COMMANDER,
                declared_by=COMMANDER,
                declared_at=declared,
                resolved_at=declared,
                private=True,
            )
        )
        assert incident.id is not None and uow.incidents.claim_rca_path(incident.id, rca_path)
        uow.commit()


def declare(slack: SlackDriver, fake: FakeSlack, text: str) -> dict[str, Any]:
    answer = slack.command("/incident", text, user=COMMANDER, channel="CGENERAL")
    assert answer.status == 200 and "Declaring" in answer.json()["text"]
    return incident_channel(fake)


def similar_search_done(bot: RunningBot, fake: FakeSlack) -> None:
    """Wait until the declare's search for similar incidents has run (and not failed)."""
    # The search is queued with the declarer's "channel is ready" answer, so once that is in, it exists.
    fake.wait_for(lambda: fake.responses(user=COMMANDER))
    fake.wait_for(lambda: not bot.container.jobs.unfinished(SEARCH_JOB))


def similar_post(fake: FakeSlack, channel: str) -> dict[str, Any]:
    return fake.wait_for(lambda: bot_posts(fake, channel, HEADING))[0]


def test_declaring_shows_the_checkout_rcas_first_with_links_and_not_unrelated_ones(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    running_bot: RunningBot,
    docs_repo: DocsRepo,
    tmp_path: Path,
) -> None:
    push_files(docs_repo, tmp_path / "teammate", RCAS)
    record_private_incident(running_bot, title="Checkout card data exposure", rca_path=CARD_DATA)

    channel = declare(slack, fake_slack, "sev2 Checkout API returns 500s")
    post = similar_post(fake_slack, channel["id"])
    text = all_text(post)

    assert fake_slack.messages(channel["id"])[0]["ts"] != post["ts"]  # the summary stays first
    lines = [block["text"]["text"] for block in post["blocks"][1:]]
    assert len(lines) == 2
    assert lines[0].startswith(f"*<{WEB}/{CHECKOUT}|Checkout API errors after deploy>* · SEV-1 · 2025-09-14")
    assert "The checkout API returned HTTP 500s to every customer for 25 minutes." in lines[0]
    assert lines[1].startswith(f"*<{WEB}/{CART}|Slow checkout>* · SEV-2 · 2024-06-01")
    assert "checkout API time out" in lines[1]
    # Unrelated RCAs are not shown, nor a private incident's (its title stays in its own channel).
    assert "CDN" not in text and "Gateway" not in text and "card data" not in text
    similar_search_done(running_bot, fake_slack)
    assert len(bot_posts(fake_slack, channel["id"], HEADING)) == 1


def test_without_a_web_address_the_rca_paths_are_shown(
    settings: Settings, clock: RunningClock, fake_slack: FakeSlack, docs_repo: DocsRepo, tmp_path: Path
) -> None:
    push_files(docs_repo, tmp_path / "teammate", {CHECKOUT: RCAS[CHECKOUT]})
    bot = start_bot(settings, clock, docs_repo_web_url=None)
    try:
        slack = driver_for(bot, fake_slack)
        channel = declare(slack, fake_slack, "sev2 Checkout API returns 500s")
        text = all_text(similar_post(fake_slack, channel["id"]))
        assert f"*Checkout API errors after deploy* · SEV-1 · 2025-09-14 · `{CHECKOUT}`" in text
        assert "http" not in text
    finally:
        bot.stop()


def test_a_docs_repo_without_rcas_posts_nothing(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    running_bot: RunningBot,
    docs_repo: DocsRepo,
    tmp_path: Path,
) -> None:
    push_files(docs_repo, tmp_path / "teammate", {GATEWAY: None})
    channel = declare(slack, fake_slack, "sev2 Gateway auth outage again")
    similar_search_done(running_bot, fake_slack)
    assert bot_posts(fake_slack, channel["id"], HEADING) == []


def test_nothing_is_posted_when_no_rca_shares_a_word(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot
) -> None:
    channel = declare(slack, fake_slack, "sev3 Quarterly planning offsite")
    similar_search_done(running_bot, fake_slack)
    assert bot_posts(fake_slack, channel["id"], HEADING) == []


def test_a_slow_docs_repo_holds_up_only_the_list(
    slack: SlackDriver, fake_slack: FakeSlack, running_bot: RunningBot, docs_repo: DocsRepo
) -> None:
    # The bot's lock on its clone, held as a long push by another process would hold it.
    with open(docs_repo.clone / ".git" / "incident-bot.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            channel = declare(slack, fake_slack, "sev2 Gateway auth failing for agents")
            told = fake_slack.wait_for(lambda: fake_slack.responses(user=COMMANDER))
            assert f"<#{channel['id']}>" in told[-1]["text"]
            assert bot_posts(fake_slack, channel["id"], HEADING) == []
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    assert "Gateway auth outage" in all_text(similar_post(fake_slack, channel["id"]))


def test_an_unreadable_docs_repo_is_logged_and_the_incident_goes_on(
    slack: SlackDriver,
    fake_slack: FakeSlack,
    running_bot: RunningBot,
    docs_repo: DocsRepo,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    shutil.move(docs_repo.clone, tmp_path / "moved-away")
    with caplog.at_level(logging.WARNING, logger="bot.services.similar"):
        channel = declare(slack, fake_slack, "sev2 Gateway auth failing for agents")
        similar_search_done(running_bot, fake_slack)
    assert bot_posts(fake_slack, channel["id"], HEADING) == []
    assert "could not look for incidents similar" in caplog.text


def test_a_reopened_incident_is_not_shown_its_own_rca(
    running_bot: RunningBot, docs_repo: DocsRepo, tmp_path: Path
) -> None:
    push_files(docs_repo, tmp_path / "teammate", RCAS)
    similar = SimilarIncidents(
        running_bot.container.ctx, running_bot.container.chat, GitPublisher(docs_repo.clone), DocsLayout()
    )
    reopened = Incident(
        id=99,
        title="Checkout API errors after deploy",
        severity=Severity.SEV1,
        commander_id=COMMANDER,
        declared_by=COMMANDER,
        declared_at=datetime(2025, 9, 14, 9, 30, tzinfo=UTC),
        rca_path=CHECKOUT,
    )
    shown = [past.path for past in similar.find(reopened, GitPublisher(docs_repo.clone))]
    assert CART in shown and CHECKOUT not in shown
