"""INCIDENT_POLICY: the YAML file saying how each severity level is escalated, and the policy it makes.

The file is optional; every key in it is too. Its shape::

    roles:                  # the incident roles, in order; the commander is always there, and first
      - {key: commander, label: Incident commander}
      - {key: comms, label: Communications lead}
      - {key: scribe, label: Scribe}
    levels:                 # keyed by level: SEV-1, SEV1, sev-1 and "Sev 1" all mean SEV-1
      SEV-1:
        invite: [U0123ABCD]     # Slack user IDs (U… or W…) invited to the incident channel
        dm: [U0456EFGH]         # Slack user IDs sent a direct message when one is declared
        mention_groups: [S0ONCALL]  # Slack user-group IDs (S…) mentioned in the announcement
        page: true              # whether to page (default: true for SEV-1, false for the rest)
        update_every_minutes: 30    # status-update cadence; fractions allowed; 0, off or null: none
        announce_updates: true  # also post each status update in the announcement's thread

A level the runbook's Severity Guide does not have is kept aside, not refused: the runbook may gain
it on its next pull. SEV1_ESCALATION_USERS still invites and DMs its users about SEV-1s unless the
file sets SEV-1's `invite` or `dm`; STATUS_UPDATE_MINUTES wins over `update_every_minutes`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, ValidationError

from bot.config import ConfigError
from bot.core.policy import (
    BUILT_IN,
    BUILT_IN_LEVELS,
    UNSET,
    Escalation,
    IncidentPolicy,
    LevelPolicy,
    PolicyError,
    PolicyProblem,
    Unset,
    build_policy,
    normalise_level,
    parse_severity_guide,
    update_interval,
)
from bot.core.roles import Role

VARIABLE = "INCIDENT_POLICY"
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,}")


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses a key written twice, which PyYAML would otherwise let the last one win."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` is meant to be overridden by the keys beside it
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str | int | float | bool):
                continue  # a list or mapping as a key: the schema refuses it with its path
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"{key!r} is written twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _one_or_many(value: object) -> object:
    # `invite: U0123` is read as the list of one that its writer meant.
    return [value] if isinstance(value, str) else value


def _user_id(value: str) -> str:
    if not _USER_ID.fullmatch(value):
        raise ValueError(f"{value!r} is not a Slack user ID such as U0123ABCD")
    return value


def _group_id(value: str) -> str:
    if not _GROUP_ID.fullmatch(value):
        raise ValueError(f"{value!r} is not a Slack user-group ID such as S0123ABCD")
    return value


def _minutes(value: object) -> object:
    # YAML 1.1 reads a bare `off` as false; true would otherwise pass as 1 minute.
    if value is False or (isinstance(value, str) and value.strip().lower() == "off"):
        return 0
    if value is True:
        raise ValueError("must be a number of minutes, or off")
    return value


def _cadence(value: float | None) -> float | None:
    if value is not None:
        update_interval(value)  # its ValueError says what range is allowed
    return value


_UserIds = Annotated[tuple[Annotated[str, AfterValidator(_user_id)], ...], BeforeValidator(_one_or_many)]
_GroupIds = Annotated[tuple[Annotated[str, AfterValidator(_group_id)], ...], BeforeValidator(_one_or_many)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _role_key(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_-]{0,31}", value):
        raise ValueError(f"{value!r} is not a short lower-case name such as comms")
    return value


class _RoleModel(_Strict):
    key: Annotated[str, AfterValidator(_role_key)]
    label: str = Field(min_length=1, max_length=80)


class _LevelModel(_Strict):
    invite: _UserIds | None = None
    dm: _UserIds | None = None
    mention_groups: _GroupIds | None = None
    page: StrictBool | None = None
    update_every_minutes: Annotated[float | None, BeforeValidator(_minutes), AfterValidator(_cadence)] = None
    announce_updates: StrictBool | None = None

    def escalation(self) -> Escalation:
        """The level's settings for `build_policy`; a cadence the file leaves out stays the default."""
        every: timedelta | Unset | None = UNSET
        if "update_every_minutes" in self.model_fields_set:
            every = None if self.update_every_minutes is None else update_interval(self.update_every_minutes)
        return Escalation(
            invite=self.invite,
            dm=self.dm,
            mention_groups=self.mention_groups,
            page=self.page,
            update_every=every,
            announce_updates=self.announce_updates,
        )


