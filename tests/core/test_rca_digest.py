"""The digest of an RCA (title, severity, date, summary, root causes), for bot-made and hand-written files."""

from __future__ import annotations

from datetime import UTC, date, datetime

import jinja2
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.models import ActionItem, ActionStatus, Incident, Severity, TimelineEntry, TimelineKind
from bot.core.rca import rca_environment, render_rca
from bot.core.rca_digest import MAX_FIELD_CHARS, MAX_TITLE_CHARS, RcaDigest, digest_rca

SHIPPED = rca_environment(jinja2.PackageLoader("bot", "templates"))
PATH = "DOCS/incidents/2026-02-23-gateway-auth-outage-rca.md"


def bot_made(*, summary: str, root_causes: str, title: str = "Gateway auth outage") -> str:
    declared = datetime(2026, 2, 23, 6, 10, tzinfo=UTC)
    incident = Incident.model_validate(
        {
            "id": 7,
            "title": title,
            "severity": Severity.SEV2,
            "commander_id": "U0MATT",
            "declared_by": "U0MATT",
            "declared_at": declared,
            "resolved_at": datetime(2026, 2, 23, 8, 45, tzinfo=UTC),
        }
    )
    timeline = [
        TimelineEntry(
            incident_id=7, kind=TimelineKind.MESSAGE, occurred_at=declared, author_id="U0MATT", text="Agents failing"
        )
    ]
    items = [
        ActionItem(
            incident_id=7, number=1, action="Add a startup check", owner_id="U0CTO", owner_label="",
            status=ActionStatus.OPEN, created_at=declared, updated_at=declared,
        )
    ]  # fmt: skip
    return render_rca(
        incident=incident,
        timeline=timeline,
        action_items=items,
        names={"U0MATT": "matt", "U0CTO": "cto"},
        summary=summary,
        root_causes=root_causes,
        resolution="Restored the file from backup.",
        lessons="Check config on start.",
        templates=SHIPPED,
    )


def test_a_bot_made_rca_gives_its_title_severity_date_summary_and_root_causes() -> None:
    text = bot_made(
        summary="6 of 10 agents could not log in through the gateway.\n\nThe console showed 401 errors.",
        root_causes="- The redeploy dropped `auth-profiles.json`.\n- No startup check for auth profiles.",
    )
    digest = digest_rca(path=PATH, text=text)
    assert digest == RcaDigest(
        path=PATH,
        title="Gateway auth outage",
        severity="SEV-2",
        summary="6 of 10 agents could not log in through the gateway.\n\nThe console showed 401 errors.",
        root_causes="- The redeploy dropped `auth-profiles.json`.\n- No startup check for auth profiles.",
        happened_on=date(2026, 2, 23),
    )


def test_a_bot_made_rca_without_a_summary_has_an_empty_one_not_its_header_bullets() -> None:
    digest = digest_rca(path=PATH, text=bot_made(summary="", root_causes="A bad deploy."))
    assert digest.summary == ""
    assert digest.root_causes == "A bad deploy."


def test_a_title_people_wrote_with_markdown_escapes_reads_as_they_wrote_it() -> None:
    digest = digest_rca(path=PATH, text=bot_made(summary="", root_causes="", title="Queue *stuck* at 100%"))
    assert digest.title == "Queue *stuck* at 100%"


def test_a_hand_written_rca_with_its_own_headings() -> None:
    text = (
        "# Billing export slow\n\n"
        "**Date:** 2025-11-04 · **Severity:** Sev 3\n\n"
        "## What happened\n\nThe nightly billing CSV export took 9 hours instead of 20 minutes.\n\n"
        "## Timeline\n\n- 01:00 export started\n\n"
        "## Root Cause\n\nA missing index on `invoices.customer_id`.\n\n"
        "### Contributing factors\n\nNobody watched the export's duration.\n\n"
        "## Follow-ups\n\n- Add the index.\n"
    )
    digest = digest_rca(path="DOCS/incidents/billing-export.md", text=text)
    assert digest.title == "Billing export slow"
    assert digest.severity == "SEV-3"
    assert digest.happened_on == date(2025, 11, 4)
    assert digest.summary == "The nightly billing CSV export took 9 hours instead of 20 minutes."
    # A subsection belongs to the section it sits in; the next `##` ends it.
    assert digest.root_causes == (
        "A missing index on `invoices.customer_id`.\n\nContributing factors\n\nNobody watched the export's duration."
    )


