"""Incident roles as pure core: the grammar, the lookup, the transition and the RCA header."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jinja2
import pytest

from bot.core import lifecycle
from bot.core.commands import AssignRole, UnassignRole, help_text, parse_command
from bot.core.errors import InvalidInput, InvalidTransition
from bot.core.models import Incident, IncidentStatus, Severity, TimelineKind
from bot.core.rca import parse_rca, rca_environment, render_rca
from bot.core.roles import COMMANDER, DEFAULT_ROLES, Role, UnknownRole, commander_first, find_role, require_role
from tests.paths import ROOT

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=UTC)


def make(**changes: object) -> Incident:
    incident = lifecycle.declare(title="Gateway auth outage", severity=Severity.SEV2, declared_by="U1", now=NOW)
    return incident.model_copy(update={"id": 7, **changes})


# --- the grammar ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("role comms <@U2|bob>", AssignRole(role="comms", who="<@U2|bob>")),
        ("ROLE scribe @bob", AssignRole(role="scribe", who="@bob")),
        ("role communications lead <@U2>", AssignRole(role="communications lead", who="<@U2>")),
        ("role comms none", UnassignRole(role="comms")),
        ("role communications lead Nobody", UnassignRole(role="communications lead")),
        ("role scribe @none", AssignRole(role="scribe", who="@none")),
    ],
)
def test_role_command_takes_the_role_then_the_person(text: str, expected: AssignRole) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize("text", ["role", "role comms", "role   <@U2>"])
def test_role_command_without_a_role_or_a_person_gets_its_usage(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"Usage: `/incident role <role> @someone`"):
        parse_command(text)


def test_help_lists_the_role_command_with_the_team_roles() -> None:
    assert "`/incident role <role> @someone`" in help_text()
    assert "(`commander`, `comms`, `scribe`)" in help_text()
    custom = help_text([Role("ops", "Ops liaison")])
    assert "(`commander`, `ops`)" in custom


# --- finding a role ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "key"),
    [
        ("comms", "comms"),
        ("Communications lead", "comms"),
        ("communications", "comms"),
        ("ic", "commander"),
        ("lead", "commander"),
        ("Commander", "commander"),
        ("Incident commander", "commander"),
        ("SCRIBE", "scribe"),
        ("notes", "scribe"),
    ],
)
def test_roles_are_found_by_key_label_or_short_name(asked: str, key: str) -> None:
    found = find_role(DEFAULT_ROLES, asked)
    assert found is not None and found.key == key


def test_a_configured_role_wins_over_a_short_name() -> None:
    roles = (COMMANDER, Role("lead", "Technical lead"))
    assert find_role(roles, "lead") == Role("lead", "Technical lead")


def test_an_unknown_role_lists_the_known_ones() -> None:
    with pytest.raises(UnknownRole) as caught:
        require_role(DEFAULT_ROLES, "bystander")
    message = caught.value.user_message
    assert "There is no role `bystander`" in message
    assert "`commander` (Incident commander), `comms` (Communications lead), `scribe` (Scribe)" in message
    assert caught.value.field == "role"
    assert isinstance(caught.value, InvalidInput)


def test_the_commander_is_always_a_role_and_first() -> None:
    assert commander_first([Role("ops", "Ops")]) == (COMMANDER, Role("ops", "Ops"))
    assert commander_first([Role("ops", "Ops"), Role("commander", "Lead")])[0] == Role("commander", "Lead")


# --- the transition -----------------------------------------------------------------------------------


def test_declaring_with_a_picked_commander_keeps_the_declarer() -> None:
    incident = lifecycle.declare(
        title="Leak", severity=Severity.SEV1, declared_by="U1", now=NOW, commander_id="U9"
    ).model_copy(update={"id": 3})
    assert (incident.commander_id, incident.declared_by) == ("U9", "U1")
    assert lifecycle.declared_entry(incident).text == "Incident declared as SEV-1: Leak (commander: <@U9>)"
    assert lifecycle.declared_entry(make()).text == "Incident declared as SEV-2: Gateway auth outage"


def test_assigning_a_role_records_who_had_it_before() -> None:
    incident = make()
    assert incident.holder("comms") is None and incident.holder("commander") == "U1"
    first = lifecycle.assign_role(incident, "comms", "U2", by="U1", now=NOW)
    assert incident.holder("comms") == "U2" and incident.roles == {"comms": "U2"}
    assert (first.kind, first.text, first.author_id) == (TimelineKind.ROLE_ASSIGNED, "Communications lead: <@U2>", "U1")
    second = lifecycle.assign_role(incident, "communications", "U3", by="U2", now=NOW + timedelta(minutes=1))
    assert second.text == "Communications lead: <@U3> (was <@U2>)"
    assert incident.roles == {"comms": "U3"}


def test_clearing_a_role_records_who_had_it_and_the_commander_is_never_cleared() -> None:
    incident = make(roles={"comms": "U2", "scribe": "U3"})
    entry = lifecycle.unassign_role(incident, "communications", by="U1", now=NOW)
    assert incident.roles == {"scribe": "U3"} and incident.holder("comms") is None
    assert (entry.kind, entry.text, entry.author_id) == (
        TimelineKind.ROLE_ASSIGNED,
        "Communications lead: nobody (was <@U2>)",
        "U1",
    )
    with pytest.raises(InvalidTransition, match="Nobody is the Communications lead"):
        lifecycle.unassign_role(incident, "comms", by="U1", now=NOW)
    with pytest.raises(InvalidTransition, match="always has a commander"):
        lifecycle.unassign_role(incident, "ic", by="U1", now=NOW)
    incident.status = IncidentStatus.RESOLVED
    with pytest.raises(InvalidTransition, match="reopen it"):
        lifecycle.unassign_role(incident, "scribe", by="U1", now=NOW)
    assert incident.roles == {"scribe": "U3"} and incident.commander_id == "U1"


def test_the_commander_role_is_the_hand_over() -> None:
    incident = make()
    entry = lifecycle.assign_role(incident, "ic", "U5", by="U1", now=NOW)
    assert incident.commander_id == "U5" and incident.roles == {}
    assert entry.text == "Commander changed from <@U1> to <@U5>"


def test_role_refusals() -> None:
    incident = make(roles={"scribe": "U2"})
    with pytest.raises(UnknownRole):
        lifecycle.assign_role(incident, "bystander", "U2", by="U1", now=NOW)
    with pytest.raises(InvalidTransition, match="already the Scribe"):
        lifecycle.assign_role(incident, "scribe", "U2", by="U1", now=NOW)
    with pytest.raises(InvalidTransition, match="already lead"):
        lifecycle.assign_role(incident, "commander", "U1", by="U1", now=NOW)
    incident.status = IncidentStatus.RESOLVED
    with pytest.raises(InvalidTransition, match="reopen it"):
        lifecycle.assign_role(incident, "comms", "U3", by="U1", now=NOW)
    assert incident.roles == {"scribe": "U2"}


def test_roles_come_from_the_team_configuration() -> None:
    roles = (COMMANDER, Role("ops", "Ops liaison"))
    incident = make()
    entry = lifecycle.assign_role(incident, "ops", "U4", by="U1", now=NOW, roles=roles)
    assert entry.text == "Ops liaison: <@U4>"
    with pytest.raises(UnknownRole, match="`ops` \\(Ops liaison\\)"):
        lifecycle.assign_role(incident, "comms", "U4", by="U1", now=NOW, roles=roles)


# --- the RCA header ---------------------------------------------------------------------------------------


def shipped_templates() -> jinja2.Environment:
    return rca_environment(jinja2.FileSystemLoader(str(ROOT / "bot" / "templates")))


def rca_for(incident: Incident, roles: tuple[Role, ...] = DEFAULT_ROLES) -> str:
    names = {"U1": "alice", "U2": "bob", "U3": "Carol Ops"}
    return render_rca(
        incident=incident, timeline=[], action_items=[], names=names, templates=shipped_templates(), roles=roles
    )


def test_the_rca_header_names_each_role_holder_and_still_reads_back() -> None:
    markdown = rca_for(make(roles={"scribe": "U3", "comms": "U2"}))
    assert "- **Commander:** @alice · **Communications lead:** @bob · **Scribe:** @Carol Ops\n\n" in markdown
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == ["## Timeline", "## Root cause(s)", "## Resolution", "## Lessons learned", "## Action items"]
    parsed = parse_rca(markdown)
    assert (parsed.title, parsed.severity, parsed.problems) == ("Gateway auth outage", Severity.SEV2, [])


def test_unassigned_roles_are_left_out_and_a_role_no_longer_configured_is_kept() -> None:
    assert "- **Commander:** @alice\n\n## Timeline" in rca_for(make())
    markdown = rca_for(make(roles={"comms": "U2", "liaison": "U9"}), roles=(COMMANDER, Role("comms", "Comms")))
    assert "- **Commander:** @alice · **Comms:** @bob · **liaison:** @U9\n" in markdown
