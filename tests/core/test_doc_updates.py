"""Edits to fleet-status.md and the runbook's Incident History: only the lines they add change."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.models import Severity
from bot.core.rca import add_history_row, insert_fleet_status_entry, relative_link
from tests.paths import FLEET_REPO, HAND_WRITTEN_RCA

RCA_PATH = HAND_WRITTEN_RCA
FLEET_STATUS = (FLEET_REPO / "fleet-status.md").read_text(encoding="utf-8")
RUNBOOK = (FLEET_REPO / "runbooks/incident-response.md").read_text(encoding="utf-8")
# The end of the fixture runbook: its Incident History table and footer.
RUNBOOK_TAIL = """## Incident History

| Date | SEV | Summary | RCA |
|------|-----|---------|-----|
| 2026-02-23 | SEV-2 | Gateway auth outage — 6/10 agents failed (missing auth-profiles.json) | \
[RCA](../DOCS/incidents/2026-02-23-gateway-auth-outage-rca.md) |

---

*Part of the AI Workforce Lab operational runbooks. See [system-operations.md](../DOCS/system-operations.md).*
"""


def test_a_new_entry_goes_on_top_of_recent_activity() -> None:
    text = FLEET_STATUS
    new = "- [system] **INCIDENT — SEV-1 Leak (2026-11-25 10:00–10:30 UTC).** Rotated keys. Full RCA: `DOCS/x.md`"
    updated = insert_fleet_status_entry(text, new)
    assert updated == text.replace("## Recent Activity\n\n", f"## Recent Activity\n\n{new}\n", 1)
    assert insert_fleet_status_entry(updated, new) == updated


def test_the_entry_for_the_same_rca_is_replaced_not_repeated() -> None:
    line = (
        "- [system] **INCIDENT — SEV-2 Gateway auth outage (2026-02-23 06:10–09:00 UTC)."
        f"** Redone. Full RCA: `{RCA_PATH}`"
    )
    updated = insert_fleet_status_entry(FLEET_STATUS, line)
    old_line = next(old for old in FLEET_STATUS.splitlines() if RCA_PATH in old)
    assert updated == FLEET_STATUS.replace(old_line, line)


def test_recent_activity_is_created_when_missing() -> None:
    assert insert_fleet_status_entry("# Fleet\n\nIntro.", "- x") == "# Fleet\n\nIntro.\n\n## Recent Activity\n\n- x\n"
    assert insert_fleet_status_entry("", "- x") == "## Recent Activity\n\n- x\n"


def test_an_empty_recent_activity_section_gets_the_entry() -> None:
    text = "## Recent Activity\n\n## Notes\n"
    assert insert_fleet_status_entry(text, "- x") == "## Recent Activity\n\n- x\n\n## Notes\n"
    assert insert_fleet_status_entry("## Recent Activity\n", "- x") == "## Recent Activity\n\n- x\n"


def test_windows_line_endings_are_kept() -> None:
    text = FLEET_STATUS.replace("\n", "\r\n")
    updated = insert_fleet_status_entry(text, "- x")
    assert updated == text.replace("## Recent Activity\r\n\r\n", "## Recent Activity\r\n\r\n- x\r\n", 1)


# --- the runbook's Incident History -------------------------------------------------------------


@pytest.mark.parametrize("text", [RUNBOOK_TAIL, RUNBOOK], ids=["table-at-the-end", "fixture-runbook"])
def test_history_row_is_added_to_the_table(text: str) -> None:
    link = relative_link("runbooks/incident-response.md", "DOCS/incidents/2026-11-25-db-down-rca.md")
    updated = add_history_row(text, date=date(2026, 11, 25), severity=Severity.SEV1, summary="DB | down", rca_link=link)
    old_row = next(line for line in text.splitlines() if line.startswith("| 2026-02-23"))
    new_row = "| 2026-11-25 | SEV-1 | DB \\| down | [RCA](../DOCS/incidents/2026-11-25-db-down-rca.md) |"
    assert updated == text.replace(old_row + "\n", f"{old_row}\n{new_row}\n")
    again = add_history_row(updated, date=date(2026, 11, 26), severity=Severity.SEV2, summary="x", rca_link=link)
    assert again.count("2026-11-25-db-down-rca.md") == 1 and "| 2026-11-26 | SEV-2 | x |" in again


def test_history_sorted_newest_first_gets_the_row_on_top() -> None:
    text = (
        "## Incident History\n\n| Date | SEV | Summary | RCA |\n|---|---|---|---|\n| 2026-03-01 | SEV-2 | b | |\n"
        "| 2026-01-01 | SEV-2 | a | |\n"
    )
    updated = add_history_row(text, date=date(2026, 4, 1), severity=Severity.SEV3, summary="c", rca_link=None)
    assert updated.splitlines()[4] == "| 2026-04-01 | SEV-3 | c |  |"


def test_history_section_is_created_when_missing() -> None:
    updated = add_history_row(
        "# Runbook\n", date=date(2026, 4, 1), severity=Severity.SEV2, summary="c", rca_link="x.md"
    )
    assert updated == (
        "# Runbook\n\n## Incident History\n\n| Date | SEV | Summary | RCA |\n|------|-----|---------|-----|\n"
        "| 2026-04-01 | SEV-2 | c | [RCA](x.md) |\n"
    )


def test_relative_links_between_docs_repo_files() -> None:
    assert relative_link("runbooks/incident-response.md", "DOCS/incidents/x.md") == "../DOCS/incidents/x.md"
    assert relative_link("fleet-status.md", "DOCS/incidents/x.md") == "DOCS/incidents/x.md"
    assert relative_link("DOCS/a/b.md", "DOCS/incidents/x.md") == "../incidents/x.md"
    with pytest.raises(ValueError):
        relative_link("../outside.md", "x.md")
