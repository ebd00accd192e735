"""The incident policy: severity levels from the runbook's Severity Guide, escalation from configuration.

A team changes its policy by editing the runbook (levels, criteria, response times, RCA) and the
INCIDENT_POLICY file (who is invited, DMed, mentioned, paged, how often updates are due), never the
code. Everything here is pure: the text and the settings come in, a frozen `IncidentPolicy` goes out.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import Enum

from bot.core.errors import IncidentBotError
from bot.core.markdown import cell_text, split_table_row

# The roles live in bot.core.roles; Role and DEFAULT_ROLES stay importable from here too.
from bot.core.roles import DEFAULT_ROLES, Role, commander_first, find_role

BUILT_IN = "built-in"
UNKNOWN_CRITERIA = "not in the runbook's Severity Guide"
DEFAULT_UPDATE_EVERY: dict[str, timedelta] = {"SEV-1": timedelta(minutes=30), "SEV-2": timedelta(minutes=120)}
# A cadence below a second would have the scheduler post in a loop; above 30 days it is not a cadence.
MIN_UPDATE_MINUTES = 1 / 60
MAX_UPDATE_MINUTES = 30 * 24 * 60

# SEV-1 is the most severe: there is no SEV-0, and two digits are plenty.
_LEVEL = re.compile(r"sev[-_ ]?0*([1-9][0-9]?)", re.IGNORECASE)
_HEADING = re.compile(r" {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_DELIMITER_CELL = re.compile(r":?-+:?")
_RCA = re.compile(r"(yes|no)\b(.*)", re.IGNORECASE | re.DOTALL)
# Digits are bounded so that no cell can overflow a timedelta.
_DURATION = re.compile(
    r"(?:within |< ?)?([0-9]{1,4}(?:\.[0-9]{1,3})?) ?(m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)"
)
_UNIT = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_NAMED_WINDOWS = {"immediate": timedelta(hours=1), "same day": timedelta(days=1), "next run": timedelta(days=2)}
_COLUMNS = {"level": "Level", "criteria": "Criteria", "response time": "Response Time", "rca required": "RCA Required?"}
_COLUMN_ALIASES = {"severity": "level", "sev": "level", "rca": "rca required"}


@dataclass(frozen=True)
class LevelPolicy:
    """One severity level: what the runbook says about it, and how it is escalated."""

    name: str
    rank: int
    criteria: str
    response_time: str
    response_window: timedelta
    rca_required: bool
    rca_note: str = ""
    invite: tuple[str, ...] = ()
    dm: tuple[str, ...] = ()
    mention_groups: tuple[str, ...] = ()
    page: bool = False
    update_every: timedelta | None = None
    announce_updates: bool = False


class Unset(Enum):
    """The type of `UNSET`: a setting the file does not mention (None already means "off")."""

    UNSET = "unset"


UNSET = Unset.UNSET


@dataclass(frozen=True)
class Escalation:
    """What the INCIDENT_POLICY file says about one level; None (or UNSET) leaves the default."""

    invite: tuple[str, ...] | None = None
    dm: tuple[str, ...] | None = None
    mention_groups: tuple[str, ...] | None = None
    page: bool | None = None
    update_every: timedelta | Unset | None = UNSET
    announce_updates: bool | None = None


@dataclass(frozen=True)
class PolicyProblem:
    """Why the Severity Guide could not be read, at a place in the file a person can open."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class PolicyError(IncidentBotError):
    """The runbook's Severity Guide cannot be read; the bot keeps its last good policy."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


@dataclass(frozen=True)
class IncidentPolicy:
    """The levels (most severe first), the roles (commander first) and where the levels came from."""

    levels: tuple[LevelPolicy, ...]
    roles: tuple[Role, ...] = DEFAULT_ROLES
    source: str = BUILT_IN
    unknown_escalations: tuple[str, ...] = ()
    _by_name: dict[str, LevelPolicy] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("an incident policy needs at least one level")
        # Frozen, so the normalised forms are set once here rather than trusted from every caller.
        object.__setattr__(self, "levels", tuple(sorted(self.levels, key=lambda level: level.rank)))
        object.__setattr__(self, "roles", commander_first(self.roles))
        object.__setattr__(self, "_by_name", {level.name: level for level in self.levels})

    def level(self, name: str) -> LevelPolicy:
        """The level called `name`, or a clearly-labelled fallback for one the runbook no longer has."""
        normalised = normalise_level(name)
        found = self._by_name.get(normalised or "")
        if found is not None:
            return found
        rank = _rank(normalised) if normalised else self.levels[-1].rank + 1
        return LevelPolicy(
            name=normalised or name.strip() or "unknown",
            rank=rank,
            criteria=UNKNOWN_CRITERIA,
            response_time="not in the runbook",
            response_window=timedelta(days=2),
            rca_required=False,
        )

    def names(self) -> tuple[str, ...]:
        """The level names, most severe first."""
        return tuple(level.name for level in self.levels)

    def knows(self, name: str) -> bool:
        """Whether the runbook's Severity Guide has this level."""
        return (normalise_level(name) or "") in self._by_name

    def role(self, key_or_alias: str) -> Role | None:
        """The role a person means by its key, label or a common short name ("ic", "communications")."""
        return find_role(self.roles, key_or_alias)