class _PolicyModel(_Strict):
    roles: list[_RoleModel] | None = None
    levels: dict[str, _LevelModel] = Field(default_factory=dict)


@dataclass(frozen=True)
class PolicyFile:
    """What the INCIDENT_POLICY file says: escalation per level (normalised names) and the roles."""

    escalation: dict[str, Escalation] = field(default_factory=dict)
    roles: list[Role] | None = None


def load_incident_policy_file(path: str | None) -> PolicyFile:
    """Read and validate the INCIDENT_POLICY file; ConfigError names the key that is wrong."""
    if not path:
        return PolicyFile()
    try:
        with open(path, encoding="utf-8") as handle:
            # A SafeLoader underneath: tags that build Python objects are refused.
            data = yaml.load(handle, Loader=_UniqueKeyLoader)
    except OSError as error:
        raise _invalid(f"cannot be read: {path} ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise _invalid(f"is not UTF-8 text: {path}") from None
    except yaml.YAMLError as error:
        raise _invalid(f"is not valid YAML: {path} ({' '.join(str(error).split())})") from None
    if data is None:
        return PolicyFile()
    if not isinstance(data, dict):
        raise _invalid(f"must be a mapping with `levels:` (and optionally `roles:`), not a {type(data).__name__}")
    try:
        model = _PolicyModel.model_validate(data)
    except ValidationError as error:
        raise ConfigError(
            "Invalid configuration: "
            + "; ".join(f"{VARIABLE} {_key_path(issue['loc'])}: {_message(issue['msg'])}" for issue in error.errors())
        ) from None
    return PolicyFile(escalation=_escalation(model.levels), roles=_roles(model.roles))


def load_policy(
    *,
    runbook_text: str | None,
    runbook_path: str | None,
    policy_file: PolicyFile,
    sev1_escalation_users: Sequence[str],
    update_minutes: Mapping[str, float],
    previous: IncidentPolicy | None,
) -> tuple[IncidentPolicy, list[PolicyProblem]]:
    """The policy from the runbook (built-in without one); an unreadable table keeps the previous one."""

    def build(levels: Sequence[LevelPolicy], source: str) -> IncidentPolicy:
        return build_policy(
            levels=levels,
            escalation=policy_file.escalation,
            roles=policy_file.roles,
            sev1_escalation_users=sev1_escalation_users,
            update_minutes=update_minutes,
            source=source,
        )

    if runbook_text is None and not runbook_path:
        return build(BUILT_IN_LEVELS, BUILT_IN), []
    source = runbook_path or "runbook"
    if runbook_text is None:
        problems = [PolicyProblem(source, 1, "the runbook is not in the docs repo")]
    else:
        try:
            return build(parse_severity_guide(text=runbook_text, path=source), source), []
        except PolicyError as error:
            problems = list(error.problems)
    return previous or build(BUILT_IN_LEVELS, BUILT_IN), problems


def _escalation(levels: Mapping[str, _LevelModel]) -> dict[str, Escalation]:
    found: dict[str, Escalation] = {}
    written: dict[str, str] = {}
    for key, level in levels.items():
        name = normalise_level(key)
        if name is None:
            raise _invalid(f"levels.{key}: is not a level such as SEV-1")
        if name in written:
            raise _invalid(f"levels.{key}: {name} is already set as levels.{written[name]}")
        found[name], written[name] = level.escalation(), key
    return found


def _roles(roles: list[_RoleModel] | None) -> list[Role] | None:
    if roles is None:
        return None
    seen: set[str] = set()
    for index, role in enumerate(roles):
        if role.key in seen:
            raise _invalid(f"roles[{index}].key: {role.key!r} is listed twice")
        seen.add(role.key)
    return [Role(key=role.key, label=role.label) for role in roles]


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(top level)"


def _message(text: str) -> str:
    return text.removeprefix("Value error, ")


def _invalid(problem: str) -> ConfigError:
    return ConfigError(f"Invalid configuration: {VARIABLE} {problem}")
