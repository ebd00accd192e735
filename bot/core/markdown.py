"""Turning what people wrote (often Slack mrkdwn) into Markdown that cannot break the document.

Two contexts need different care: a multi-line block (a section body), where a line must not turn
into a heading or open a code fence that swallows the rest of the file, and a table cell, where a
`|` or a line break would split the row. Both escape `<`, `>` and entity-like `&` so nothing people
wrote becomes HTML; inline code spans are kept as written because a renderer shows them literally.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass

_ASCII_PUNCT = frozenset(string.punctuation)
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#[xX][0-9A-Fa-f]+);")
# The characters `_escape_inline` may change; every other one is copied as it is.
_SPECIAL = re.compile(r"[`\\<>&|\n]")
_SLACK_TOKEN = re.compile(r"<([^<>\n]*)>|&(amp|lt|gt);")
_SLACK_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_BASIC_ENTITY = re.compile(r"&(amp|lt|gt);")
_SAFE_URL = re.compile(r"(?i)^(?:https?://|mailto:)[^\s]+$")
# Private-use characters mark where a converted Slack link goes; people's own copies are dropped.
_MARK_OPEN, _MARK_CLOSE = "\ue000", "\ue001"
_MARKER = re.compile(f"{_MARK_OPEN}([0-9]+){_MARK_CLOSE}")
_MARKER_CHARS = re.compile(f"[{_MARK_OPEN}{_MARK_CLOSE}]")
# JSON can carry lone surrogates, which no UTF-8 file can hold.
_SURROGATE = re.compile("[\ud800-\udfff]")
_SLACK_FENCE = re.compile(r"(?<!`)```(?!`)")
_LIST_PREFIX = r"^(\s*(?:(?:[-*+]|[0-9]{1,9}[.)])\s+)*)"
_HEADING_START = re.compile(_LIST_PREFIX + r"(#)")
_SETEXT_LINE = re.compile(_LIST_PREFIX + r"([=\-])(?=[=\-]*\s*$)")
_TILDE_FENCE = re.compile(r"^(\s*)(~~~)")
_LINK_DEFINITION = re.compile(r"^(\s{0,3})(\[)(?=[^\]]*\]:)")
_FENCE_OPEN = re.compile(r"^(`{3,}|~{3,})(.*)$")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_URL_UNSAFE = {c: f"%{ord(c):02X}" for c in ' ()<>|\\`"[]'}


@dataclass(frozen=True)
class _Link:
    url: str
    label: str


def slack_to_markdown(text: str, names: Mapping[str, str]) -> str:
    """Slack mrkdwn as a block of Markdown: mentions, channels and links readable, nothing executable."""
    source, links = _from_slack(_SLACK_FENCE.sub(_fence_on_own_line, text), names)
    return _put_links(_escape_block(source), links, cell=False)


def mentioned_user_ids(text: str) -> set[str]:
    """The user ids of every `<@U…>` mention in Slack text, so their names can be looked up."""
    return {
        match.group(1)[1:].partition("|")[0]
        for match in _SLACK_TOKEN.finditer(text)
        if match.group(1) and match.group(1).startswith("@")
    }


def markdown_inline(text: str, names: Mapping[str, str] | None = None) -> str:
    """Text (Slack mrkdwn when `names` is given) as one line of Markdown, for titles and list items."""
    source, links = _from_slack(text, names) if names is not None else (_normalise(text), [])
    return _put_links(_escape_inline(" ".join(source.split()), cell=False), links, cell=False)


def table_cell(text: str) -> str:
    """Plain text as one Markdown table cell: `|` escaped, line breaks as `<br>`, no HTML."""
    return _cell(text, None)


def slack_table_cell(text: str, names: Mapping[str, str]) -> str:
    """Slack mrkdwn as one Markdown table cell, with mentions, channels and links converted."""
    return _cell(text, names)


def link_cell(url: str | None, label: str) -> str:
    """A Markdown link for a table cell, or an empty string when the URL is not http(s) or mailto."""
    if not url or not _SAFE_URL.match(url):
        return ""
    return _link_markdown(_Link(url=url, label=label), cell=True)


_CELL_MARKUP = re.compile(r"[`\\<&]")


def cell_text(cell: str) -> str:
    """What a table cell says: the inverse of `table_cell` (escapes removed, `<br>` as a line break)."""
    out: list[str] = []
    raw = cell.strip().replace("\\|", "|")
    if not _CELL_MARKUP.search(raw):
        return raw  # most cells: nothing to read, and a scan reads tens of thousands of them
    i = 0
    while i < len(raw):
        char = raw[i]
        if char == "`":
            end = _run_end(raw, i)
            close = _closing_run(raw, end, end - i)
            stop = end if close is None else close + (end - i)
            out.append(raw[i:stop])
            i = stop
        elif char == "\\" and i + 1 < len(raw) and raw[i + 1] in _ASCII_PUNCT:
            out.append(raw[i + 1])
            i += 2
        elif char == "<" and (br := _BR.match(raw, i)):
            out.append("\n")
            i = br.end()
        elif char == "&" and (entity := _BASIC_ENTITY.match(raw, i)):
            out.append(_SLACK_ENTITIES[entity.group(1)])
            i = entity.end()
        else:
            out.append(char)
            i += 1
    return "".join(out)


def split_table_row(line: str) -> list[tuple[int, int]] | None:
    """The (start, end) spans of a table row's cells, or None when the line is not a table row."""
    body = line.rstrip("\r\n")
    start = len(body) - len(body.lstrip())
    if start > 3 or not body[start:].startswith("|"):
        return None
    spans: list[tuple[int, int]] = []
    cell_start = start + 1
    i = body.find("|", cell_start)
    while i != -1:
        # GFM splits cells before reading inline Markdown, so only a backslash right before protects it.
        if body[i - 1] != "\\":
            spans.append((cell_start, i))
            cell_start = i + 1
        i = body.find("|", i + 1)
    if body[cell_start:].strip():
        spans.append((cell_start, len(body)))
    return spans


