"""Status updates in the core: the command, the entry, and the cadence arithmetic replicas agree on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.commands import OpenUpdateForm, PostUpdate, help_text, parse_command
from bot.core.errors import InvalidInput, InvalidTransition
from bot.core.models import Incident, IncidentStatus, Severity, TimelineEntry, TimelineKind
from bot.core.status_updates import (
    Cadence,
    cadence_for,
    describe_interval,
    nudge_key,
    nudge_target,
    step,
    timeline_text,
    update_entry,
)

DECLARED = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)


def incident(**changes: object) -> Incident:
    base = Incident(
        id=7,
        title="Checkout down",
        severity=Severity.SEV1,
        commander_id="UALICE",
        declared_by="UBOB",
        declared_at=DECLARED,
    )
    return base.model_copy(update=changes)


def entry(kind: TimelineKind, minutes: float, text: str = "x") -> TimelineEntry:
    return TimelineEntry(
        incident_id=7, kind=kind, occurred_at=DECLARED + timedelta(minutes=minutes), author_id="UALICE", text=text
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("update", OpenUpdateForm()),
        ("  UPDATE  ", OpenUpdateForm()),
        ("update Checkout is back for 90% of users", PostUpdate(text="Checkout is back for 90% of users")),
        ("update\nImpact: none\nNext: 10:30", PostUpdate(text="Impact: none\nNext: 10:30")),
        ("Update   rolled back <@U1>", PostUpdate(text="rolled back <@U1>")),
    ],
)
def test_update_is_parsed_with_its_lines_and_without_text_opens_the_form(text: str, expected: object) -> None:
    assert parse_command(text) == expected


def test_help_lists_the_update_command() -> None:
    assert "`/incident update <text>`" in help_text()


def test_an_update_is_an_entry_of_its_own_kind_and_labelled_on_the_timeline() -> None:
    made = update_entry(incident(), "  DB failed over  ", by="UBOB", now=DECLARED + HALF_HOUR)
    assert (made.kind, made.text, made.author_id, made.occurred_at) == (
        TimelineKind.STATUS_UPDATE,
        "DB failed over",
        "UBOB",
        DECLARED + HALF_HOUR,
    )
    assert timeline_text(made) == "Status update: DB failed over"
    assert timeline_text(entry(TimelineKind.NOTE, 1, "a note")) == "a note"


def test_updates_need_text_and_an_open_incident() -> None:
    with pytest.raises(InvalidInput, match="needs text") as empty:
        update_entry(incident(), "   ", by="UBOB", now=DECLARED)
    assert empty.value.field == "update"
    with pytest.raises(InvalidInput, match="at most 3000"):
        update_entry(incident(), "x" * 3001, by="UBOB", now=DECLARED)
    resolved = incident(status=IncidentStatus.RESOLVED, resolved_at=DECLARED + HALF_HOUR)
    with pytest.raises(InvalidTransition, match=r"resolved.*`/incident reopen`"):
        update_entry(resolved, "late news", by="UBOB", now=DECLARED + HALF_HOUR)


def test_the_interval_counts_from_the_last_update_or_reopen_else_the_declare() -> None:
    assert cadence_for(incident(), [], HALF_HOUR) == Cadence(anchor=DECLARED, every=HALF_HOUR)
    timeline = [
        entry(TimelineKind.DECLARED, 0),
        entry(TimelineKind.STATUS_UPDATE, 20),
        entry(TimelineKind.NOTE, 40),  # notes and pins are not updates
        entry(TimelineKind.STATUS_UPDATE, 45),
        entry(TimelineKind.MESSAGE, 50),
    ]
    assert cadence_for(incident(), timeline, HALF_HOUR) == Cadence(DECLARED + timedelta(minutes=45), HALF_HOUR)
    reopened = [*timeline, entry(TimelineKind.REOPENED, 300)]
    assert cadence_for(incident(), reopened, HALF_HOUR) == Cadence(DECLARED + timedelta(minutes=300), HALF_HOUR)


def test_no_cadence_for_a_level_without_one_or_a_resolved_incident() -> None:
    assert cadence_for(incident(severity=Severity.SEV3), [], None) is None
    resolved = incident(status=IncidentStatus.RESOLVED, resolved_at=DECLARED + HALF_HOUR)
    assert cadence_for(resolved, [], HALF_HOUR) is None


def test_intervals_are_numbered_from_one_and_end_on_exact_multiples() -> None:
    cadence = Cadence(anchor=DECLARED, every=HALF_HOUR)
    assert [cadence.due(n) for n in (1, 2, 3)] == [DECLARED + HALF_HOUR * n for n in (1, 2, 3)]
    moments = {
        DECLARED - timedelta(minutes=5): 0,
        DECLARED: 0,
        DECLARED + timedelta(minutes=29, seconds=59, microseconds=999_999): 0,
        DECLARED + HALF_HOUR: 1,
        DECLARED + timedelta(minutes=59): 1,
        DECLARED + timedelta(hours=1): 2,
        DECLARED + timedelta(hours=5, minutes=1): 10,
    }
    assert {moment: cadence.missed(moment) for moment in moments} == moments


def test_a_look_nudges_for_the_latest_missed_interval_and_looks_again_when_the_next_ends() -> None:
    cadence = Cadence(anchor=DECLARED, every=HALF_HOUR)
    early = step(cadence, DECLARED + timedelta(minutes=10))
    assert (early.number, early.nudge_due, early.next_check) == (0, None, DECLARED + HALF_HOUR)
    on_time = step(cadence, DECLARED + HALF_HOUR)
    assert (on_time.number, on_time.nudge_due, on_time.next_check) == (
        1,
        DECLARED + HALF_HOUR,
        DECLARED + HALF_HOUR * 2,
    )
    # Down for three intervals: one nudge, for the last of them, not three.
    late = step(cadence, DECLARED + timedelta(minutes=100))
    assert (late.number, late.nudge_due, late.next_check) == (3, DECLARED + HALF_HOUR * 3, DECLARED + HALF_HOUR * 4)


def test_fractions_of_a_minute_are_exact_so_replicas_agree() -> None:
    three_seconds = timedelta(minutes=0.05)
    assert three_seconds == timedelta(seconds=3)
    cadence = Cadence(anchor=DECLARED + timedelta(microseconds=123_456), every=three_seconds)
    assert cadence.missed(cadence.due(7)) == 7
    assert cadence.missed(cadence.due(7) - timedelta(microseconds=1)) == 6


def test_nudge_keys_name_the_incident_and_moment_in_utc_whatever_the_zone() -> None:
    berlin = timezone(timedelta(hours=1))
    at = DECLARED + HALF_HOUR
    assert nudge_key(7, at) == nudge_key(7, at.astimezone(berlin))
    assert nudge_key(7, at) != nudge_key(7, at + HALF_HOUR)
    assert nudge_key(7, at) != nudge_key(8, at)
    assert len(nudge_key(2**31, at)) < 255  # fits the jobs table's key column


def test_the_communications_lead_is_asked_for_the_update_else_the_commander() -> None:
    assert nudge_target(incident(commander_id="UCAROL")) == "UCAROL"
    assert nudge_target(incident(commander_id="UCAROL", roles={"comms": "UDAVE"})) == "UDAVE"
    assert nudge_target(incident(commander_id="UCAROL", roles={"scribe": "UERIN"})) == "UCAROL"


@pytest.mark.parametrize(
    ("interval", "said"),
    [
        (timedelta(minutes=30), "30 minutes"),
        (timedelta(hours=2), "2 hours"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(minutes=90), "90 minutes"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(seconds=3), "3 seconds"),
        (timedelta(milliseconds=200), "1 second"),
    ],
)
def test_intervals_read_as_people_say_them(interval: timedelta, said: str) -> None:
    assert describe_interval(interval) == said


def test_a_new_severity_brings_its_interval_counted_from_the_same_last_update() -> None:
    timeline = [entry(TimelineKind.DECLARED, 0), entry(TimelineKind.STATUS_UPDATE, 10)]
    eighty_minutes_in = DECLARED + timedelta(minutes=80)
    as_sev2 = cadence_for(incident(severity=Severity.SEV2), timeline, timedelta(hours=2))
    assert as_sev2 is not None and step(as_sev2, eighty_minutes_in).nudge_due is None
    as_sev1 = cadence_for(incident(), timeline, HALF_HOUR)
    assert as_sev1 is not None
    assert step(as_sev1, eighty_minutes_in).nudge_due == DECLARED + timedelta(minutes=70)  # overdue at once
