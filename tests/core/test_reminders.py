"""Who is due a nudge: the briefing's order, missing RCAs, and each owner's local morning."""

from __future__ import annotations

import time as time_module
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.models import IncidentStatus, Severity
from bot.core.reminders import briefing_groups, local_day_due, missing_rcas
from tests.core.test_open_items import BOT_PATH, FIXTURE_PATH, T0, make_incident, open_item

# ------------------------------------------------------------------------------------ the briefing


def test_an_overdue_sev1_item_comes_before_an_older_but_fresh_sev3_one() -> None:
    now = T0
    fresh_sev3 = open_item(
        incident_id=3, incident_title="Flaky agent", severity=Severity.SEV3, since=now - timedelta(days=1)
    )
    late_sev1 = open_item(
        incident_id=1, incident_title="Data leak", severity=Severity.SEV1, since=now - timedelta(hours=2)
    )
    assert late_sev1.overdue(now) and not fresh_sev3.overdue(now)

    groups = briefing_groups([fresh_sev3, late_sev1], now)
    assert [(g.incident_title, g.severity) for g in groups] == [
        ("Data leak", Severity.SEV1),
        ("Flaky agent", Severity.SEV3),
    ]


def test_briefing_groups_put_overdue_groups_first_then_the_oldest() -> None:
    now = T0
    items = [
        open_item(incident_id=1, incident_title="A", severity=Severity.SEV3, number=1, since=now - timedelta(days=1)),
        open_item(incident_id=2, incident_title="B", severity=Severity.SEV2, number=2, since=now - timedelta(days=2)),
        open_item(incident_id=2, incident_title="B", severity=Severity.SEV2, number=1, since=now - timedelta(hours=1)),
        open_item(incident_id=3, incident_title="C", severity=Severity.SEV1, number=1, since=now - timedelta(hours=3)),
        open_item(
            source="DOCS/incidents/notes.md",
            incident_id=None,
            incident_title="D",
            severity=None,
            since=now - timedelta(days=30),
        ),
        # Exactly at its response window is not overdue yet.
        open_item(incident_id=5, incident_title="E", severity=Severity.SEV1, since=now - timedelta(hours=1)),
    ]
    groups = briefing_groups(items, now)
    assert [g.incident_title for g in groups] == ["B", "C", "D", "A", "E"]
    assert [(i.number, i.overdue(now)) for i in groups[0].items] == [(2, True), (1, False)]
    assert groups[2].source == "DOCS/incidents/notes.md" and groups[2].severity is None


def test_briefing_keeps_files_with_the_same_title_apart() -> None:
    items = [
        open_item(source="DOCS/incidents/a-rca.md", incident_id=None, incident_title="Outage"),
        open_item(source="DOCS/incidents/b-rca.md", incident_id=None, incident_title="Outage"),
    ]
    assert [g.source for g in briefing_groups(items, T0)] == ["DOCS/incidents/a-rca.md", "DOCS/incidents/b-rca.md"]


def test_an_empty_briefing() -> None:
    assert briefing_groups([], T0) == []


# -------------------------------------------------------------------------------------- missing RCAs


def test_missing_rcas() -> None:
    present = [FIXTURE_PATH, BOT_PATH]
    sev2_without_file = make_incident(1, severity=Severity.SEV2)
    sev3_unwanted = make_incident(2, severity=Severity.SEV3)
    sev3_wanted = make_incident(3, severity=Severity.SEV3, rca_wanted=True)
    sev1_published = make_incident(4, severity=Severity.SEV1, rca_path=BOT_PATH)
    sev1_lost = make_incident(5, severity=Severity.SEV1, rca_path="DOCS/incidents/2026-03-01-gone-rca.md")
    sev1_active = make_incident(6, severity=Severity.SEV1, status=IncidentStatus.ACTIVE, resolved_at=None)
    incidents = [sev2_without_file, sev3_unwanted, sev3_wanted, sev1_published, sev1_lost, sev1_active]

    assert [i.id for i in missing_rcas(incidents, present)] == [1, 3, 5]
    assert missing_rcas([sev2_without_file], iter(present)) == [sev2_without_file]


# ------------------------------------------------------------------------------------ local_day_due

NINE = time(9, 0)


