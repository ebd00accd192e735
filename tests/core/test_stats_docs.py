"""Reading the docs repo for the numbers: RCA times and rows, Incident History rows, fleet-status entries."""

from __future__ import annotations

from datetime import UTC, date, datetime

import jinja2
import pytest

from bench.measures_similar import synthetic_repo
from bot.core.models import ActionItem, ActionStatus, Incident, IncidentStatus, Severity
from bot.core.rca import rca_environment, render_rca
from bot.core.rca_parse import parse_rca
from bot.core.stats_docs import _plain_rca, fleet_entries, history_rows, rca_facts
from tests.paths import FLEET_REPO

HAND_WRITTEN = "DOCS/incidents/2026-02-23-gateway-auth-outage-rca.md"


def test_a_hand_written_rca_gives_its_level_times_and_rows() -> None:
    facts = rca_facts(path=HAND_WRITTEN, text=(FLEET_REPO / HAND_WRITTEN).read_text(), tz="UTC")
    assert (facts.title, facts.level) == ("Gateway auth outage", Severity.SEV2)
    assert facts.declared == datetime(2026, 2, 23, 6, 10, tzinfo=UTC)
    assert facts.resolved == datetime(2026, 2, 23, 8, 45, tzinfo=UTC)
    assert [(r.number, r.owner, r.status) for r in facts.rows] == [
        (1, "@cto", ActionStatus.DONE),
        (2, "@cto", ActionStatus.DONE),
        (3, "@matt", ActionStatus.OPEN),
        (4, "@docs", ActionStatus.IN_PROGRESS),
    ]


def test_the_bots_rca_is_read_back_in_its_time_zone() -> None:
    declared = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    incident = Incident(
        id=7,
        title="Payments | refunds down",
        severity=Severity.SEV1,
        status=IncidentStatus.RESOLVED,
        commander_id="UALICE",
        declared_by="UALICE",
        declared_at=declared,
        resolved_at=datetime(2026, 11, 2, 10, 30, tzinfo=UTC),
    )
    item = ActionItem(
        incident_id=7, number=1, action="Add a `canary`", owner_id="UBOB", created_at=declared, updated_at=declared
    )
    text = render_rca(
        incident=incident,
        timeline=[],
        action_items=[item],
        names={"UALICE": "alice", "UBOB": "bob"},
        tz="Europe/Berlin",
        templates=rca_environment(jinja2.PackageLoader("bot", "templates")),
    )
    facts = rca_facts(path="DOCS/incidents/2026-11-02-payments-rca.md", text=text, tz="UTC")
    assert facts.declared == declared and facts.resolved == datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    assert facts.declared_on == date(2026, 11, 2) and facts.level == Severity.SEV1
    assert [(r.number, r.owner_id, r.status) for r in facts.rows] == [(1, "UBOB", ActionStatus.OPEN)]


def test_an_rca_with_only_a_date_has_a_day_and_no_moments() -> None:
    text = "# DNS outage\n\nDate: 2026-10-20  \nSeverity: SEV-2\n\n## What happened\n\nDNS broke.\n"
    facts = rca_facts(path="DOCS/incidents/dns-rca.md", text=text, tz="UTC")
    assert (facts.declared, facts.declared_on, facts.resolved) == (None, date(2026, 10, 20), None)
    assert facts.level == Severity.SEV2 and facts.rows == ()


TRICKY = [
    "# T\n\n## Action items\n\n| # | Action | Owner | Status |\n|---|---|---|---|\n| 1 | a \\| b | @x | Open |\n",
    "# T\n\n## Action items\n\n| # | Action | Owner | Status |\n|---|---|---|---|\n| 1 | a | @x | Open |\n\n"
    "| 2 | after a blank | @y | Done |\n",
    "# T\r\n\r\n## Action items\r\n\r\n| # | Action | Owner | Status |\r\n|---|---|---|---|\r\n"
    "| 1 | a | @x | Open |\r\n",
    "# T\n\n## Action items\n\n| Status | # | Owner | Action |\n|---|---|---|---|\n| Open | 1 | @x | a |\n",
    "# T\n\n## Action items\n\n| # | Action | Owner | Status |\n|---|---|---|---|\n| 1 | a | b (U0ABC) | ✅ DONE |\n"
    "| 1 | twice | @U0DEF | in progress |\n| x | not a number | @z | Open |\n\nSome text.\n",
    "# RCA: T\n- **Severity:** SEV-4\n\n## Action items\n\n| # | Action | Owner | Status |\n|---|---|---|---|\n"
    "| 1 | <b>html</b> & co | @x | Open |\n| 2 | two | @y | done |\n",
]


