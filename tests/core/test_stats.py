"""The incident numbers: exact values for known incidents (the bot's and the docs repo's), merged once."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.core.models import ActionItem, ActionStatus, Incident, IncidentStatus, Severity, TimelineEntry, TimelineKind
from bot.core.stats import IncidentFacts, ItemFacts, compute_stats, percentile
from bot.core.stats_docs import fleet_entries, history_rows, rca_facts
from bot.core.stats_merge import BotIncident, DocsFacts, first_status_update, merge_incidents

NOW = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
LEVELS = (Severity.SEV1, Severity.SEV2, Severity.SEV3)
PAYMENTS_RCA = "DOCS/incidents/2026-11-02-payments-down-rca.md"
DNS_RCA = "DOCS/incidents/2026-10-20-dns-outage-rca.md"

PAYMENTS_TEXT = """# RCA: Payments down

- **Severity:** SEV-1
- **Declared:** 2026-11-02 10:00 UTC
- **Resolved:** 2026-11-02 11:30 UTC

## Action items

| # | Action | Owner | Status |
|---|--------|-------|--------|
| 1 | Add a canary | @alice (UALICE) | Open |
| 2 | Roll back faster | @bob (UBOB) | ✅ DONE |
"""
DNS_TEXT = """# DNS outage

Date: 2026-10-20
Severity: SEV-2

## Action items

| # | Action | Owner | Status |
|---|--------|-------|--------|
| 1 | Lower the TTL | @carol | Done |
| 2 | Add a second resolver | @carol | Open |
"""
RUNBOOK = """# Runbook

## Incident History

| Date | SEV | Summary | RCA |
|------|-----|---------|-----|
| 2026-10-05 | SEV-1 | Database failover — primary lost | |
| 2026-11-02 | SEV-1 | Payments down — cards declined | [RCA](../DOCS/incidents/2026-11-02-payments-down-rca.md) |
"""
FLEET = """# Fleet Status

## Recent Activity

