"""Open action items from RCAs and the database, and who owns them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.models import ActionItem, ActionStatus, Incident, IncidentStatus, Severity
from bot.core.open_items import OpenItem, Person, by_owner, collect_open_items, match_owner, rca_date
from bot.core.rca import render_rca, set_action_status
from bot.core.reminders import briefing_groups
from tests.core.test_rca import SHIPPED
from tests.paths import FLEET_REPO, HAND_WRITTEN_RCA

FIXTURE_PATH = HAND_WRITTEN_RCA
FIXTURE_RCA = (FLEET_REPO / FIXTURE_PATH).read_text(encoding="utf-8")


MATT = Person("U0MATT", "matt", display_name="Matt", real_name="Matt Stone", tz="Europe/Berlin")
CTO = Person("U0CTO", "cto", display_name="CTO", real_name="Carla Torres", tz="America/New_York")
ALICE = Person("U0ALICE", "alice", display_name="Alice", real_name="Alice Liddell", tz="Pacific/Auckland")
GONE = Person("U0GONE", "bob", display_name="Bob", real_name="Bob Gone", deleted=True)
PEOPLE = [MATT, CTO, ALICE, GONE]
NAMES = {person.id: person.name for person in PEOPLE}
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def line_of(text: str, fragment: str) -> int:
    return next(number for number, line in enumerate(text.split("\n"), start=1) if fragment in line)


def make_incident(incident_id: int | None = 7, **changes: object) -> Incident:
    values: dict[str, object] = {
        "id": incident_id,
        "title": "Checkout latency",
        "severity": Severity.SEV2,
        "status": IncidentStatus.RESOLVED,
        "commander_id": MATT.id,
        "declared_by": MATT.id,
        "declared_at": T0,
        "resolved_at": T0 + timedelta(hours=2),
        "room_id": f"C{incident_id}",
    }
    return Incident.model_validate(values | changes)


def make_item(incident_id: int, number: int, **changes: object) -> ActionItem:
    created = T0 + timedelta(hours=number)
    values: dict[str, object] = {
        "incident_id": incident_id,
        "number": number,
        "action": f"Action {number}",
        "created_at": created,
        "updated_at": created,
    }
    return ActionItem.model_validate(values | changes)


def open_item(**changes: object) -> OpenItem:
    values: dict[str, object] = {
        "source": None,
        "incident_id": 1,
        "incident_title": "Incident",
        "severity": Severity.SEV3,
        "number": 1,
        "action": "Do it",
        "owner": "@matt",
        "owner_id": MATT.id,
        "status": ActionStatus.OPEN,
        "since": T0,
    }
    return OpenItem(**(values | changes))  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------- match_owner


@pytest.mark.parametrize(
    ("owner", "owner_id", "expected"),
    [
        ("whoever", "U0EXPLICIT", "U0EXPLICIT"),
        ("<@U0ALICE>", None, ALICE.id),
        ("<@U0ALICE|alice>", None, ALICE.id),
        ("cc <@W0ENTERPRISE|someone>", None, "W0ENTERPRISE"),
        ("@alice (U0ALICE)", None, ALICE.id),
        ("@someone new (U0NEW)", None, "U0NEW"),
        ("@matt", None, MATT.id),
        ("MATT", None, MATT.id),
        ("  @Matt  ", None, MATT.id),
        ("Matt   Stone", None, MATT.id),
        ("@carla torres", None, CTO.id),
        ("U0CTO", None, CTO.id),
        ("@docs", None, None),
        ("", None, None),
        ("@", None, None),
    ],
)
def test_match_owner(owner: str, owner_id: str | None, expected: str | None) -> None:
    assert match_owner(owner, owner_id, PEOPLE) == expected


def test_owner_map_keys_ignore_case_and_a_leading_at() -> None:
    owner_map = {"@Docs Team": "U0DOCS", "matt": "U0OTHERMATT"}
    assert match_owner("@docs   team", None, PEOPLE, owner_map) == "U0DOCS"
    assert match_owner("DOCS TEAM", None, PEOPLE, owner_map) == "U0DOCS"
    # OWNER_MAP wins over names, but not over an ID the cell spells out.
    assert match_owner("@matt", None, PEOPLE, owner_map) == "U0OTHERMATT"
    assert match_owner("@matt (U0MATT)", None, PEOPLE, owner_map) == MATT.id
    assert match_owner("@matt", MATT.id, PEOPLE, owner_map) == MATT.id


def test_display_name_comes_before_username_and_real_name() -> None:
    by_display = Person("U0A", "a.user", display_name="sam")
    by_username = Person("U0B", "sam")
    by_real_name = Person("U0C", "c.user", real_name="Sam")
    assert match_owner("@sam", None, [by_real_name, by_username, by_display]) == "U0A"
    assert match_owner("@sam", None, [by_real_name, by_username]) == "U0B"
    assert match_owner("@sam", None, [by_real_name]) == "U0C"


def test_a_name_several_people_answer_to_matches_nobody_unless_the_username_tells_them_apart() -> None:
    first = Person("U0A", "sam.a", display_name="Sam")
    second = Person("U0B", "sam.b", display_name="Sam")
    assert match_owner("@sam", None, [first, second]) is None
    # Someone else's real name must not break the tie either.
    assert match_owner("@sam", None, [first, second, Person("U0C", "c", real_name="Sam")]) is None
    second_is_sam = Person("U0B", "sam", display_name="Sam")
    assert match_owner("@sam", None, [first, second_is_sam]) == "U0B"


def test_deleted_users_never_match() -> None:
    assert match_owner("@bob", None, PEOPLE) is None
    assert match_owner("Bob Gone", None, PEOPLE) is None
    assert match_owner("<@U0GONE>", None, PEOPLE) is None
    assert match_owner("@bob (U0GONE)", None, PEOPLE) is None
    assert match_owner("@bob", GONE.id, PEOPLE) is None
    assert match_owner("@bob", None, PEOPLE, {"bob": GONE.id}) is None
    # Someone living who goes by the same name is found instead.
    new_bob = Person("U0NEWBOB", "bob2", display_name="Bob")
    assert match_owner("@bob", None, [*PEOPLE, new_bob]) == new_bob.id


_IDS = st.sampled_from(["U01", "U02", "U03", "W04", "U05"])
_NAMES = st.sampled_from(["", "sam", "Sam", "@sam", "alex", "Alex Kim", "U01", "u02"])
_PEOPLE = st.lists(
    st.builds(Person, id=_IDS, name=_NAMES, display_name=_NAMES, real_name=_NAMES, deleted=st.booleans()),
    max_size=6,
)
_OWNER_CELLS = st.one_of(
    _NAMES,
    _IDS.map(lambda user: f"<@{user}>"),
    _IDS.map(lambda user: f"<@{user}|sam>"),
    st.tuples(_NAMES, _IDS).map(lambda pair: f"{pair[0]} ({pair[1]})"),
    st.text(max_size=20),
)


@given(
    people=_PEOPLE,
    owner=_OWNER_CELLS,
    owner_id=st.none() | _IDS,
    owner_map=st.dictionaries(_NAMES, _IDS, max_size=3),
)
def test_match_owner_never_returns_a_deleted_users_id(
    people: list[Person], owner: str, owner_id: str | None, owner_map: dict[str, str]
) -> None:
    deleted = {p.id for p in people if p.deleted} - {p.id for p in people if not p.deleted}
    assert match_owner(owner, owner_id, people, owner_map) not in deleted


# ------------------------------------------------------------------------------------------ rca_date


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (FIXTURE_PATH, date(2026, 2, 23)),
        ("2026-02-23-x-rca.md", date(2026, 2, 23)),
        ("DOCS/incidents/2026-02-30-impossible-rca.md", None),
        ("DOCS/incidents/gateway-rca.md", None),
        ("DOCS/2026-02-23/gateway-rca.md", None),
    ],
)
def test_rca_date(path: str, expected: date | None) -> None:
    assert rca_date(path) == expected


# ------------------------------------------------------------------------- the hand-written fixture


def test_the_hand_written_fixture_has_items_3_and_4_open() -> None:
    text = FIXTURE_RCA
    found = collect_open_items(rca_files={FIXTURE_PATH: text}, incidents=[], db_items={}, people=PEOPLE)

    assert found.problems == []
    assert found.status_changes == []
    assert [(i.number, i.status, i.owner, i.owner_id) for i in found.items] == [
        (3, ActionStatus.OPEN, "@matt", MATT.id),
        (4, ActionStatus.IN_PROGRESS, "@docs", None),
    ]
    page, runbook = found.items
    assert page.action == "Page a human when 3+ agents fail within 10 minutes"
    assert page.line == line_of(text, "| 3 | Page a human")
    assert runbook.line == line_of(text, "| 4 | Update the redeploy runbook")
    for item in found.items:
        assert item.source == FIXTURE_PATH
        assert item.incident_id is None
        assert item.room_id is None
        assert item.incident_title == "Gateway auth outage"
        assert item.severity is Severity.SEV2
        assert item.since == datetime(2026, 2, 23, tzinfo=UTC)


def test_fixture_owners_match_by_display_name_and_the_owner_map() -> None:
    people = [Person("U0M", "matthew.stone", display_name="matt"), Person("U0D", "docs-bot", deleted=True)]
    found = collect_open_items(
        rca_files={FIXTURE_PATH: FIXTURE_RCA}, incidents=[], db_items={}, people=people, owner_map={"@Docs": "U0DOCS"}
    )
    assert {i.number: i.owner_id for i in found.items} == {3: "U0M", 4: "U0DOCS"}


def test_an_unmatched_owner_is_left_out_of_reminders_but_not_out_of_the_briefing() -> None:
    found = collect_open_items(rca_files={FIXTURE_PATH: FIXTURE_RCA}, incidents=[], db_items={}, people=PEOPLE)
    assert {owner: [i.number for i in items] for owner, items in by_owner(found.items).items()} == {MATT.id: [3]}

    # SEV-2 must be dealt with the same day: two days later both items are overdue.
    groups = briefing_groups(found.items, datetime(2026, 2, 25, 9, tzinfo=UTC))
    assert [(g.incident_title, g.source, g.severity) for g in groups] == [
        ("Gateway auth outage", FIXTURE_PATH, Severity.SEV2)
    ]
    assert [(i.number, i.owner_id) for i in groups[0].items] == [(3, MATT.id), (4, None)]
    assert all(i.overdue(datetime(2026, 2, 25, tzinfo=UTC)) for i in groups[0].items)
    assert not any(i.overdue(datetime(2026, 2, 24, tzinfo=UTC)) for i in groups[0].items)


def test_a_hand_written_rca_for_a_bot_incident_without_its_path_stays_hand_written() -> None:
    incident = make_incident(3, title="Gateway auth outage")
    found = collect_open_items(
        rca_files={FIXTURE_PATH: FIXTURE_RCA}, incidents=[incident], db_items={3: []}, people=PEOPLE
    )
    assert [(i.number, i.incident_id, i.source) for i in found.items] == [
        (3, None, FIXTURE_PATH),
        (4, None, FIXTURE_PATH),
    ]


# -------------------------------------------------------------------------------- malformed tables

BROKEN_PATH = "DOCS/incidents/2026-01-10-broken-table-rca.md"
BROKEN_RCA = """# RCA: Broken table

