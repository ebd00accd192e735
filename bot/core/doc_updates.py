"""Edits to the docs the runbook keeps current: fleet-status.md's Recent Activity and the runbook's
Incident History table. Each edit touches only the lines it adds or replaces; every other byte
(line endings included) is kept, so the bot's commits show exactly what it did.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from urllib.parse import quote

from bot.core.markdown import cell_text, slack_table_cell, split_table_row
from bot.core.models import Severity

RECENT_ACTIVITY = "## Recent Activity"
INCIDENT_HISTORY = "## Incident History"
HISTORY_HEADER = ("| Date | SEV | Summary | RCA |", "|------|-----|---------|-----|")
_HEADING = re.compile(r"^\s{0,3}#{1,6}(?:\s|$)")
_LIST_ITEM = re.compile(r"^\s{0,3}(?:[-*+]|[0-9]{1,9}[.)])(?:\s|$)")
_RCA_PATH = re.compile(r"Full RCA: `([^`]+)`")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def insert_fleet_status_entry(text: str, line: str) -> str:
    """fleet-status.md with `line` on top of Recent Activity, or replacing the entry for the same RCA."""
    new = " ".join(line.splitlines()).strip()
    lines, cr = text.split("\n"), _cr(text)
    path = _RCA_PATH.search(new)
    for index, existing in enumerate(lines):
        bare = existing.rstrip("\r")
        same_rca = path is not None and f"Full RCA: `{path.group(1)}`" in bare
        if _LIST_ITEM.match(bare) and (same_rca or bare == new):
            lines[index] = new + cr
            return "\n".join(lines)
    heading = _find_heading(lines, RECENT_ACTIVITY)
    if heading is None:
        return _append_section(text, [RECENT_ACTIVITY, "", new], cr)
    first = _skip_blank(lines, heading + 1)
    if first < len(lines) and _LIST_ITEM.match(lines[first]):
        lines.insert(first, new + cr)
    else:
        lines[heading + 1 : heading + 1] = _separated(lines, heading + 1, [new], cr)
    return "\n".join(lines)


def add_history_row(
    runbook_text: str,
    *,
    date: datetime.date,
    severity: Severity,
    summary: str,
    rca_link: str | None,
    names: Mapping[str, str] | None = None,
) -> str:
    """The runbook with a row in its Incident History table, in the table's order, replacing a re-run."""
    lines, cr = runbook_text.split("\n"), _cr(runbook_text)
    rca_cell = f"[RCA]({quote(rca_link, safe='/.-_~#%')})" if rca_link else ""
    row = f"| {date:%Y-%m-%d} | {severity.value} | {slack_table_cell(summary, names or {})} | {rca_cell} |"
    heading = _find_heading(lines, INCIDENT_HISTORY)
    if heading is None:
        return _append_section(runbook_text, [INCIDENT_HISTORY, "", *HISTORY_HEADER, row], cr)
    section_end = next((i for i in range(heading + 1, len(lines)) if _HEADING.match(lines[i])), len(lines))
    table = next((i for i in range(heading + 1, section_end) if split_table_row(lines[i])), None)
    if table is None:
        lines[heading + 1 : heading + 1] = _separated(lines, heading + 1, [*HISTORY_HEADER, row], cr)
        return "\n".join(lines)
    first_row = table + 2
    end = first_row
    while end < len(lines) and split_table_row(lines[end]):
        end += 1
    if rca_cell:
        for index in range(first_row, end):
            if f"]({quote(rca_link or '', safe='/.-_~#%')})" in lines[index]:
                lines[index] = row + cr
                return "\n".join(lines)
    lines.insert(_history_position(lines, first_row, end, f"{date:%Y-%m-%d}"), row + cr)
    return "\n".join(lines)


def relative_link(from_file: str, to_file: str) -> str:
    """The link from one docs-repo file to another, both given relative to the repo root."""
    source, target = PurePosixPath(from_file), PurePosixPath(to_file)
    for path in (source, target):
        if path.is_absolute() or ".." in path.parts or "\\" in str(path):
            raise ValueError(f"{path} is not a path inside the docs repository")
    folder, parts = source.parent.parts, target.parts
    shared = 0
    while shared < min(len(folder), len(parts) - 1) and folder[shared] == parts[shared]:
        shared += 1
    return "/".join([".."] * (len(folder) - shared) + list(parts[shared:]))


def _history_position(lines: list[str], first_row: int, end: int, new_date: str) -> int:
    dated = [(index, _row_date(lines[index])) for index in range(first_row, end)]
    known = [(index, value) for index, value in dated if value is not None]
    values = [value for _, value in known]
    if len(set(values)) > 1 and values == sorted(values, reverse=True):
        # Newest first: above the first row that is not newer, so same-day rows stay newest first.
        return next((index for index, value in known if value <= new_date), end)
    if values != sorted(values):
        return end
    # Oldest first (also the guess for a table with fewer than two dated rows): keep it sorted.
    return max((index + 1 for index, value in known if value <= new_date), default=first_row if known else end)


def _row_date(line: str) -> str | None:
    spans = split_table_row(line) or []
    if not spans:
        return None
    value = cell_text(line[spans[0][0] : spans[0][1]])
    return value if _ISO_DATE.match(value) else None


def _find_heading(lines: list[str], heading: str) -> int | None:
    wanted = heading.lstrip("#").strip().lower()
    for index, line in enumerate(lines):
        match = re.match(r"^##\s+(.*?)\s*#*\s*$", line.rstrip("\r"))
        if match and match.group(1).lower() == wanted:
            return index
    return None


def _skip_blank(lines: list[str], start: int) -> int:
    while start < len(lines) and not lines[start].strip():
        start += 1
    return start


def _separated(lines: list[str], at: int, block: list[str], cr: str) -> list[str]:
    """`block` preceded by a blank line, and followed by one unless a blank line already follows."""
    followed_by_text = at < len(lines) and lines[at].strip() != ""
    return [cr, *(line + cr for line in block), *([cr] if followed_by_text else [])]


def _append_section(text: str, block: list[str], cr: str) -> str:
    eol = cr + "\n"
    if text and not text.endswith("\n"):
        text += eol
    if text and not text.endswith(eol + eol) and not text.endswith("\n\n"):
        text += eol
    return text + eol.join(block) + eol


def _cr(text: str) -> str:
    return "\r" if "\r\n" in text else ""
