"""How the past incidents like a new one read in its channel."""

from __future__ import annotations

from datetime import date

from bot.core.past_incidents import PastIncident
from bot.slack.similar_blocks import HEADING, similar_blocks, similar_line, similar_text

GATEWAY = PastIncident(
    title="Gateway auth outage",
    severity="SEV-2",
    happened_on=date(2026, 2, 23),
    path="DOCS/incidents/2026-02-23-gateway-auth-outage-rca.md",
    link="https://github.example/team/fleet/blob/main/DOCS/incidents/2026-02-23-gateway-auth-outage-rca.md",
    reason="Root cause: The redeploy dropped `auth-profiles.json` from the gateway host.",
)


def test_a_linked_incident_shows_title_level_date_and_why() -> None:
    assert similar_line(GATEWAY) == (
        f"*<{GATEWAY.link}|Gateway auth outage>* · SEV-2 · 2026-02-23\n"
        "Root cause: The redeploy dropped `auth-profiles.json` from the gateway host."
    )


def test_without_a_web_address_the_path_is_shown_in_code_font() -> None:
    unlinked = PastIncident(
        title="Checkout 500s", severity=None, happened_on=None, path="DOCS/incidents/checkout`s-rca.md", link=None
    )
    assert similar_line(unlinked) == "*Checkout 500s* · `DOCS/incidents/checkout's-rca.md`"


def test_text_from_files_cannot_mention_or_link_anyone() -> None:
    shouting = PastIncident(
        title="<!channel> DB & cache down",
        severity="SEV-1",
        happened_on=date(2025, 1, 2),
        path="DOCS/incidents/x-rca.md",
        link=None,
        reason="<@U123> pushed <https://evil.example|a fix>",
    )
    line = similar_line(shouting)
    assert "<!channel>" not in line and "<@U123>" not in line and "<https://" not in line
    assert "&lt;!channel&gt; DB &amp; cache down" in line


def test_the_message_is_a_heading_then_one_section_per_incident_best_first() -> None:
    second = PastIncident(title="Checkout 500s", severity="SEV-1", happened_on=None, path="p-rca.md", link=None)
    blocks = similar_blocks([GATEWAY, second])
    assert [block["text"]["text"] for block in blocks] == [HEADING, similar_line(GATEWAY), similar_line(second)]
    assert similar_text([GATEWAY, second]) == "Similar past incidents: Gateway auth outage, Checkout 500s"


def test_a_long_title_is_clipped() -> None:
    long = PastIncident(title="x" * 500, severity=None, happened_on=None, path="p-rca.md", link=None)
    assert len(similar_line(long)) < 260