@pytest.mark.parametrize(
    ("now", "tz", "at", "expected"),
    [
        # Berlin, winter (UTC+1) and summer (UTC+2).
        (datetime(2026, 1, 15, 7, 59, tzinfo=UTC), "Europe/Berlin", NINE, None),
        (datetime(2026, 1, 15, 8, 0, tzinfo=UTC), "Europe/Berlin", NINE, date(2026, 1, 15)),
        (datetime(2026, 7, 15, 6, 59, tzinfo=UTC), "Europe/Berlin", NINE, None),
        (datetime(2026, 7, 15, 7, 0, tzinfo=UTC), "Europe/Berlin", NINE, date(2026, 7, 15)),
        # Berlin springs forward on 2026-03-29 at 01:00 UTC: 02:00 CET becomes 03:00 CEST.
        (datetime(2026, 3, 29, 6, 59, tzinfo=UTC), "Europe/Berlin", NINE, None),
        (datetime(2026, 3, 29, 7, 0, tzinfo=UTC), "Europe/Berlin", NINE, date(2026, 3, 29)),
        (datetime(2026, 3, 29, 0, 59, tzinfo=UTC), "Europe/Berlin", time(2, 30), None),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), "Europe/Berlin", time(2, 30), date(2026, 3, 29)),
        # Berlin falls back on 2026-10-25 at 01:00 UTC: 02:00–03:00 happens twice.
        (datetime(2026, 10, 25, 0, 29, tzinfo=UTC), "Europe/Berlin", time(2, 30), None),
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Europe/Berlin", time(2, 30), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 1, 10, tzinfo=UTC), "Europe/Berlin", time(2, 30), date(2026, 10, 25)),
        (datetime(2026, 10, 25, 7, 59, tzinfo=UTC), "Europe/Berlin", NINE, None),
        (datetime(2026, 10, 25, 8, 0, tzinfo=UTC), "Europe/Berlin", NINE, date(2026, 10, 25)),
        # New York springs forward on 2026-03-08 (07:00 UTC) and falls back on 2026-11-01 (06:00 UTC).
        (datetime(2026, 3, 8, 12, 59, tzinfo=UTC), "America/New_York", NINE, None),
        (datetime(2026, 3, 8, 13, 0, tzinfo=UTC), "America/New_York", NINE, date(2026, 3, 8)),
        (datetime(2026, 11, 1, 13, 59, tzinfo=UTC), "America/New_York", NINE, None),
        (datetime(2026, 11, 1, 14, 0, tzinfo=UTC), "America/New_York", NINE, date(2026, 11, 1)),
        (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "America/New_York", time(1, 30), date(2026, 11, 1)),
        (datetime(2026, 11, 1, 6, 10, tzinfo=UTC), "America/New_York", time(1, 30), date(2026, 11, 1)),
        # Still the evening before in New York while it is already morning in UTC.
        (datetime(2026, 2, 24, 3, 0, tzinfo=UTC), "America/New_York", time(21, 0), date(2026, 2, 23)),
        # Auckland (UTC+13 in February) is already on tomorrow's date.
        (datetime(2026, 2, 23, 19, 59, tzinfo=UTC), "Pacific/Auckland", NINE, None),
        (datetime(2026, 2, 23, 20, 0, tzinfo=UTC), "Pacific/Auckland", NINE, date(2026, 2, 24)),
        (datetime(2026, 2, 23, 12, 0, tzinfo=UTC), "Pacific/Auckland", time(0, 30), date(2026, 2, 24)),
        # A time given in another zone: only its wall-clock reading counts.
        (datetime(2026, 2, 23, 10, 0, tzinfo=ZoneInfo("Europe/Berlin")), "UTC", NINE, date(2026, 2, 23)),
        # Unknown or missing zones fall back to UTC.
        (datetime(2026, 2, 23, 8, 59, tzinfo=UTC), "Mars/Olympus_Mons", NINE, None),
        (datetime(2026, 2, 23, 9, 0, tzinfo=UTC), "Mars/Olympus_Mons", NINE, date(2026, 2, 23)),
        (datetime(2026, 2, 23, 9, 0, tzinfo=UTC), None, NINE, date(2026, 2, 23)),
        (datetime(2026, 2, 23, 9, 0, tzinfo=UTC), "", NINE, date(2026, 2, 23)),
        (datetime(2026, 2, 23, 9, 0, tzinfo=UTC), "America", NINE, date(2026, 2, 23)),
        (datetime(2026, 2, 23, 9, 0, tzinfo=UTC), "../../etc/passwd", NINE, date(2026, 2, 23)),
        (datetime(2026, 2, 23, 9, 0, tzinfo=UTC), "x" * 300, NINE, date(2026, 2, 23)),
        # A naive time is UTC, whatever the server's own zone.
        (datetime(2026, 2, 23, 20, 0), "Pacific/Auckland", NINE, date(2026, 2, 24)),
        (datetime(2026, 2, 23, 0, 0, tzinfo=UTC), "UTC", time(0, 0), date(2026, 2, 23)),
    ],
)
def test_local_day_due(now: datetime, tz: str | None, at: time, expected: date | None) -> None:
    assert local_day_due(now, tz=tz, at=at) == expected


