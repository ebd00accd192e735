"""Why a past incident came up: the one line of its summary or root causes that best matches the new one."""

from __future__ import annotations

import re

from bot.core.markdown import cell_text
from bot.search.similar import SimilarIncident, tokenize

REASON_CHARS = 160
ROOT_CAUSE_LABEL = "Root cause: "

_LIST_MARKER = re.compile(r"^(?:(?:[-*+]|[0-9]{1,9}[.)])\s+)+(?:\[[ xX]\]\s+)?")
_LINK = re.compile(r"!?\[([^\]\n]*)\]\([^)\n]*\)")
_STRONG = re.compile(r"\*\*|__")
# What the bot's template writes where nothing was given, and what people write instead.
_NOTHING = frozenset({"tbd", "todo", "n/a", "na", "none", "-", "…", "...", "unknown"})
# Lines that are structure, not sentences: tables, comments, rules.
_STRUCTURE = re.compile(r"^(?:\||<!--|-{3,}$|\*{3,}$|_{3,}$)")


def reason_for(found: SimilarIncident, *, query: str) -> str:
    """The summary's or a root cause's line sharing most words with `query` (the first one when none does)."""
    wanted = set(tokenize(query))
    candidates = [("", line) for line in _sentences(found.summary)]
    candidates += [(ROOT_CAUSE_LABEL, line) for line in _sentences(found.root_causes)]
    if not candidates:
        return ""
    # max() keeps the first of equals, so the summary wins a tie, and then the earlier line.
    label, line = max(candidates, key=lambda pair: len(wanted & set(tokenize(pair[1]))))
    return _clip(label + line)


def _sentences(field: str) -> list[str]:
    lines: list[str] = []
    in_code = False
    for raw in field.splitlines():
        stripped = raw.strip()
        if stripped.startswith(("```", "~~~")):
            in_code = not in_code  # what a code block holds is code, not a sentence
            continue
        if in_code or not stripped or _STRUCTURE.match(stripped):
            continue
        text = _STRONG.sub("", _LINK.sub(r"\1", cell_text(_LIST_MARKER.sub("", stripped))))
        text = " ".join(text.split())
        if text and text.strip("_*` ").casefold() not in _NOTHING:
            lines.append(text)
    return lines


def _clip(text: str) -> str:
    if len(text) <= REASON_CHARS:
        return text
    cut = text[: REASON_CHARS - 1]
    # At a word's end where there is one near, so the line does not stop mid-word.
    space = cut.rfind(" ")
    return (cut[:space] if space > REASON_CHARS // 2 else cut).rstrip(" ,;:") + "…"