def _cell(text: str, names: Mapping[str, str] | None) -> str:
    source, links = _from_slack(text, names) if names is not None else (_normalise(text), [])
    return _put_links(_escape_inline(source.strip(), cell=True), links, cell=True)


def _normalise(text: str) -> str:
    return "\n".join(_SURROGATE.sub("\ufffd", _MARKER_CHARS.sub("", text)).splitlines())


def _fence_on_own_line(match: re.Match[str]) -> str:
    # Slack writes ```code``` inline; Markdown only opens a fence at the start of a line.
    text, start, end = match.string, match.start(), match.end()
    before = "" if start == 0 or text[start - 1] == "\n" else "\n"
    after = "" if end == len(text) or text[end] == "\n" else "\n"
    return f"{before}```{after}"


def _from_slack(text: str, names: Mapping[str, str]) -> tuple[str, list[_Link]]:
    links: list[_Link] = []

    def replace(match: re.Match[str]) -> str:
        if match.group(2):
            return _SLACK_ENTITIES[match.group(2)]
        converted = _slack_control(match.group(1), names)
        if isinstance(converted, _Link):
            links.append(converted)
            return f"{_MARK_OPEN}{len(links) - 1}{_MARK_CLOSE}"
        return converted

    return _SLACK_TOKEN.sub(replace, _normalise(text)), links


def _slack_control(body: str, names: Mapping[str, str]) -> str | _Link:
    target, _, label = body.partition("|")
    label = _decode_entities(label)
    if target.startswith("@"):
        name = names.get(target[1:]) or label or target[1:]
        return "@" + " ".join(name.split()).lstrip("@")
    if target.startswith("#"):
        return "#" + (names.get(target[1:]) or label or target[1:]).lstrip("#")
    if target.startswith("!"):
        keyword, *args = target[1:].split("^")
        if keyword in ("here", "channel", "everyone"):
            return f"@{keyword}"
        if keyword == "subteam":
            return label or "@" + (args[0] if args else "team")
        return label or keyword
    url = _decode_entities(target)
    if _SAFE_URL.match(url):
        return _Link(url=url, label=label) if label else url
    return label or f"<{_decode_entities(body)}>"


