"""Reading RCAs back, hand-written ones included, and marking one action item done."""

from __future__ import annotations

import pytest

from bot.core.models import ActionStatus, Severity
from bot.core.rca import RcaEditError, parse_action_status, parse_rca, set_action_status
from tests.paths import FLEET_REPO, HAND_WRITTEN_RCA

FIXTURE_RCA = (FLEET_REPO / HAND_WRITTEN_RCA).read_text(encoding="utf-8")


def test_the_fixture_rca_reads_back() -> None:
    parsed = parse_rca(FIXTURE_RCA)
    assert (parsed.title, parsed.severity, parsed.problems) == ("Gateway auth outage", Severity.SEV2, [])
    assert [(r.number, r.owner, r.status, r.line) for r in parsed.action_items] == [
        (1, "@cto", ActionStatus.DONE, 36),
        (2, "@cto", ActionStatus.DONE, 37),
        (3, "@matt", ActionStatus.OPEN, 38),
        (4, "@docs", ActionStatus.IN_PROGRESS, 39),
    ]
    assert parsed.action_items[0].action == "Move `auth-profiles.json` into the deploy bundle"
    assert [r.number for r in parsed.open_items] == [3, 4]


@pytest.mark.parametrize(
    ("text", "status"),
    [("✅ DONE", ActionStatus.DONE), ("DONE", ActionStatus.DONE), ("Done", ActionStatus.DONE),
     (" done ", ActionStatus.DONE), ("open", ActionStatus.OPEN), ("In progress", ActionStatus.IN_PROGRESS),
     ("IN PROGRESS", ActionStatus.IN_PROGRESS), ("in-progress", ActionStatus.IN_PROGRESS), ("Blocked", None),
     ("", None)],
)  # fmt: skip
def test_status_words_people_write(text: str, status: ActionStatus | None) -> None:
    assert parse_action_status(text) == status


MALFORMED = """# RCA: Broken

## Action items

| # | Action | Owner | Status |
|---|--------|-------|--------|
| 1 | Fine | @a | Open |
| 2 | Missing a column | Open |
| 3 | Has a|pipe | @b | Open |
| three | Not a number | @c | Open |
| 5 | Odd status | @d | Blocked |
| 6 | Escaped \\| pipe is fine | @e | done |

| 7 | After a blank line | @f | In progress |

## Next
| 8 | Not in the table | @g | Open |
"""


def test_malformed_rows_are_reported_with_file_line_numbers_and_good_rows_kept() -> None:
    parsed = parse_rca(MALFORMED)
    assert [(r.number, r.action, r.line) for r in parsed.action_items] == [
        (1, "Fine", 7),
        (6, "Escaped | pipe is fine", 12),
        (7, "After a blank line", 14),
    ]
    assert [(p.line, p.message.split(":")[0]) for p in parsed.problems] == [
        (8, "Row 2"),
        (9, "Row 3"),
        (10, "Row three"),
        (11, "Row 5"),
        (13, "A blank line splits the Action items table."),
    ]
    assert "3 cells instead of 4" in parsed.problems[0].message
    assert "unescaped |" in parsed.problems[1].message
    assert "'Blocked'" in parsed.problems[3].message


def test_a_missing_section_or_wrong_header_is_a_problem() -> None:
    assert parse_rca("# RCA: x\n").problems[0].message == "No '## Action items' section."
    wrong = parse_rca("# RCA: x\n\n## Action items\n\n| # | What | Who |\n|---|---|---|\n| 1 | a | b |\n")
    assert wrong.action_items == [] and wrong.problems[0].line == 5


def test_columns_may_come_in_another_order() -> None:
    text = "## Action items\n\n| # | Status | Owner | Action |\n|-|-|-|-|\n| 1 | Done | @x | Fix |\n"
    row = parse_rca(text).action_items[0]
    assert (row.action, row.owner, row.status) == ("Fix", "@x", ActionStatus.DONE)


def test_set_action_status_changes_only_that_cell() -> None:
    updated = set_action_status(FIXTURE_RCA, 3, ActionStatus.DONE)
    assert updated == FIXTURE_RCA.replace(
        "| 3 | Page a human when 3+ agents fail within 10 minutes | @matt | Open |",
        "| 3 | Page a human when 3+ agents fail within 10 minutes | @matt | ✅ DONE |",
    )
    assert [r.status for r in parse_rca(updated).action_items] == [ActionStatus.DONE] * 3 + [ActionStatus.IN_PROGRESS]
    assert set_action_status(updated, 3, ActionStatus.OPEN) == FIXTURE_RCA


def test_set_action_status_keeps_windows_line_endings_and_odd_spacing() -> None:
    text = FIXTURE_RCA.replace("| @docs | In progress |", "| @docs |In progress   |").replace("\n", "\r\n")
    updated = set_action_status(text, 4, ActionStatus.DONE)
    assert updated == text.replace("|In progress   |", "|✅ DONE   |")


def test_set_action_status_fills_an_empty_status_cell() -> None:
    text = "## Action items\n\n| # | Action | Owner | Status |\n|---|---|---|---|\n| 1 | Fix | @x | Open |\n"
    assert set_action_status(text, 1, ActionStatus.IN_PROGRESS).endswith("| 1 | Fix | @x | In progress |\n")


def test_set_action_status_on_a_missing_or_broken_row_is_an_error() -> None:
    with pytest.raises(RcaEditError, match="no item 9"):
        set_action_status(FIXTURE_RCA, 9, ActionStatus.DONE)
    with pytest.raises(RcaEditError, match="line 8 is malformed"):
        set_action_status(MALFORMED, 2, ActionStatus.DONE)
