"""The severity policy follows the runbook's Severity Guide, and escalation follows configuration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.errors import IncidentBotError
from bot.core.policy import (
    BUILT_IN_LEVELS,
    BUILT_IN_POLICY,
    DEFAULT_UPDATE_EVERY,
    UNKNOWN_CRITERIA,
    Escalation,
    IncidentPolicy,
    LevelPolicy,
    PolicyError,
    PolicyProblem,
    build_policy,
    normalise_level,
    parse_severity_guide,
    parse_update_minutes,
    response_window,
)
from bot.core.roles import Role
from tests.paths import FLEET_REPO, SHARED

RUNBOOK = (FLEET_REPO / "runbooks" / "incident-response.md").read_text(encoding="utf-8")
SHARED_RUNBOOK = SHARED / "spec" / "incident-response-runbook.md"
WHERE = "runbooks/incident-response.md"
SEV2_ROW = "| SEV-2 | Pipeline stall, multiple agents down, auth/infra failure | Same day | Yes |"
GUIDE = """# Runbook

## Severity Guide

| Level | Criteria | Response Time | RCA Required? |
|-------|----------|---------------|---------------|
| SEV-1 | Breach | Immediate | Yes |
| SEV-2 | Stall | Same day | Yes |

## Incident History
"""


def parse(text: str) -> tuple[LevelPolicy, ...]:
    return parse_severity_guide(text=text, path="runbooks/incident-response.md")


def problems(text: str) -> list[str]:
    with pytest.raises(PolicyError) as raised:
        parse(text)
    return [str(problem) for problem in raised.value.problems]


def policy(**overrides: object) -> IncidentPolicy:
    arguments: dict[str, object] = {
        "levels": BUILT_IN_LEVELS,
        "escalation": {},
        "roles": None,
        "sev1_escalation_users": (),
        "update_minutes": {},
        "source": "built-in",
    }
    return build_policy(**{**arguments, **overrides})  # type: ignore[arg-type]


def test_the_runbooks_table_is_exactly_the_built_in_levels() -> None:
    assert parse(RUNBOOK) == BUILT_IN_LEVELS
    if SHARED_RUNBOOK.is_file():
        assert parse(SHARED_RUNBOOK.read_text(encoding="utf-8")) == BUILT_IN_LEVELS


def test_the_built_in_levels_say_what_the_bot_said_before_it_read_runbooks() -> None:
    # The bot's hard-coded severities before the runbook was read (bot/core/models.py's _SEVERITY_INFO).
    assert [
        (level.name, level.rank, level.criteria, level.response_time, level.response_window, level.rca_required)
        for level in BUILT_IN_LEVELS
    ] == [
        (
            "SEV-1",
            1,
            "Security breach, out-of-scope agent action, data exposure",
            "Immediate",
            timedelta(hours=1),
            True,
        ),
        ("SEV-2", 2, "Pipeline stall, multiple agents down, auth/infra failure", "Same day", timedelta(days=1), True),
        ("SEV-3", 3, "Single agent failure, minor config drift", "Next run", timedelta(days=2), False),
    ]
    assert [level.rca_note for level in BUILT_IN_LEVELS] == ["", "", "note in fleet-status"]


def test_a_sev4_row_added_to_the_runbook_is_a_fourth_level() -> None:
    row = "| SEV-4 | Cosmetic glitch | 1 week | No |"
    levels = parse(RUNBOOK.replace(SEV2_ROW, SEV2_ROW + "\n" + row.replace("SEV-4", "sev 4")))
    assert [level.name for level in levels] == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
    assert levels[3] == LevelPolicy(
        name="SEV-4",
        rank=4,
        criteria="Cosmetic glitch",
        response_time="1 week",
        response_window=timedelta(weeks=1),
        rca_required=False,
    )


def test_a_changed_criterion_is_taken() -> None:
    changed = RUNBOOK.replace("Pipeline stall, multiple agents down", "Pipeline stall over an hour")
    assert parse(changed)[1].criteria == "Pipeline stall over an hour, auth/infra failure"


def test_columns_are_found_by_name_in_any_order_and_cells_as_people_write_them() -> None:
    text = """### severity GUIDE ###
