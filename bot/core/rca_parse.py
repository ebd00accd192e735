"""Reading RCAs back, including hand-written ones: the title, severity and the Action items table.

A malformed row is reported with its file line number and skipped, so one typo never hides the
other items from the agents and reminders that track them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.core.errors import IncidentBotError
from bot.core.markdown import cell_text, split_table_row
from bot.core.models import ActionStatus, Severity

COLUMNS = ("#", "action", "owner", "status")
_TITLE = re.compile(r"^#\s+(?:RCA:\s*)?(.*?)\s*#*\s*$")
_SEVERITY = re.compile(r"severity:?\**:?\s*\**\s*SEV-?([1-9][0-9]?)\b", re.IGNORECASE)
_ACTION_HEADING = re.compile(r"^##\s+Action items\s*#*\s*$", re.IGNORECASE)
_ANY_HEADING = re.compile(r"^\s{0,3}#{1,6}(?:\s|$)")
_DELIMITER_CELL = re.compile(r"^\s*:?-+:?\s*$")
_OWNER_WITH_ID = re.compile(r"^(?P<name>.*?)\s*\((?P<id>[UW][A-Z0-9]{2,})\)$")
_OWNER_ID_ONLY = re.compile(r"^@(?P<id>[UW][A-Z0-9]{2,})$")
_STATUSES = {"done": ActionStatus.DONE, "open": ActionStatus.OPEN, "in progress": ActionStatus.IN_PROGRESS}


class RcaEditError(IncidentBotError):
    """The RCA cannot be edited as asked, e.g. it has no row for that action item."""


@dataclass(frozen=True)
class RcaProblem:
    line: int
    message: str


@dataclass(frozen=True)
class ActionRow:
    number: int
    action: str
    owner: str
    owner_id: str | None
    status: ActionStatus
    line: int


@dataclass(frozen=True)
class ParsedRca:
    title: str | None
    severity: Severity | None
    action_items: list[ActionRow] = field(default_factory=list)
    problems: list[RcaProblem] = field(default_factory=list)

    @property
    def open_items(self) -> list[ActionRow]:
        return [row for row in self.action_items if row.status is not ActionStatus.DONE]


@dataclass
class _Table:
    columns: dict[str, int]
    rows: list[ActionRow] = field(default_factory=list)
    problems: list[RcaProblem] = field(default_factory=list)


def parse_action_status(text: str) -> ActionStatus | None:
    """`✅ DONE`, `DONE`, `Done`, `Open`, `In progress` (any case) as an ActionStatus; None otherwise."""
    words = re.sub(r"[\s_-]+", " ", text.replace("✅", " ")).strip().lower()
    return _STATUSES.get(words)


def parse_rca(text: str) -> ParsedRca:
    """The title, severity and action items of an RCA, plus every problem found in its table."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    title = next((m.group(1) for line in lines if (m := _TITLE.match(line))), None)
    severity = _severity(lines)
    table = _action_table(lines)
    return ParsedRca(
        title=cell_text(title) if title else None,
        severity=severity,
        action_items=table.rows,
        problems=table.problems,
    )


def set_action_status(text: str, number: int, status: ActionStatus) -> str:
    """The RCA with only action item `number`'s Status cell changed to `status`."""
    lines = text.split("\n")
    table = _action_table([line.rstrip("\r") for line in lines])
    matches = [row for row in table.rows if row.number == number]
    if not matches:
        broken = [p for p in table.problems if p.message.startswith(f"Row {number}:")]
        hint = f" (its row on line {broken[0].line} is malformed)" if broken else ""
        raise RcaEditError(f"The RCA's Action items table has no item {number}{hint}.")
    if len(matches) > 1:
        raise RcaEditError(f"The RCA's Action items table has {len(matches)} rows numbered {number}.")
    index = matches[0].line - 1
    start, end = (split_table_row(lines[index]) or [])[table.columns["status"]]
    cell = lines[index][start:end]
    content = cell.strip()
    if content:
        offset = start + cell.index(content)
        replaced = lines[index][:offset] + status.value + lines[index][offset + len(content) :]
    else:
        replaced = lines[index][:start] + f" {status.value} " + lines[index][end:]
    lines[index] = replaced
    return "\n".join(lines)