def normalise_level(text: str) -> str | None:
    """`SEV1`, `sev-1`, `Sev 1` as `SEV-1`; None when the text is not a level."""
    match = _LEVEL.fullmatch(text.strip())
    return f"SEV-{int(match.group(1))}" if match else None


def response_window(text: str) -> timedelta | None:
    """How long "Immediate", "Same day", "Next run", "4 hours" or "30m" gives; None when unknown."""
    words = " ".join(text.strip().rstrip(".").lower().split())
    if words in _NAMED_WINDOWS:
        return _NAMED_WINDOWS[words]
    match = _DURATION.fullmatch(words)
    if match is None or float(match.group(1)) <= 0:
        return None
    return _UNIT[match.group(2)[0].lower()] * float(match.group(1))


def update_interval(minutes: float) -> timedelta | None:
    """A status-update cadence in minutes (fractions allowed) as a timedelta; 0 turns updates off."""
    if not math.isfinite(minutes) or minutes < 0:
        raise ValueError(f"{minutes} is not a number of minutes (0 turns updates off)")
    if minutes == 0:
        return None
    if not MIN_UPDATE_MINUTES <= minutes <= MAX_UPDATE_MINUTES:
        raise ValueError(f"{minutes} minutes is outside 1 second to {MAX_UPDATE_MINUTES} minutes")
    return timedelta(minutes=minutes)


def parse_update_minutes(text: str) -> dict[str, float]:
    """STATUS_UPDATE_MINUTES ("SEV-1=30,SEV-2=120", "sev1=0.05", "SEV-3=off") as minutes per level."""
    found: dict[str, float] = {}
    for part in (piece.strip() for piece in text.split(",")):
        if not part:
            continue
        name, equals, value = (piece.strip() for piece in part.partition("="))
        level = normalise_level(name)
        if not equals or level is None:
            raise ValueError(f"STATUS_UPDATE_MINUTES: {part!r} is not LEVEL=MINUTES, such as SEV-1=30")
        if level in found:
            raise ValueError(f"STATUS_UPDATE_MINUTES: {part!r} sets {level} a second time")
        try:
            minutes = 0.0 if value.lower() == "off" else float(value)
            update_interval(minutes)
        except ValueError as error:
            # float() names Python ("could not convert string to float"), not the setting.
            reason = f"{value!r} is not a number of minutes or off" if "convert" in str(error) else str(error)
            raise ValueError(f"STATUS_UPDATE_MINUTES: {part!r}: {reason}") from None
        found[level] = minutes
    return found