def test_summary_and_overview_headings_and_plural_root_causes() -> None:
    for heading in ("## Summary", "## Overview", "## Incident summary", "### What happened"):
        text = f"# RCA: DNS flap\n\n{heading}\n\nResolvers flapped.\n\n## Root causes\n\n1. TTL of 5 s.\n"
        digest = digest_rca(path="DOCS/incidents/2024-06-01-dns-rca.md", text=text)
        assert (digest.title, digest.summary, digest.root_causes) == (
            "DNS flap",
            "Resolvers flapped.",
            "1. TTL of 5 s.",
        )


def test_a_heading_inside_a_code_block_does_not_start_a_section() -> None:
    text = (
        "# CDN outage\n\n## Root cause\n\n```\n## Summary\nlog line\n```\nExpired certificate.\n\n## Summary\n\nReal.\n"
    )
    digest = digest_rca(path="x.md", text=text)
    assert digest.root_causes == "```\n## Summary\nlog line\n```\nExpired certificate."
    assert digest.summary == "Real."


def test_without_a_title_the_file_name_gives_one_and_the_date() -> None:
    digest = digest_rca(path="DOCS/incidents/2023-03-09-kafka-consumer-lag-rca.md", text="Consumers fell behind.")
    assert digest.title == "Kafka consumer lag"
    assert digest.happened_on == date(2023, 3, 9)
    assert digest.summary == "Consumers fell behind."
    assert digest.severity is None


def test_a_date_that_is_no_date_gives_none_or_the_declared_line() -> None:
    assert digest_rca(path="DOCS/incidents/2026-13-40-bad-rca.md", text="# Bad").happened_on is None
    declared = "# Bad\n\n- **Declared:** 2026-02-01 10:00 UTC\n"
    assert digest_rca(path="DOCS/incidents/2026-13-40-bad-rca.md", text=declared).happened_on == date(2026, 2, 1)


def test_every_field_is_capped_so_one_huge_file_cannot_dominate() -> None:
    huge = "word " * 100_000
    text = f"# {'Title ' * 1000}\n\n## Summary\n\n{huge}\n\n## Root cause\n\n" + "cause\n" * 50_000
    digest = digest_rca(path="DOCS/incidents/2026-01-01-huge-rca.md", text=text)
    assert len(digest.title) <= MAX_TITLE_CHARS
    assert 0 < len(digest.summary) <= MAX_FIELD_CHARS
    assert 0 < len(digest.root_causes) <= MAX_FIELD_CHARS


MARKDOWN_PIECES = st.sampled_from(
    ["# ", "## ", "### ", "Summary", "Root cause(s)", "What happened", "RCA:", "```", "~~~", "- **Severity:** ",
     "SEV-", "Declared: ", "2026-02-30", "\n", "\r\n", " ", "|", "<@U1>", "\\", "*", "\ud800", "é", "#"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    path=st.text(max_size=80),
    text=st.one_of(st.text(), st.lists(st.one_of(MARKDOWN_PIECES, st.text(max_size=8)), max_size=60).map("".join)),
)
def test_digesting_never_raises_and_keeps_fields_capped(path: str, text: str) -> None:
    digest = digest_rca(path=path, text=text)
    assert digest.path == path
    assert digest.title  # something to show, whatever the file holds
    assert len(digest.title) <= MAX_TITLE_CHARS
    assert len(digest.summary) <= MAX_FIELD_CHARS
    assert len(digest.root_causes) <= MAX_FIELD_CHARS
    assert digest.severity is None or digest.severity.startswith("SEV-")