Some words first.

| RCA required | Owner | Response time | **Level** | Criteria |
| :--- | --- | ---: | :-: | --- |
| No (see notes) | ops | 4h | **Sev 3** | Slow \\| flaky<br>builds |
| yes — within 5 days | sre | 15 minutes | SEV1 | Outage |
"""
    first, third = parse(text)
    assert (first.name, first.response_window, first.rca_required, first.rca_note) == (
        "SEV-1",
        timedelta(minutes=15),
        True,
        "within 5 days",
    )
    assert (third.name, third.criteria, third.response_time, third.rca_note) == (
        "SEV-3",
        "Slow | flaky builds",
        "4h",
        "see notes",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# Runbook\n\nNo guide here.\n", ["runbooks/incident-response.md:1: no `## Severity Guide` heading"]),
        ("```\n## Severity Guide\n```\n", ["runbooks/incident-response.md:1: no `## Severity Guide` heading"]),
        (
            "# R\n\n## Severity Guide\n\nAsk Matt.\n\n## History\n\n| a | b |\n|---|---|\n",
            ["runbooks/incident-response.md:3: no table under the Severity Guide heading"],
        ),
        (
            GUIDE.replace("| Response Time ", "| When "),
            ["runbooks/incident-response.md:5: the table has no Response Time column"],
        ),
        (
            GUIDE.replace("| SEV-2 |", "| P2 |"),
            ["runbooks/incident-response.md:8: Level 'P2' is not a level such as SEV-1"],
        ),
        (
            GUIDE.replace("| SEV-2 |", "| sev1 |"),
            ["runbooks/incident-response.md:8: SEV-1 is listed twice (first on line 7)"],
        ),
        (
            GUIDE.replace("Same day", "Whenever"),
            [f"{WHERE}:8: SEV-2: Response Time 'Whenever' is not Immediate, Same day, Next run or a duration"],
        ),
        (
            GUIDE.replace("Same day | Yes", "Same day | Maybe"),
            ["runbooks/incident-response.md:8: SEV-2: RCA Required? 'Maybe' does not start with Yes or No"],
        ),
        (
            "## Severity Guide\n\n| Level | Criteria | Response Time | RCA Required? |\n|---|---|---|---|\n\ntext\n",
            ["runbooks/incident-response.md:3: the Severity Guide table has no rows"],
        ),
    ],
    ids=[
        "no heading",
        "heading in code",
        "no table",
        "missing column",
        "bad level",
        "duplicate",
        "time",
        "rca",
        "no rows",
    ],
)
def test_a_table_it_cannot_read_is_reported_with_file_and_line(text: str, expected: list[str]) -> None:
    assert problems(text) == expected


def test_every_bad_row_is_reported_at_once_and_the_error_is_a_domain_error() -> None:
    text = GUIDE.replace("| SEV-1 |", "| SEV-X |").replace("Same day", "soon")
    with pytest.raises(IncidentBotError) as raised:
        parse(text)
    assert [problem.line for problem in raised.value.problems] == [7, 8]  # type: ignore[attr-defined]
    assert "runbooks/incident-response.md:7: Level 'SEV-X'" in raised.value.user_message
    assert str(PolicyProblem("r.md", 3, "bad")) == "r.md:3: bad"


# Pieces of runbooks: hypothesis strings them together into documents, most of them half-broken tables.
PIECES = [
    "## Severity Guide", "### severity guide #", "# Other", "| Level | Criteria | Response Time | RCA Required? |",
    "|---|---|---|---|", "| SEV-1 | x | Immediate | Yes |", "| sev 2 | y | 4h | No (z) |",
    "| SEV-0 | | 9999 weeks | no |",
    "| SEV-999 | \\| | 0 h | Yes |", "|", "| |", "```", "~~~", "", " ", "\r", "|:-:|", "| Level |", "| RCA |", "`|`",
    "<br>", "&amp;", "\\", "**", "\x00", "\u2028",
]  # fmt: skip
documents = st.lists(st.sampled_from(PIECES) | st.text(max_size=12), max_size=30).map("\n".join) | st.text()


@given(documents)
def test_any_text_gives_levels_or_a_policy_error_and_nothing_else(text: str) -> None:
    try:
        levels = parse(text)
    except PolicyError as error:
        assert error.problems and all(problem.line >= 1 for problem in error.problems)
        return
    names = [level.name for level in levels]
    assert levels and len(set(names)) == len(names)
    assert [level.rank for level in levels] == sorted(level.rank for level in levels)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SEV1", "SEV-1"),
        ("sev-1", "SEV-1"),
        ("Sev 1", "SEV-1"),
        (" SEV_12 ", "SEV-12"),
        ("P1", None),
        ("SEV-", None),
        ("SEV-0", None),
    ],
)
def test_levels_are_normalised(text: str, expected: str | None) -> None:
    assert normalise_level(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Immediate", timedelta(hours=1)),
        ("Same day", timedelta(days=1)),
        ("next run", timedelta(days=2)),
        ("15 minutes", timedelta(minutes=15)),
        ("4 hours", timedelta(hours=4)),
        ("2 days", timedelta(days=2)),
        ("1 week", timedelta(weeks=1)),
        ("30m", timedelta(minutes=30)),
        ("4h", timedelta(hours=4)),
        ("1.5 hours", timedelta(minutes=90)),
        ("Whenever", None),
        ("0 hours", None),
    ],
)
def test_response_times_are_read_as_windows(text: str, expected: timedelta | None) -> None:
    assert response_window(text) == expected


def test_a_level_the_runbook_does_not_have_is_a_labelled_fallback() -> None:
    fallback = BUILT_IN_POLICY.level("sev9")
    assert (fallback.name, fallback.criteria, fallback.rca_required) == ("SEV-9", UNKNOWN_CRITERIA, False)
    assert fallback.response_window == timedelta(days=2)
    assert BUILT_IN_POLICY.level("nonsense").criteria == UNKNOWN_CRITERIA
    assert BUILT_IN_POLICY.level("sev 2") is BUILT_IN_POLICY.levels[1]
    assert BUILT_IN_POLICY.names() == ("SEV-1", "SEV-2", "SEV-3")
    assert BUILT_IN_POLICY.knows("sev3") and not BUILT_IN_POLICY.knows("SEV-4")


def test_roles_are_found_by_key_label_or_short_name_and_the_commander_comes_first() -> None:
    assert [role.key for role in BUILT_IN_POLICY.roles] == ["commander", "comms", "scribe"]
    asked_for = [("comms", "comms"), ("Communications lead", "comms"), ("communications", "comms"), ("ic", "commander")]
    for asked, key in [*asked_for, ("SCRIBE", "scribe")]:
        found = BUILT_IN_POLICY.role(asked)
        assert found is not None and found.key == key
    assert BUILT_IN_POLICY.role("bystander") is None
    custom = policy(roles=[Role("ops", "Ops liaison"), Role("commander", "Lead")])
    assert custom.roles == (Role("commander", "Lead"), Role("ops", "Ops liaison"))
    assert policy(roles=[Role("ops", "Ops liaison")]).roles[0].key == "commander"


def test_defaults_page_for_sev1_and_set_the_update_cadence() -> None:
    sev1, sev2, sev3 = BUILT_IN_POLICY.levels
    assert (sev1.page, sev2.page, sev3.page) == (True, False, False)
    assert (sev1.update_every, sev2.update_every, sev3.update_every) == (
        timedelta(minutes=30),
        timedelta(hours=2),
        None,
    )
    assert dict(DEFAULT_UPDATE_EVERY) == {"SEV-1": timedelta(minutes=30), "SEV-2": timedelta(minutes=120)}
    assert (sev1.invite, sev1.dm, sev1.mention_groups, sev1.announce_updates) == ((), (), (), True)
    assert (sev2.announce_updates, sev3.announce_updates) == (False, False)


def test_sev1_escalation_users_are_the_short_form_the_file_overrides_per_key() -> None:
    short = policy(sev1_escalation_users=["U1", "U2"]).levels[0]
    assert (short.invite, short.dm) == (("U1", "U2"), ("U1", "U2"))
    filed = policy(sev1_escalation_users=["U1"], escalation={"SEV-1": Escalation(invite=("U9",))}).levels[0]
    assert (filed.invite, filed.dm) == (("U9",), ("U1",))
    emptied = policy(sev1_escalation_users=["U1"], escalation={"sev1": Escalation(dm=())}).levels[0]
    assert (emptied.invite, emptied.dm) == (("U1",), ())


def test_the_file_sets_escalation_and_status_update_minutes_win_for_cadence() -> None:
    escalation = {
        "SEV-2": Escalation(
            mention_groups=("S1",), page=True, update_every=timedelta(minutes=45), announce_updates=True
        ),
        "SEV-1": Escalation(update_every=None),
    }
    sev1, sev2, sev3 = policy(escalation=escalation).levels
    assert (sev2.mention_groups, sev2.page, sev2.update_every, sev2.announce_updates) == (
        ("S1",),
        True,
        timedelta(minutes=45),
        True,
    )
    assert sev1.update_every is None and sev1.page is True
    minutes = parse_update_minutes("SEV-2=10, sev3=0.05, SEV-1=30")
    sev1, sev2, sev3 = policy(escalation=escalation, update_minutes=minutes).levels
    assert (sev1.update_every, sev2.update_every, sev3.update_every) == (
        timedelta(minutes=30),
        timedelta(minutes=10),
        timedelta(seconds=3),
    )
    assert policy(update_minutes=parse_update_minutes("SEV-1=off")).levels[0].update_every is None


def test_escalation_for_a_level_the_runbook_lacks_is_kept_aside_until_it_appears() -> None:
    escalation = {"SEV-4": Escalation(page=True)}
    assert policy(escalation=escalation).unknown_escalations == ("SEV-4",)
    row = "| SEV-4 | Cosmetic | 1 week | No |"
    with_sev4 = parse(RUNBOOK.replace(SEV2_ROW, SEV2_ROW + "\n" + row))
    grown = policy(levels=with_sev4, escalation=escalation, source="runbooks/incident-response.md")
    assert grown.unknown_escalations == () and grown.level("SEV-4").page is True
    assert grown.source == "runbooks/incident-response.md"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SEV-1=30,SEV-2=120", {"SEV-1": 30.0, "SEV-2": 120.0}),
        ("sev1=0.05", {"SEV-1": 0.05}),
        (" SEV 2 = 7.5 , SEV-3=off, ", {"SEV-2": 7.5, "SEV-3": 0.0}),
        ("SEV-1=0", {"SEV-1": 0.0}),
        ("", {}),
    ],
)
def test_status_update_minutes_are_parsed(text: str, expected: dict[str, float]) -> None:
    assert parse_update_minutes(text) == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("SEV-1", "'SEV-1' is not LEVEL=MINUTES"),
        ("P1=30", "'P1=30' is not LEVEL=MINUTES"),
        ("SEV-1=soon", "'soon' is not a number of minutes"),
        ("SEV-2=-5", "'SEV-2=-5'"),
        ("SEV-1=nan", "'SEV-1=nan'"),
        ("SEV-1=0.001", "outside 1 second"),
        ("SEV-1=30,sev1=60", "'sev1=60' sets SEV-1 a second time"),
    ],
)
def test_bad_status_update_minutes_name_the_bad_part(text: str, named: str) -> None:
    with pytest.raises(ValueError, match="STATUS_UPDATE_MINUTES") as raised:
        parse_update_minutes(text)
    assert named in str(raised.value)