def _severity(lines: list[str]) -> Severity | None:
    for line in lines:
        if line.startswith("## "):
            break
        if match := _SEVERITY.search(line):
            return Severity(f"SEV-{match.group(1)}")
    return None


def _action_table(lines: list[str]) -> _Table:
    heading = next((i for i, line in enumerate(lines) if _ACTION_HEADING.match(line)), None)
    if heading is None:
        return _Table(columns={}, problems=[RcaProblem(0, "No '## Action items' section.")])
    end = next((i for i in range(heading + 1, len(lines)) if _ANY_HEADING.match(lines[i])), len(lines))
    start = next((i for i in range(heading + 1, end) if split_table_row(lines[i])), None)
    if start is None:
        return _Table(columns={}, problems=[RcaProblem(heading + 1, "The Action items section has no table.")])
    header = [cell_text(lines[start][a:b]).lower() for a, b in split_table_row(lines[start]) or []]
    if sorted(header) != sorted(COLUMNS):
        message = f"The Action items table's columns are {header}; expected #, Action, Owner, Status."
        return _Table(columns={}, problems=[RcaProblem(start + 1, message)])
    table = _Table(columns={name: header.index(name) for name in COLUMNS})
    delimiter = split_table_row(lines[start + 1]) if start + 1 < end else None
    if not delimiter or not all(_DELIMITER_CELL.match(lines[start + 1][a:b]) for a, b in delimiter):
        table.problems.append(RcaProblem(start + 2, "The table's second line should be |---|---|---|---|."))
    index = start + 2
    while index < end:
        line = lines[index]
        if not line.strip():
            rest = next((i for i in range(index, end) if lines[i].strip()), end)
            if rest < end and split_table_row(lines[rest]):
                table.problems.append(RcaProblem(index + 1, "A blank line splits the Action items table."))
                index = rest
                continue
            break
        if not split_table_row(line):
            break
        _read_row(table, line, index + 1)
        index += 1
    return table


def _read_row(table: _Table, line: str, line_number: int) -> None:
    cells = [cell_text(line[a:b]) for a, b in split_table_row(line) or []]
    label = f"Row {cells[0].strip()}" if cells else "Row"
    if len(cells) != len(COLUMNS):
        why = "a missing column?" if len(cells) < len(COLUMNS) else "an unescaped | in a cell?"
        message = f"{label}: {len(cells)} cells instead of {len(COLUMNS)} ({why})"
        table.problems.append(RcaProblem(line_number, message))
        return
    values = {name: cells[position] for name, position in table.columns.items()}
    if not values["#"].strip().isdigit():
        message = f"{label}: '#' should be a number, not {values['#'].strip()!r}."
        table.problems.append(RcaProblem(line_number, message))
        return
    number = int(values["#"].strip())
    status = parse_action_status(values["status"])
    if status is None:
        message = f"Row {number}: unknown status {values['status']!r}; use Open, In progress or ✅ DONE."
        table.problems.append(RcaProblem(line_number, message))
        return
    if any(row.number == number for row in table.rows):
        table.problems.append(RcaProblem(line_number, f"Row {number}: the number {number} is used twice."))
    owner = values["owner"].strip()
    with_id = _OWNER_WITH_ID.match(owner) or _OWNER_ID_ONLY.match(owner)
    table.rows.append(
        ActionRow(
            number=number,
            action=values["action"].strip(),
            owner=with_id.groupdict().get("name") or owner if with_id else owner,
            owner_id=with_id.group("id") if with_id else None,
            status=status,
            line=line_number,
        )
    )
