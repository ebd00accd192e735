"""What an RCA is about, in a few fields: its title, severity, date, summary and root causes.

RCAs come both from the bot's template and from people, whose headings vary (`## Summary`,
`## What happened`, `## Root Cause`, `## Root cause(s)`). The digest is what similar incidents are
ranked on, so each field is capped: one enormous file must not outweigh the rest of the repo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import PurePosixPath

from bot.core.markdown import cell_text

MAX_FIELD_CHARS = 2000
MAX_TITLE_CHARS = 300

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_RCA_PREFIX = re.compile(r"^(?:RCA|Post[- ]?mortem)\s*[:\-–—]\s*", re.IGNORECASE)
_SUMMARY_HEADING = re.compile(
    r"^(?:incident\s+|executive\s+)?(?:summary|overview|what\s+happened|tl;?dr|description)\b", re.IGNORECASE
)
_CAUSE_HEADING = re.compile(
    r"^(?:root[\s-]*causes?|causes?\b|contributing\s+factors|why\s+it\s+happened)", re.IGNORECASE
)
# Header bullets such as `- **Severity:** SEV-2`: metadata, not prose about what happened.
_META_BULLET = re.compile(r"^\s*[-*+]\s+\**[\w ()/-]{1,40}?\**\s*:")
_SEVERITY = re.compile(r"\bsev(?:erity)?\W{0,6}(?:sev[-\s]?)?([0-9])\b", re.IGNORECASE)
_FILE_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})")
_LINE_DATE = re.compile(
    r"\b(?:declared|date|started|occurred)\b[^0-9\n]{0,20}([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})", re.I
)
_NAME_TAIL = re.compile(r"(?:[-_ ]?rca)?$", re.IGNORECASE)


@dataclass(frozen=True)
class RcaDigest:
    path: str
    title: str
    severity: str | None  # "SEV-2"
    summary: str
    root_causes: str
    happened_on: date | None


@dataclass(frozen=True)
class _Section:
    level: int
    heading: str
    body: list[str]


def digest_rca(*, path: str, text: str) -> RcaDigest:
    """The title, severity, date, summary and root causes of an RCA, bot-made or hand-written."""
    title_line, preamble, sections = _split(text)
    title = _clean_title(title_line) if title_line is not None else ""
    summary_at = next((i for i, s in enumerate(sections) if _SUMMARY_HEADING.match(s.heading)), None)
    cause_at = next((i for i, s in enumerate(sections) if _CAUSE_HEADING.match(s.heading)), None)
    # The bot's template puts the summary, with no heading, between the header bullets and the timeline.
    summary_lines = (
        _body(sections, summary_at)
        if summary_at is not None
        else [line for line in preamble if not _META_BULLET.match(line)]
    )
    header = "\n".join([title_line or "", *preamble])
    return RcaDigest(
        path=path,
        title=title or _title_from_name(path),
        severity=_severity(header),
        summary=_field(summary_lines),
        root_causes=_field(_body(sections, cause_at)),
        happened_on=_date_from_name(path) or _date_from_lines(header),
    )


def _split(text: str) -> tuple[str | None, list[str], list[_Section]]:
    """The first `#` heading, the lines before the first other heading, and every other section."""
    title: str | None = None
    preamble: list[str] = []
    sections: list[_Section] = []
    fence: str | None = None
    for line in text.splitlines():
        match = None if fence else _HEADING.match(line)
        opened = _FENCE.match(line)
        if opened and (fence is None or opened.group(1).startswith(fence)):
            # A heading inside a code block is code, so fences are followed to know where they end.
            fence = None if fence else opened.group(1)[0] * 3
        if match and match.group(1) == "#" and title is None and not sections:
            title = match.group(2) or ""
        elif match:
            sections.append(_Section(level=len(match.group(1)), heading=(match.group(2) or "").strip(), body=[]))
        elif sections:
            sections[-1].body.append(line)
        else:
            preamble.append(line)
    return title, preamble, sections


def _body(sections: list[_Section], index: int | None) -> list[str]:
    """A section's lines, with its deeper subsections, so `### Contributing` stays in Root cause."""
    if index is None:
        return []
    section = sections[index]
    body = list(section.body)
    for deeper in sections[index + 1 :]:
        if deeper.level <= section.level or len(body) > MAX_FIELD_CHARS:
            break  # the field is capped anyway, so thousands of subsections need not be read
        body += [deeper.heading, *deeper.body]
    return body


def _clean_title(line: str) -> str:
    title = _RCA_PREFIX.sub("", cell_text(line).strip())
    return " ".join(title.split())[:MAX_TITLE_CHARS]


def _field(lines: list[str]) -> str:
    kept: list[str] = []
    size = 0
    for line in lines:
        stripped = line.strip()
        if not stripped and (not kept or not kept[-1]):
            continue  # runs of blank lines say nothing
        kept.append(stripped)
        size += len(stripped) + 1
        if size > MAX_FIELD_CHARS:
            break
    return "\n".join(kept).strip()[:MAX_FIELD_CHARS]


def _severity(header: str) -> str | None:
    match = _SEVERITY.search(header)
    return f"SEV-{match.group(1)}" if match else None


def _name(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).name


def _title_from_name(path: str) -> str:
    stem = _name(path)
    stem = stem[:-3] if stem.lower().endswith(".md") else stem
    stem = _NAME_TAIL.sub("", _FILE_DATE.sub("", stem))
    words = " ".join(stem.replace("-", " ").replace("_", " ").split())
    return (words[:1].upper() + words[1:])[:MAX_TITLE_CHARS] or "Untitled incident"


def _date_from_name(path: str) -> date | None:
    match = _FILE_DATE.match(_name(path))
    return _date(match) if match else None


def _date_from_lines(header: str) -> date | None:
    for match in _LINE_DATE.finditer(header):
        if found := _date(match):
            return found
    return None


def _date(match: re.Match[str]) -> date | None:
    try:
        return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None  # 2026-13-40 is not a date; the RCA simply has none
