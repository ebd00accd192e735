"""The one line said for why a past incident came up."""

from __future__ import annotations

from datetime import date

from bot.search.reasons import REASON_CHARS, reason_for
from bot.search.similar import SimilarIncident


def found(*, summary: str = "", root_causes: str = "") -> SimilarIncident:
    return SimilarIncident(
        path="DOCS/incidents/2025-01-02-x-rca.md",
        title="X",
        severity="SEV-2",
        happened_on=date(2025, 1, 2),
        score=1.0,
        summary=summary,
        root_causes=root_causes,
    )


def test_the_line_sharing_most_words_with_the_new_incident_is_said() -> None:
    past = found(
        summary="Customers could not pay for twenty minutes.",
        root_causes="- A config push broke the **checkout** API's database pool.\n- Alerts were muted.",
    )
    assert reason_for(past, query="Checkout API returns 500s") == (
        "Root cause: A config push broke the checkout API's database pool."
    )


def test_with_no_shared_word_the_summary_comes_first() -> None:
    past = found(summary="Customers could not pay.", root_causes="- A config push broke it.")
    assert reason_for(past, query="Something else entirely") == "Customers could not pay."


def test_placeholders_tables_and_fences_are_not_reasons() -> None:
    past = found(summary="_TBD_", root_causes="| a | b |\n|---|---|\n```\ncode\n```\n1. [The disk](http://x) filled up")
    assert reason_for(past, query="disk") == "Root cause: The disk filled up"
    assert reason_for(found(summary="_TBD_", root_causes="_TBD_"), query="disk") == ""
    in_code = found(root_causes="```\ndisk usage script\n```\nAlerts were muted.")
    assert reason_for(in_code, query="disk usage") == "Root cause: Alerts were muted."


def test_a_long_line_is_cut_at_a_word_with_an_ellipsis() -> None:
    reason = reason_for(found(summary="word " * 100), query="word")
    assert len(reason) <= REASON_CHARS and reason.endswith("word…")