def test_a_naive_now_is_utc_whatever_the_servers_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time_module.tzset()
    try:
        assert local_day_due(datetime(2026, 2, 23, 20, 0), tz="UTC", at=time(15, 0)) == date(2026, 2, 23)
    finally:
        monkeypatch.undo()
        time_module.tzset()


ZONES = sorted(available_timezones())
_INSTANTS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC))
_DAILY = st.times(max_value=time(23, 59))
_INTERESTING = st.sampled_from(
    ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Auckland", "Australia/Lord_Howe", "Pacific/Chatham"]
)


@given(now=_INSTANTS, tz=_INTERESTING | st.sampled_from(ZONES), at=_DAILY)
def test_local_day_due_is_the_local_date_or_none(now: datetime, tz: str, at: time) -> None:
    local = now.astimezone(ZoneInfo(tz))
    due = local_day_due(now, tz=tz, at=at)
    assert due in (None, local.date())
    if local.time() >= at:
        assert due == local.date()


@given(
    now=_INSTANTS,
    later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=30)),
    tz=_INTERESTING | st.sampled_from(ZONES),
    at=_DAILY | st.sampled_from([time(2, 30), time(1, 30), time(2, 0), time(0, 0)]),
)
def test_once_due_a_local_day_stays_due(now: datetime, later: timedelta, tz: str, at: time) -> None:
    zone = ZoneInfo(tz)
    first, second = local_day_due(now, tz=tz, at=at), local_day_due(now + later, tz=tz, at=at)
    if first is not None and (now + later).astimezone(zone).date() == first:
        assert second == first


@lru_cache
def _transitions(tz: str, year: int) -> list[datetime]:
    """The UTC instants in `year` at which `tz` changes its offset (DST starts and ends)."""
    zone = ZoneInfo(tz)
    start = datetime(year, 1, 1, tzinfo=UTC)

    def offset(moment: datetime) -> timedelta | None:
        return moment.astimezone(zone).utcoffset()

    found = []
    for day in range(366):
        moment = start + timedelta(days=day)
        if offset(moment) != offset(moment + timedelta(days=1)):
            minute = next(m for m in range(24 * 60) if offset(moment + timedelta(minutes=m + 1)) != offset(moment))
            found.append(moment + timedelta(minutes=minute + 1))
    return found


@st.composite
def _near_a_transition(draw: st.DrawFn) -> tuple[str, datetime, time]:
    tz = draw(st.sampled_from(["Europe/Berlin", "America/New_York", "Pacific/Auckland", "Australia/Lord_Howe"]))
    switch = draw(st.sampled_from(_transitions(tz, draw(st.integers(2020, 2030)))))
    now = switch + draw(st.timedeltas(min_value=timedelta(hours=-3), max_value=timedelta(hours=3)))
    wall = (switch + draw(st.timedeltas(min_value=timedelta(hours=-2), max_value=timedelta(hours=2)))).astimezone(
        ZoneInfo(tz)
    )
    return tz, now, wall.time().replace(second=0, microsecond=0, fold=0)


@given(case=_near_a_transition(), later=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=4)))
def test_around_dst_changes_a_due_day_stays_due(case: tuple[str, datetime, time], later: timedelta) -> None:
    tz, now, at = case
    first, second = local_day_due(now, tz=tz, at=at), local_day_due(now + later, tz=tz, at=at)
    local = now.astimezone(ZoneInfo(tz))
    assert first in (None, local.date())
    if first is not None and (now + later).astimezone(ZoneInfo(tz)).date() == first:
        assert second == first


@given(now=_INSTANTS, tz=st.text(max_size=30), at=_DAILY)
def test_a_zone_that_is_not_known_means_utc(now: datetime, tz: str, at: time) -> None:
    try:
        known = ZoneInfo(tz) if tz else None
    except Exception:  # noqa: BLE001 - anything ZoneInfo rejects
        known = None
    expected_zone = known or ZoneInfo("UTC")
    local = now.astimezone(expected_zone)
    assert local_day_due(now, tz=tz, at=at) in (None, local.date())
    if known is None:
        assert local_day_due(now, tz=tz, at=at) == (now.date() if now.time() >= at else None)