- [system] **INCIDENT — SEV-2 Leaked key (2026-11-09 08:00–12:00 UTC).** Rotated.
- [system] **INCIDENT — SEV-1 Payments down (2026-11-02 10:00–11:30 UTC).** Fixed. Full RCA: `DOCS/incidents/2026-11-02-payments-down-rca.md`
- [system] **INCIDENT — SEV-2 DNS outage (2026-10-20 14:00–16:30 UTC).** Fixed. Full RCA: `DOCS/incidents/2026-10-20-dns-outage-rca.md`
- [system] **INCIDENT — SEV-1 Database failover (2026-10-05 03:00–05:00 UTC).** Failed over.
"""  # noqa: E501


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def incident(number: int, title: str, severity: Severity, declared: datetime, **fields: object) -> Incident:
    resolved = fields.pop("resolved", None)
    return Incident(
        id=number,
        title=title,
        severity=severity,
        status=IncidentStatus.RESOLVED if resolved else IncidentStatus.ACTIVE,
        commander_id="UALICE",
        declared_by="UALICE",
        declared_at=declared,
        resolved_at=resolved,
        **fields,
    )


def item(
    incident_id: int, number: int, owner: str, created: datetime, status: ActionStatus, updated: datetime
) -> ActionItem:
    return ActionItem(
        incident_id=incident_id,
        number=number,
        action=f"item {number}",
        owner_id=owner,
        status=status,
        created_at=created,
        updated_at=updated,
    )


def known_incidents() -> list[IncidentFacts]:
    """Three incidents the bot ran (one private, one still open) and two known only from the docs repo."""
    update = TimelineEntry(
        incident_id=1, kind=TimelineKind.STATUS_UPDATE, occurred_at=at(11, 2, 10, 15), text="Cards fail."
    )
    later = update.model_copy(update={"occurred_at": at(11, 2, 10, 45)})
    bot = [
        BotIncident(
            incident(
                1, "Payments down", Severity.SEV1, at(11, 2, 10), resolved=at(11, 2, 11, 30), rca_path=PAYMENTS_RCA
            ),
            items=(
                item(1, 1, "UALICE", at(11, 2, 10, 10), ActionStatus.OPEN, at(11, 2, 10, 10)),
                item(1, 2, "UBOB", at(11, 2, 10, 20), ActionStatus.DONE, at(11, 3, 9)),
            ),
            first_update=first_status_update([later, update]),
        ),
        BotIncident(
            incident(2, "Leaked key", Severity.SEV2, at(11, 9, 8), resolved=at(11, 9, 12), private=True),
            items=(item(2, 1, "UBOB", at(11, 9, 9), ActionStatus.OPEN, at(11, 9, 9)),),
        ),
        BotIncident(incident(3, "Disk full on ci-3", Severity.SEV3, at(11, 10, 9))),
    ]
    docs = DocsFacts(
        rcas={
            PAYMENTS_RCA: rca_facts(path=PAYMENTS_RCA, text=PAYMENTS_TEXT, tz="UTC"),
            DNS_RCA: rca_facts(path=DNS_RCA, text=DNS_TEXT, tz="UTC"),
        },
        history=history_rows(RUNBOOK, runbook_path="runbooks/incident-response.md"),
        fleet=fleet_entries(FLEET, tz="UTC"),
    )
    return merge_incidents(bot=bot, docs=docs, tz="UTC")


def test_each_incident_is_counted_once_wherever_it_is_written_down() -> None:
    found = {(i.source, i.title): i for i in known_incidents()}
    assert sorted(found) == [
        ("bot", "Disk full on ci-3"),
        ("bot", "Leaked key"),
        ("bot", "Payments down"),
        ("fleet_status", "Database failover"),
        ("rca", "DNS outage"),
    ]
    dns = found[("rca", "DNS outage")]  # its times come from its fleet-status entry
    assert (dns.declared, dns.resolved, dns.unknown) == (
        at(10, 20, 14),
        at(10, 20, 16, 30),
        frozenset({"first_update"}),
    )
    failover = found[("fleet_status", "Database failover")]  # and its Incident History row
    assert (failover.level, failover.resolve_minutes, failover.rca) == (Severity.SEV1, 120.0, None)
    payments = found[("bot", "Payments down")]
    assert payments.first_update_minutes == 15.0 and payments.rca == PAYMENTS_RCA


def test_the_numbers_of_known_incidents() -> None:
    report = compute_stats(known_incidents(), now=NOW, tz="UTC", levels=LEVELS)
    assert report.totals.model_dump() == {
        "incidents": 5,
        "private": 1,
        "from_bot": 3,
        "only_in_git": 2,
        "no_level": 0,
        "no_date": 0,
    }
    one, two, three = (report.by_level[level] for level in ("SEV-1", "SEV-2", "SEV-3"))
    # SEV-1: payments 90 min, failover 120 min; SEV-2: leaked key 240 min, DNS 150 min.
    assert (one.count, one.resolve_minutes_median, one.resolve_minutes_p90, one.missing_rca) == (2, 105.0, 117.0, 1)
    assert (one.first_update, one.first_update_minutes_median) == (1, 15.0)
    assert (two.count, two.resolve_minutes_median, two.resolve_minutes_p90, two.missing_rca) == (2, 195.0, 231.0, 1)
    assert (three.count, three.resolved, three.resolve_minutes_median, three.missing_rca) == (1, 0, None, 0)
    assert [(w.period, w.levels, w.total) for w in report.by_week] == [
        ("2026-W41", {"SEV-1": 1, "SEV-2": 0, "SEV-3": 0}, 1),
        ("2026-W42", {"SEV-1": 0, "SEV-2": 0, "SEV-3": 0}, 0),
        ("2026-W43", {"SEV-1": 0, "SEV-2": 1, "SEV-3": 0}, 1),
        ("2026-W44", {"SEV-1": 0, "SEV-2": 0, "SEV-3": 0}, 0),
        ("2026-W45", {"SEV-1": 1, "SEV-2": 0, "SEV-3": 0}, 1),
        ("2026-W46", {"SEV-1": 0, "SEV-2": 1, "SEV-3": 1}, 2),
    ]
    assert [(m.period, m.levels) for m in report.by_month] == [
        ("2026-10", {"SEV-1": 1, "SEV-2": 1, "SEV-3": 0}),
        ("2026-11", {"SEV-1": 1, "SEV-2": 1, "SEV-3": 1}),
    ]
    assert [(m.period, m.resolve_minutes_median) for m in report.resolve_by_month] == [
        ("2026-10", {"SEV-1": 120.0, "SEV-2": 150.0, "SEV-3": None}),
        ("2026-11", {"SEV-1": 90.0, "SEV-2": 240.0, "SEV-3": None}),
    ]
    # Payments' two rows (the RCA's status), the leaked key's one, DNS's two: 2 done of 5.
    items = report.action_items
    assert (items.opened, items.done, items.open, items.in_progress, items.completion_rate) == (5, 2, 3, 0, 0.4)
    # Open ages: payments #1 15.99 days, leaked key #1 9.04, DNS #2 29.42 (from the start of its day).
    assert items.median_open_age_days == 15.99
    assert [(o.owner, o.owner_id, o.count, o.oldest_days) for o in report.overdue] == [
        ("@carol", None, 1, 29.42),
        ("@alice", "UALICE", 1, 15.99),
        ("<@UBOB>", "UBOB", 1, 9.04),
    ]
    assert next((i.level, i.rca, i.number) for o in report.overdue for i in o.items) == ("SEV-2", DNS_RCA, 2)
    assert [(i.declared_on, i.level, i.source) for i in report.missing_rca] == [
        (date(2026, 10, 5), "SEV-1", "fleet_status"),
        (date(2026, 11, 9), "SEV-2", "bot"),
    ]
    # Open at the end of each week: DNS #2 from W43, payments #1 from W45 (its #2 was done within that week),
    # the leaked key's from W46; DNS #1, done by hand on a day nobody wrote down, is left out.
    assert [(p.period, p.open) for p in report.open_items_by_week][-5:] == [
        ("2026-W43", 1),
        ("2026-W44", 1),
        ("2026-W45", 2),
        ("2026-W46", 3),
        ("2026-W47", 3),
    ]
    assert any("known only from the docs repo" in note for note in report.notes)


def test_private_incidents_are_counted_and_never_titled() -> None:
    report = compute_stats(known_incidents(), now=NOW, tz="UTC", levels=LEVELS)
    text = report.model_dump_json()
    assert "Leaked key" not in text
    data = json.loads(text)
    private = [i for i in data["incidents"] if i["private"]]
    assert len(private) == 1 and "title" not in private[0] and private[0]["level"] == "SEV-2"
    assert "title" not in next(i for i in data["missing_rca"] if i["private"])
    assert all("title" in i for i in data["incidents"] if not i["private"])
    assert set(data["by_level"]["SEV-1"]) >= {"count", "resolve_minutes_median", "resolve_minutes_p90"}
    assert set(data["action_items"]) >= {"open", "done", "completion_rate", "median_open_age_days"}
    assert set(data["incidents"][0]) >= {"level", "declared", "resolved", "rca", "source"}


def test_since_and_until_keep_the_days_in_between() -> None:
    report = compute_stats(
        known_incidents(), now=NOW, tz="UTC", since=date(2026, 11, 1), until=date(2026, 11, 9), levels=LEVELS
    )
    assert [(i.declared_on, i.level) for i in report.incidents] == [
        (date(2026, 11, 2), "SEV-1"),
        (date(2026, 11, 9), "SEV-2"),
    ]
    assert [w.period for w in report.by_week] == ["2026-W44", "2026-W45", "2026-W46"]
    assert report.action_items.opened == 3


def test_days_are_local_to_the_time_zone() -> None:
    late = IncidentFacts(level=Severity.SEV2, title="Late", source="bot", declared=at(11, 15, 23, 30))
    facts = merge_incidents(
        bot=[BotIncident(incident(9, "Late", Severity.SEV2, at(11, 15, 23, 30)))], docs=DocsFacts(), tz="Asia/Tokyo"
    )
    assert late.declared_on is None and facts[0].declared_on == date(2026, 11, 16)
    report = compute_stats(facts, now=NOW, tz="Asia/Tokyo", since=date(2026, 11, 16))
    assert report.totals.incidents == 1 and report.by_week[0].period == "2026-W47"


def test_percentiles_are_linear_between_ranks() -> None:
    assert percentile([10.0 * n for n in range(1, 11)], 0.9) == 91.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([7.0], 0.9) == 7.0 and percentile([], 0.5) is None


minutes = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(st.lists(minutes, min_size=1, max_size=60))
def test_a_median_lies_between_the_extremes_and_below_the_p90(values: list[float]) -> None:
    median, p90 = percentile(values, 0.5), percentile(values, 0.9)
    assert median is not None and p90 is not None
    assert min(values) <= median <= p90 <= max(values)
    assert median == statistics.median(values) or abs(median - statistics.median(values)) < 1e-6


statuses = st.sampled_from(list(ActionStatus))


@given(st.lists(st.tuples(statuses, st.integers(min_value=0, max_value=400)), max_size=40))
def test_the_completion_rate_is_a_share_and_open_plus_done_is_all(rows: list[tuple[ActionStatus, int]]) -> None:
    items = tuple(
        ItemFacts(number=n + 1, owner="@x", owner_id=None, status=status, opened=NOW - timedelta(days=age))
        for n, (status, age) in enumerate(rows)
    )
    facts = [IncidentFacts(level=Severity.SEV2, title="t", source="rca", declared_on=date(2026, 1, 1), items=items)]
    numbers = compute_stats(facts, now=NOW).action_items
    assert numbers.open + numbers.done == numbers.opened == len(rows)
    assert (numbers.completion_rate is None) == (not rows)
    assert numbers.completion_rate is None or 0.0 <= numbers.completion_rate <= 1.0
    assert numbers.median_open_age_days is None or 0 <= numbers.median_open_age_days <= 400
