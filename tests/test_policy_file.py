"""The INCIDENT_POLICY file: validated at start, with errors naming the key, and merged with the runbook."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.core.policy import BUILT_IN_LEVELS, UNSET, Escalation
from bot.core.roles import Role
from bot.policy_file import PolicyFile, load_incident_policy_file, load_policy
from tests.paths import FLEET_REPO

RUNBOOK_PATH = "runbooks/incident-response.md"
RUNBOOK = (FLEET_REPO / RUNBOOK_PATH).read_text(encoding="utf-8")
SEV2_ROW = "| SEV-2 | Pipeline stall, multiple agents down, auth/infra failure | Same day | Yes |"
EXAMPLE = """\
roles:
  - {key: commander, label: Incident commander}
  - {key: comms, label: Communications lead}
  - {key: scribe, label: Scribe}
levels:
  SEV-1:
    invite: [U0123, U0456]
    dm: [U0789]
    mention_groups: [S0ONCALL]
    page: true
    update_every_minutes: 30
    announce_updates: true
  sev2:
    update_every_minutes: 120
  SEV-3:
    update_every_minutes: off
  SEV-4:
    dm: W0999
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "incident-policy.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_valid_file_gives_escalation_per_level_and_the_roles(tmp_path: Path) -> None:
    loaded = load_incident_policy_file(write(tmp_path, EXAMPLE))
    assert loaded.escalation["SEV-1"] == Escalation(
        invite=("U0123", "U0456"),
        dm=("U0789",),
        mention_groups=("S0ONCALL",),
        page=True,
        update_every=timedelta(minutes=30),
        announce_updates=True,
    )
    assert loaded.escalation["SEV-2"] == Escalation(update_every=timedelta(hours=2))
    assert loaded.escalation["SEV-3"] == Escalation(update_every=None)
    assert loaded.escalation["SEV-4"] == Escalation(dm=("W0999",), update_every=UNSET)
    assert loaded.roles == [
        Role("commander", "Incident commander"),
        Role("comms", "Communications lead"),
        Role("scribe", "Scribe"),
    ]


