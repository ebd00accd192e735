"""The daily briefing's text: what the channel reads."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.slack.reminder_blocks import briefing_text

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROBLEM = "runbooks/incident-response.md:14: SEVX is not a level"


def test_a_severity_guide_that_cannot_be_read_is_named_with_its_file_and_line() -> None:
    text = briefing_text([], [], now=NOW, rca_links={}, guide_problems=[PROBLEM])
    assert text.startswith(":white_check_mark: Daily incident briefing")
    assert f"Severity Guide cannot be read, so I keep the last good levels: {PROBLEM}" in text


def test_a_readable_severity_guide_adds_nothing() -> None:
    assert "Severity Guide" not in briefing_text([], [], now=NOW, rca_links={})