@pytest.mark.parametrize("text", TRICKY + [text for _, text in synthetic_repo(40)])
def test_the_quick_reader_agrees_with_parse_rca(text: str) -> None:
    assert_same_as_parse_rca(text)


def assert_same_as_parse_rca(text: str) -> None:
    parsed = parse_rca(text)
    facts = rca_facts(path="DOCS/incidents/x-rca.md", text=text, tz="UTC")
    rows = [(r.number, r.owner, r.owner_id, r.status) for r in parsed.action_items]
    assert (facts.title, facts.level) == (parsed.title, parsed.severity)
    assert [(r.number, r.owner, r.owner_id, r.status) for r in facts.rows] == rows


def test_the_quick_reader_agrees_on_the_fixture_and_the_benchmark_repos_rcas() -> None:
    from bench.docsrepo import RepoSize, rca_text

    size = RepoSize(rcas=30, commits=60, owners=7)
    texts = [(FLEET_REPO / HAND_WRITTEN).read_text()] + [rca_text(i, size, final=True) for i in range(1, 31)]
    for text in texts:
        assert_same_as_parse_rca(text)
    # Plain tables take the quick way; the fixture's (code spans in its cells) the full reader.
    assert [_plain_rca(text) is not None for text in texts] == [False] + [True] * 30


def test_history_rows_link_their_rcas_inside_the_repo() -> None:
    runbook = (FLEET_REPO / "runbooks" / "incident-response.md").read_text()
    row = next(line for line in runbook.splitlines() if line.startswith("| 2026-02-23 |"))
    runbook = runbook.replace(
        row,
        row + "\n| 2025-12-01 | SEV-1 | Before the bot | |\n"
        "| not a date | sev3 | Odd row | [RCA](../DOCS/incidents/2025%2012%20odd-rca.md) |\n"
        "| 2025-11-02 | SEV-2 | Elsewhere | [RCA](https://example.com/x.md) |",
    )
    rows = history_rows(runbook, runbook_path="runbooks/incident-response.md")
    assert [(r.day, r.level, r.rca) for r in rows] == [
        (date(2026, 2, 23), Severity.SEV2, HAND_WRITTEN),
        (date(2025, 12, 1), Severity.SEV1, None),
        (None, Severity.SEV3, "DOCS/incidents/2025 12 odd-rca.md"),
        (date(2025, 11, 2), Severity.SEV2, None),
    ]
    assert rows[0].summary.startswith("Gateway auth outage — 6/10 agents failed")


def test_fleet_status_entries_give_the_times_their_ranges_state() -> None:
    text = (FLEET_REPO / "fleet-status.md").read_text() + (
        "- [system] **INCIDENT — SEV-3 Disk (full) on ci-3 (2026-03-01 22:10 – 2026-03-02 01:45 Europe/Berlin).**\n"
        "- [system] **INCIDENT — SEV-1 Still going (2026-03-05 06:10 UTC – ongoing).** Broken.\n"
        "- [ops] **INCIDENT - SEV-2 By hand (2026-03-07).** Someone wrote it.\n"
        "- [docs] An entry that is not an incident.\n"
    )
    entries = fleet_entries(text, tz="UTC")
    assert [(e.level, e.title, e.declared, e.declared_on, e.resolved, e.rca) for e in entries] == [
        (
            Severity.SEV2,
            "Gateway auth outage",
            datetime(2026, 2, 23, 6, 10, tzinfo=UTC),
            date(2026, 2, 23),
            datetime(2026, 2, 23, 8, 45, tzinfo=UTC),
            HAND_WRITTEN,
        ),
        (
            Severity.SEV3,
            "Disk (full) on ci-3",
            datetime(2026, 3, 1, 21, 10, tzinfo=UTC),
            date(2026, 3, 1),
            datetime(2026, 3, 2, 0, 45, tzinfo=UTC),
            None,
        ),
        (Severity.SEV1, "Still going", datetime(2026, 3, 5, 6, 10, tzinfo=UTC), date(2026, 3, 5), None, None),
        (Severity.SEV2, "By hand", None, date(2026, 3, 7), None, None),
    ]