- **Severity:** SEV-3

## Action items

| # | Action | Owner | Status |
|---|--------|-------|--------|
| 1 | A good row | @matt | Open |
| 2 | A missing column | @matt |
| 3 | An extra | pipe | @alice | Open |
| x | A non-numeric number | @matt | Open |
| 4 | An unknown status | @matt | Maybe |

| 5 | After a blank line | @alice | In progress |
| 6 | Already done | @matt | ✅ DONE |
| 7 | Done without the tick | @matt | done |
"""


def test_malformed_rows_are_reported_with_file_and_line_and_good_rows_still_count() -> None:
    found = collect_open_items(
        rca_files={BROKEN_PATH: BROKEN_RCA, FIXTURE_PATH: FIXTURE_RCA}, incidents=[], db_items={}, people=PEOPLE
    )

    problems = [(p.path, p.line) for p in found.problems]
    assert problems == [
        (BROKEN_PATH, line_of(BROKEN_RCA, "A missing column")),
        (BROKEN_PATH, line_of(BROKEN_RCA, "An extra")),
        (BROKEN_PATH, line_of(BROKEN_RCA, "A non-numeric")),
        (BROKEN_PATH, line_of(BROKEN_RCA, "An unknown status")),
        (BROKEN_PATH, line_of(BROKEN_RCA, "An unknown status") + 1),
    ]
    messages = [p.message for p in found.problems]
    assert "missing column" in messages[0]
    assert "unescaped |" in messages[1]
    assert "'#' should be a number" in messages[2]
    assert "unknown status" in messages[3]
    assert "blank line" in messages[4]

    broken = [(i.number, i.owner_id, i.line) for i in found.items if i.source == BROKEN_PATH]
    assert broken == [
        (1, MATT.id, line_of(BROKEN_RCA, "A good row")),
        (5, ALICE.id, line_of(BROKEN_RCA, "After a blank line")),
    ]
    assert [i.number for i in found.items if i.source == FIXTURE_PATH] == [3, 4]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("# RCA: No table\n\n## Timeline\n\nNothing.\n", 0, "No '## Action items' section"),
        ("# RCA: Empty\n\n## Action items\n\nNone yet.\n", 3, "has no table"),
        ("# RCA: Odd\n\n## Action items\n\n| # | Action | Who |\n|---|---|---|\n| 1 | x | @matt |\n", 5, "columns"),
    ],
)
def test_a_file_without_a_usable_table_is_reported(text: str, line: int, words: str) -> None:
    found = collect_open_items(rca_files={"DOCS/incidents/odd.md": text}, incidents=[], db_items={}, people=PEOPLE)
    assert found.items == []
    assert [(p.path, p.line) for p in found.problems] == [("DOCS/incidents/odd.md", line)]
    assert words in found.problems[0].message


def test_a_hand_written_rca_without_a_date_or_severity_is_never_overdue() -> None:
    text = (
        "# Notes\n\n## Action items\n\n| # | Action | Owner | Status |\n|---|---|---|---|\n| 1 | x | @matt | Open |\n"
    )
    found = collect_open_items(rca_files={"DOCS/incidents/notes.md": text}, incidents=[], db_items={}, people=PEOPLE)
    (item,) = found.items
    assert (item.incident_title, item.severity, item.since) == ("Notes", None, datetime(1970, 1, 1, tzinfo=UTC))
    assert not item.overdue(T0)


# ------------------------------------------------------------------------------------ bot-made RCAs

BOT_PATH = "DOCS/incidents/2026-03-01-checkout-latency-rca.md"


def bot_made() -> tuple[Incident, list[ActionItem], str]:
    incident = make_incident(7, severity=Severity.SEV1, rca_path=BOT_PATH)
    items = [
        make_item(7, 1, action="Alert on p99 latency", owner_id=MATT.id),
        make_item(7, 2, action="Write the cache runbook", owner_label="@docs team", status=ActionStatus.IN_PROGRESS),
        make_item(7, 3, action="Fix the retry storm", owner_id=ALICE.id, status=ActionStatus.DONE),
    ]
    text = render_rca(incident=incident, timeline=[], action_items=items, names=NAMES, templates=SHIPPED)
    return incident, items, text


def test_a_bot_made_rca_round_trips() -> None:
    incident, items, text = bot_made()
    found = collect_open_items(
        rca_files={BOT_PATH: text},
        incidents=[incident],
        db_items={7: items},
        people=PEOPLE,
        owner_map={"Docs Team": "U0DOCS"},
    )

    assert found.problems == []
    assert found.status_changes == []
    assert [(i.number, i.action, i.owner, i.owner_id, i.status) for i in found.items] == [
        (1, "Alert on p99 latency", "@matt", MATT.id, ActionStatus.OPEN),
        (2, "Write the cache runbook", "@docs team", "U0DOCS", ActionStatus.IN_PROGRESS),
    ]
    for item, stored in zip(found.items, items, strict=False):
        assert item.since == stored.created_at
        assert (item.incident_id, item.room_id, item.source) == (7, "C7", BOT_PATH)
        assert (item.incident_title, item.severity) == ("Checkout latency", Severity.SEV1)
        assert item.line == line_of(text, stored.action)


def test_marking_a_row_done_in_the_file_closes_it_and_tells_the_database() -> None:
    incident, items, text = bot_made()
    edited = set_action_status(text, 1, ActionStatus.DONE)
    edited = set_action_status(edited, 3, ActionStatus.OPEN)  # someone reopened item 3 by hand

    found = collect_open_items(rca_files={BOT_PATH: edited}, incidents=[incident], db_items={7: items}, people=PEOPLE)

    assert [(i.number, i.status) for i in found.items] == [(2, ActionStatus.IN_PROGRESS), (3, ActionStatus.OPEN)]
    assert sorted(found.status_changes) == [(7, 1, ActionStatus.DONE), (7, 3, ActionStatus.OPEN)]
    assert found.items[1].since == items[2].created_at


def test_a_status_changed_in_slack_counts_before_its_commit_lands() -> None:
    incident, items, text = bot_made()  # the file still says item 1 is Open …
    marked = [items[0].model_copy(update={"status": ActionStatus.DONE}), *items[1:]]  # … Slack said done
    pending = {(BOT_PATH, 1): ActionStatus.DONE, (FIXTURE_PATH, 3): ActionStatus.IN_PROGRESS}

    found = collect_open_items(
        rca_files={BOT_PATH: text, FIXTURE_PATH: FIXTURE_RCA},
        incidents=[incident],
        db_items={7: marked},
        people=PEOPLE,
        rows_being_written=pending,
    )

    assert found.status_changes == []  # the file's older word does not undo the change
    assert sorted((i.source, i.number, i.status) for i in found.items) == sorted(
        [
            (BOT_PATH, 2, ActionStatus.IN_PROGRESS),
            (FIXTURE_PATH, 3, ActionStatus.IN_PROGRESS),
            (FIXTURE_PATH, 4, ActionStatus.IN_PROGRESS),
        ]
    )
    without = collect_open_items(rca_files={BOT_PATH: text}, incidents=[incident], db_items={7: marked}, people=PEOPLE)
    assert without.status_changes == [(7, 1, ActionStatus.OPEN)]  # what happened before: the file won


def test_once_the_database_follows_the_file_there_is_no_change_left() -> None:
    incident, items, text = bot_made()
    edited = set_action_status(text, 1, ActionStatus.DONE)
    followed = [items[0].model_copy(update={"status": ActionStatus.DONE}), *items[1:]]
    found = collect_open_items(
        rca_files={BOT_PATH: edited}, incidents=[incident], db_items={7: followed}, people=PEOPLE
    )
    assert found.status_changes == []
    assert [i.number for i in found.items] == [2]


def test_an_item_added_after_the_rca_was_published_is_still_tracked() -> None:
    incident, items, text = bot_made()
    later = make_item(7, 4, action="Load-test checkout", owner_id=CTO.id, created_at=T0 + timedelta(days=3))
    closed_later = make_item(7, 5, owner_id=CTO.id, status=ActionStatus.DONE)
    found = collect_open_items(
        rca_files={BOT_PATH: text}, incidents=[incident], db_items={7: [*items, later, closed_later]}, people=PEOPLE
    )
    assert [i.number for i in found.items] == [1, 2, 4]
    added = found.items[-1]
    assert (added.source, added.incident_id, added.incident_title, added.owner_id) == (
        BOT_PATH,
        7,
        "Checkout latency",
        CTO.id,
    )
    assert added.since == later.created_at
    # It shows with the file's other items, not as a separate incident.
    assert len(briefing_groups(found.items, T0)) == 1


def test_a_malformed_row_in_a_bot_made_rca_falls_back_to_the_database() -> None:
    incident, items, text = bot_made()
    broken = text.replace("| 1 | Alert on p99 latency |", "| 1 | Alert on p99 | latency |")
    found = collect_open_items(rca_files={BOT_PATH: broken}, incidents=[incident], db_items={7: items}, people=PEOPLE)
    assert [p.line for p in found.problems] == [line_of(broken, "Alert on p99")]
    assert [(i.number, i.owner_id, i.line) for i in found.items] == [
        (1, MATT.id, None),
        (2, None, line_of(text, "Write the cache runbook")),
    ]


def test_a_bot_made_row_for_a_deleted_owner_is_unassigned() -> None:
    incident = make_incident(7, rca_path=BOT_PATH)
    items = [make_item(7, 1, owner_id=GONE.id)]
    text = render_rca(incident=incident, timeline=[], action_items=items, names=NAMES, templates=SHIPPED)
    assert "@bob (U0GONE)" in text
    found = collect_open_items(rca_files={BOT_PATH: text}, incidents=[incident], db_items={7: items}, people=PEOPLE)
    assert [(i.owner, i.owner_id) for i in found.items] == [("@bob", None)]
    assert by_owner(found.items) == {}


# ------------------------------------------------------------------------------------ DB-only items


def test_items_of_incidents_without_an_rca_come_from_the_database() -> None:
    quiet = make_incident(8, severity=Severity.SEV3, room_id="C8")
    unpublished = make_incident(9, rca_path="DOCS/incidents/2026-03-01-not-pushed-yet-rca.md")
    no_id = make_incident(None)
    db_items = {
        8: [
            make_item(8, 1, owner_id=ALICE.id),
            make_item(8, 2, owner_id=ALICE.id, status=ActionStatus.DONE),
            make_item(8, 3, owner_label="@matt", status=ActionStatus.IN_PROGRESS),
            make_item(8, 4),
        ],
        9: [make_item(9, 1, owner_id=CTO.id, created_at=T0 - timedelta(days=1))],
    }
    found = collect_open_items(
        rca_files={FIXTURE_PATH: FIXTURE_RCA},
        incidents=[quiet, unpublished, no_id],
        db_items=db_items,
        people=PEOPLE,
    )

    from_db = [(i.incident_id, i.number, i.owner, i.owner_id, i.status) for i in found.items if i.source is None]
    assert from_db == [
        (9, 1, f"<@{CTO.id}>", CTO.id, ActionStatus.OPEN),
        (8, 1, f"<@{ALICE.id}>", ALICE.id, ActionStatus.OPEN),
        (8, 3, "@matt", MATT.id, ActionStatus.IN_PROGRESS),
        (8, 4, "", None, ActionStatus.OPEN),
    ]
    db_only = {(i.incident_id, i.number): i for i in found.items if i.source is None}
    assert db_only[8, 1].room_id == "C8"
    assert db_only[8, 1].since == db_items[8][0].created_at
    assert db_only[8, 1].severity is Severity.SEV3
    # Everything is oldest first: the fixture (February) before the March incidents.
    assert [i.since for i in found.items] == sorted(i.since for i in found.items)
    assert found.items[0].source == FIXTURE_PATH


def test_naive_database_times_are_read_as_utc() -> None:
    naive = T0.replace(tzinfo=None)
    incident = make_incident(8, declared_at=naive)
    found = collect_open_items(
        rca_files={FIXTURE_PATH: FIXTURE_RCA},
        incidents=[incident],
        db_items={8: [make_item(8, 1, owner_id=MATT.id, created_at=naive)]},
        people=PEOPLE,
    )
    assert [i.since for i in found.items] == [datetime(2026, 2, 23, tzinfo=UTC)] * 2 + [T0]
    assert list(by_owner(found.items)) == [MATT.id]


# ------------------------------------------------------------------------------------------ by_owner


def test_by_owner_lists_each_owners_items_oldest_first() -> None:
    items = [
        open_item(number=2, since=T0),
        open_item(number=1, since=T0 - timedelta(days=1), owner_id=ALICE.id),
        open_item(number=3, since=T0 - timedelta(days=2)),
        open_item(number=4, owner_id=None),
    ]
    assert {owner: [i.number for i in owned] for owner, owned in by_owner(items).items()} == {
        MATT.id: [3, 2],
        ALICE.id: [1],
    }