def _decode_entities(text: str) -> str:
    return _BASIC_ENTITY.sub(lambda m: _SLACK_ENTITIES[m.group(1)], text)


def _put_links(markdown: str, links: list[_Link], *, cell: bool) -> str:
    return _MARKER.sub(lambda match: _link_markdown(links[int(match.group(1))], cell=cell), markdown)


def _link_markdown(link: _Link, *, cell: bool) -> str:
    # No backticks: the link may land inside someone's code span, where one would close it early.
    label = _escape_inline(" ".join(link.label.replace("`", "'").split()), cell=cell)
    label = label.replace("[", "\\[").replace("]", "\\]")
    # An `&name;` in a destination would be read as an entity, so it is percent-encoded too.
    url = _ENTITY.sub(lambda m: "%26" + m.group(0)[1:], link.url)
    url = "".join(_URL_UNSAFE.get(c, c) for c in url)
    return f"[{label}]({url})"


def _escape_block(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        fence = _FENCE_OPEN.match(lines[i])
        # Only a fence at column 0 is sure to be top level; indented ones could sit inside a list item.
        if fence and not (fence.group(1)[0] == "`" and "`" in fence.group(2)):
            marker = fence.group(1)
            close = next((j for j in range(i + 1, len(lines)) if _closes(lines[j], marker)), None)
            info = re.sub(r"[^\w+.#-]", "", fence.group(2))[:30]
            out.append(marker + info)
            out.extend(lines[i + 1 : close if close is not None else len(lines)])
            out.append(lines[close] if close is not None else marker)
            i = len(lines) if close is None else close + 1
            continue
        out.append(_escape_line(lines[i]))
        i += 1
    return "\n".join(out)


def _closes(line: str, marker: str) -> bool:
    stripped = line.strip()
    indent = len(line) - len(line.lstrip(" "))
    return indent <= 3 and len(stripped) >= len(marker) and set(stripped) == {marker[0]}


def _escape_line(line: str) -> str:
    escaped = _escape_inline(line, cell=False)
    for pattern in (_HEADING_START, _SETEXT_LINE, _TILDE_FENCE, _LINK_DEFINITION):
        escaped = pattern.sub(lambda m: f"{m.group(1)}\\{m.group(2)}", escaped, count=1)
    return escaped


def _escape_inline(text: str, *, cell: bool) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        special = _SPECIAL.search(text, i)
        if special is None:
            out.append(text[i:])
            break
        if special.start() > i:
            out.append(text[i : special.start()])  # a run of plain characters, as it is
            i = special.start()
        char = text[i]
        if char == "`":
            end = _run_end(text, i)
            close = _closing_run(text, end, end - i)
            if close is None or _in_bare_url(text, i):
                out.append("\\`" * (end - i))
                i = end
                continue
            span = text[i : close + end - i]
            if cell:
                span = span.replace("\n", " ").replace("|", "\\|")
            out.append(span)
            i = close + end - i
            continue
        out.append(_escape_char(text, i, cell=cell))
        i += 1
    return "".join(out)


def _escape_char(text: str, i: int, *, cell: bool) -> str:
    char = text[i]
    if char == "\\":
        following = text[i + 1] if i + 1 < len(text) else ""
        return "\\" if following.isalnum() or following in (" ", "\t") else "\\\\"
    if char == "<":
        return "&lt;"
    if char == ">":
        return "&gt;"
    if char == "&" and _ENTITY.match(text, i):
        return "&amp;"
    if cell and char == "|":
        return "\\|"
    if cell and char == "\n":
        return "<br>"
    return char


def _in_bare_url(text: str, start: int) -> bool:
    """Whether a GFM autolink could run on into the backticks at `start`, so they must not open code."""
    word_start = start
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:start]
    return ":" in word or "www." in word.lower()


def _run_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and text[end] == "`":
        end += 1
    return end


def _closing_run(text: str, start: int, length: int) -> int | None:
    """Where a backtick run of exactly `length` starts after `start`, as CommonMark pairs code spans."""
    i = start
    while i < len(text):
        if text[i] == "`":
            end = _run_end(text, i)
            if end - i == length:
                return i
            i = end
        else:
            i += 1
    return None