def parse_severity_guide(*, text: str, path: str) -> tuple[LevelPolicy, ...]:
    """The levels of the runbook's `## Severity Guide` table, most severe first; PolicyError otherwise."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    heading = _find_heading(lines)
    if heading is None:
        raise PolicyError([PolicyProblem(path, 1, "no `## Severity Guide` heading")])
    start, depth = heading
    header = _find_table(lines, start + 1, depth)
    if header is None:
        raise PolicyError([PolicyProblem(path, start + 1, "no table under the Severity Guide heading")])
    columns = _columns(_cells(lines[header]))
    missing = [title for key, title in _COLUMNS.items() if key not in columns]
    if missing:
        raise PolicyError([PolicyProblem(path, header + 1, f"the table has no {', '.join(missing)} column")])
    problems: list[PolicyProblem] = []
    levels: dict[str, tuple[int, LevelPolicy]] = {}
    row = header + 2
    while row < len(lines) and split_table_row(lines[row]) is not None:
        cells = _cells(lines[row])
        level = _level_from_row({key: cells[i] if i < len(cells) else "" for key, i in columns.items()})
        if isinstance(level, str):
            problems.append(PolicyProblem(path, row + 1, level))
        elif level.name in levels:
            first = levels[level.name][0]
            problems.append(PolicyProblem(path, row + 1, f"{level.name} is listed twice (first on line {first})"))
        else:
            levels[level.name] = (row + 1, level)
        row += 1
    if row == header + 2:
        problems.append(PolicyProblem(path, header + 1, "the Severity Guide table has no rows"))
    if problems:
        raise PolicyError(problems)
    return tuple(sorted((level for _, level in levels.values()), key=lambda level: level.rank))


def build_policy(
    *,
    levels: Sequence[LevelPolicy],
    escalation: Mapping[str, Escalation],
    roles: Sequence[Role] | None,
    sev1_escalation_users: Sequence[str],
    update_minutes: Mapping[str, float],
    source: str,
) -> IncidentPolicy:
    """Levels with their escalation: defaults, then SEV1_ESCALATION_USERS, the file, STATUS_UPDATE_MINUTES."""
    by_name = {normalise_level(name) or name: value for name, value in escalation.items()}
    minutes = {normalise_level(name) or name: value for name, value in update_minutes.items()}
    built: list[LevelPolicy] = []
    for level in levels:
        cadence = DEFAULT_UPDATE_EVERY.get(level.name)
        # SEV-1 by default: pages, and its status updates go to the announcement's thread too.
        level = replace(level, page=level.rank == 1, update_every=cadence, announce_updates=level.rank == 1)
        if level.name == "SEV-1":
            users = tuple(sev1_escalation_users)
            level = replace(level, invite=users, dm=users)
        if level.name in by_name:
            level = _escalated(level, by_name[level.name])
        if level.name in minutes:
            level = replace(level, update_every=update_interval(minutes[level.name]))
        built.append(level)
    known = {level.name for level in levels}
    return IncidentPolicy(
        levels=tuple(built),
        roles=tuple(roles) if roles is not None else DEFAULT_ROLES,
        source=source,
        unknown_escalations=tuple(sorted(name for name in by_name if name not in known)),
    )


def _escalated(level: LevelPolicy, escalation: Escalation) -> LevelPolicy:
    return replace(
        level,
        invite=level.invite if escalation.invite is None else escalation.invite,
        dm=level.dm if escalation.dm is None else escalation.dm,
        mention_groups=level.mention_groups if escalation.mention_groups is None else escalation.mention_groups,
        page=level.page if escalation.page is None else escalation.page,
        update_every=level.update_every if isinstance(escalation.update_every, Unset) else escalation.update_every,
        announce_updates=level.announce_updates if escalation.announce_updates is None else escalation.announce_updates,
    )


def _rank(name: str) -> int:
    return int(name.removeprefix("SEV-"))


def _find_heading(lines: list[str]) -> tuple[int, int] | None:
    fence: str | None = None
    for index, line in enumerate(lines):
        opened = _FENCE.match(line)
        if opened and (fence is None or opened.group(1).startswith(fence)):
            fence = None if fence else opened.group(1)[0] * 3
            continue
        match = None if fence else _HEADING.fullmatch(line)
        if match and " ".join(_plain(match.group(2)).split()) == "severity guide":
            return index, len(match.group(1))
    return None


def _find_table(lines: list[str], start: int, depth: int) -> int | None:
    for index in range(start, len(lines)):
        heading = _HEADING.fullmatch(lines[index])
        if heading and len(heading.group(1)) <= depth:
            return None
        if index + 1 < len(lines) and split_table_row(lines[index]) and _is_delimiter(lines[index + 1]):
            return index
    return None


def _is_delimiter(line: str) -> bool:
    spans = split_table_row(line)
    return bool(spans) and all(_DELIMITER_CELL.fullmatch(line[a:b].strip()) for a, b in spans or [])


def _cells(line: str) -> list[str]:
    return [cell_text(line[start:end]) for start, end in split_table_row(line) or []]


def _columns(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        key = " ".join(_plain(title).rstrip("?").split())
        key = _COLUMN_ALIASES.get(key, key)
        if key in _COLUMNS and key not in found:
            found[key] = index
    return found


def _plain(text: str) -> str:
    # People bold cells and headings (**SEV-1**); the emphasis is not part of the value.
    return text.strip().strip("*_").strip().lower()


def _level_from_row(cells: Mapping[str, str]) -> LevelPolicy | str:
    level_cell = cells["level"].strip().strip("*_").strip()
    name = normalise_level(level_cell)
    if name is None:
        return f"Level {level_cell!r} is not a level such as SEV-1"
    response_time = " ".join(cells["response time"].strip().strip("*_").split())
    window = response_window(response_time)
    if window is None:
        return f"{name}: Response Time {response_time!r} is not Immediate, Same day, Next run or a duration"
    rca = _RCA.fullmatch(" ".join(cells["rca required"].strip().strip("*_").split()))
    if rca is None:
        return f"{name}: RCA Required? {cells['rca required'].strip()!r} does not start with Yes or No"
    return LevelPolicy(
        name=name,
        rank=_rank(name),
        criteria=" ".join(cells["criteria"].split()),
        response_time=response_time,
        response_window=window,
        rca_required=rca.group(1).lower() == "yes",
        rca_note=_rca_note(rca.group(2)),
    )


def _rca_note(rest: str) -> str:
    # "No (note in fleet-status)", "Yes — within 5 days", "Yes, see below": the note without its wrapping.
    note = rest.strip().lstrip("—–-,;:.").strip()
    if note.startswith("(") and note.endswith(")"):
        note = note[1:-1].strip()
    return note


# The Severity Guide of the runbook this bot was written for: the policy when no RUNBOOK_PATH is set.
_BUILT_IN_GUIDE = """## Severity Guide

| Level | Criteria | Response Time | RCA Required? |
|-------|----------|---------------|---------------|
| SEV-1 | Security breach, out-of-scope agent action, data exposure | Immediate | Yes |
| SEV-2 | Pipeline stall, multiple agents down, auth/infra failure | Same day | Yes |
| SEV-3 | Single agent failure, minor config drift | Next run | No (note in fleet-status) |
"""
BUILT_IN_LEVELS: tuple[LevelPolicy, ...] = parse_severity_guide(text=_BUILT_IN_GUIDE, path=BUILT_IN)
# The policy of a bot with no RUNBOOK_PATH and no INCIDENT_POLICY file.
BUILT_IN_POLICY = build_policy(
    levels=BUILT_IN_LEVELS, escalation={}, roles=None, sev1_escalation_users=(), update_minutes={}, source=BUILT_IN
)