def test_no_file_or_an_empty_one_changes_nothing(tmp_path: Path) -> None:
    assert load_incident_policy_file(None) == PolicyFile()
    assert load_incident_policy_file("") == PolicyFile()
    assert load_incident_policy_file(write(tmp_path, "# nothing yet\n")) == PolicyFile()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("levels:\n  SEV-1:\n    page: maybe\n", "INCIDENT_POLICY levels.SEV-1.page: Input should be a valid boolean"),
        ("levels:\n  SEV-1:\n    pager: true\n", "INCIDENT_POLICY levels.SEV-1.pager: Extra inputs are not permitted"),
        ("level:\n  SEV-1: {}\n", "INCIDENT_POLICY level: Extra inputs are not permitted"),
        (
            "levels:\n  SEV-1:\n    invite: [U0123, bob]\n",
            "INCIDENT_POLICY levels.SEV-1.invite[1]: 'bob' is not a Slack user ID such as U0123ABCD",
        ),
        (
            "levels:\n  SEV-2:\n    mention_groups: [U0123]\n",
            "INCIDENT_POLICY levels.SEV-2.mention_groups[0]: 'U0123' is not a Slack user-group ID",
        ),
        (
            "levels:\n  SEV-1:\n    update_every_minutes: -3\n",
            "INCIDENT_POLICY levels.SEV-1.update_every_minutes: -3.0 is not a number of minutes",
        ),
        ("levels:\n  P1: {}\n", "INCIDENT_POLICY levels.P1: is not a level such as SEV-1"),
        ("levels:\n  SEV1: {}\n  sev-1: {}\n", "INCIDENT_POLICY levels.sev-1: SEV-1 is already set as levels.SEV1"),
        ("roles:\n  - {key: comms}\n", "INCIDENT_POLICY roles[0].label: Field required"),
        (
            "roles:\n  - {key: Comms, label: C}\n",
            "INCIDENT_POLICY roles[0].key: 'Comms' is not a short lower-case name",
        ),
        (
            "roles:\n  - {key: comms, label: C}\n  - {key: comms, label: D}\n",
            "INCIDENT_POLICY roles[1].key: 'comms' is listed twice",
        ),
        ("levels: [SEV-1\n", "INCIDENT_POLICY is not valid YAML"),
        ("levels:\n  SEV-1: {page: true}\n  SEV-1: {page: false}\n", "'SEV-1' is written twice"),
        ("- SEV-1\n", "INCIDENT_POLICY must be a mapping with `levels:`"),
    ],
)
def test_a_bad_file_stops_the_start_with_the_key_path(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_incident_policy_file(write(tmp_path, text))
    assert str(raised.value).startswith("Invalid configuration: INCIDENT_POLICY ")
    assert message in str(raised.value)


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    missing = str(tmp_path / "nowhere.yaml")
    with pytest.raises(ConfigError, match="INCIDENT_POLICY cannot be read") as raised:
        load_incident_policy_file(missing)
    assert missing in str(raised.value)
    (tmp_path / "binary.yaml").write_bytes(b"\xff\xfe\x00levels")
    with pytest.raises(ConfigError, match="INCIDENT_POLICY"):
        load_incident_policy_file(str(tmp_path / "binary.yaml"))


def test_without_a_runbook_the_policy_is_built_in_with_the_files_escalation(tmp_path: Path) -> None:
    loaded = load_incident_policy_file(write(tmp_path, EXAMPLE))
    policy, problems = load_policy(
        runbook_text=None,
        runbook_path=None,
        policy_file=loaded,
        sev1_escalation_users=["U0111"],
        update_minutes={"SEV-2": 0.5},
        previous=None,
    )
    assert problems == [] and policy.source == "built-in"
    sev1, sev2, sev3 = policy.levels
    assert (sev1.criteria, sev1.invite, sev1.dm, sev1.mention_groups) == (
        BUILT_IN_LEVELS[0].criteria,
        ("U0123", "U0456"),
        ("U0789",),
        ("S0ONCALL",),
    )
    assert (sev2.update_every, sev3.update_every) == (timedelta(seconds=30), None)
    assert policy.unknown_escalations == ("SEV-4",)


def test_a_runbook_with_a_sev4_row_takes_the_escalation_kept_aside(tmp_path: Path) -> None:
    loaded = load_incident_policy_file(write(tmp_path, EXAMPLE))
    text = RUNBOOK.replace(SEV2_ROW, SEV2_ROW + "\n| SEV-4 | Cosmetic | 1 week | No |")
    policy, problems = load_policy(
        runbook_text=text,
        runbook_path=RUNBOOK_PATH,
        policy_file=loaded,
        sev1_escalation_users=[],
        update_minutes={},
        previous=None,
    )
    assert problems == [] and policy.source == RUNBOOK_PATH
    assert policy.names() == ("SEV-1", "SEV-2", "SEV-3", "SEV-4")
    assert policy.level("SEV-4").dm == ("W0999",) and policy.unknown_escalations == ()


def test_a_table_it_cannot_read_keeps_the_last_good_policy_and_reports_where() -> None:
    text = RUNBOOK.replace(SEV2_ROW, SEV2_ROW + "\n| SEV-4 | Cosmetic | 1 week | No |")
    good, _ = load_policy(
        runbook_text=text,
        runbook_path=RUNBOOK_PATH,
        policy_file=PolicyFile(),
        sev1_escalation_users=[],
        update_minutes={},
        previous=None,
    )
    broken = text.replace("| Same day |", "| Whenever |")
    kept, problems = load_policy(
        runbook_text=broken,
        runbook_path=RUNBOOK_PATH,
        policy_file=PolicyFile(),
        sev1_escalation_users=[],
        update_minutes={},
        previous=good,
    )
    assert kept is good
    line = broken.split("\n").index(SEV2_ROW.replace("Same day", "Whenever")) + 1
    assert [(problem.path, problem.line) for problem in problems] == [(RUNBOOK_PATH, line)]
    first, first_problems = load_policy(
        runbook_text=broken,
        runbook_path=RUNBOOK_PATH,
        policy_file=PolicyFile(),
        sev1_escalation_users=[],
        update_minutes={},
        previous=None,
    )
    assert first.source == "built-in" and first.levels[0].page is True and first_problems == problems


def test_a_runbook_missing_from_the_docs_repo_is_reported() -> None:
    policy, problems = load_policy(
        runbook_text=None,
        runbook_path=RUNBOOK_PATH,
        policy_file=PolicyFile(),
        sev1_escalation_users=[],
        update_minutes={},
        previous=None,
    )
    assert policy.source == "built-in"
    assert [str(problem) for problem in problems] == [f"{RUNBOOK_PATH}:1: the runbook is not in the docs repo"]
