"""The docs repo's parsed RCAs, kept between runs in a file in the clone's git folder.

`incident-bot scan` (and `remind`, `briefing`) is a process of its own each time: without this, every
run would read and parse every RCA of the repo again. Entries are keyed by blob id (a changed file has
a new blob id, and parsing depends on nothing but the text), the file is replaced atomically (`serve`
and a cron run may share a clone), and it is thrown away when the parser's code changed, so a stale
entry is never used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from bot.core import markdown, rca_parse
from bot.core.models import ActionStatus, Severity
from bot.core.rca_parse import ActionRow, ParsedRca, RcaProblem

log = logging.getLogger(__name__)

FILE_NAME = "parsed-rcas.json"
_STATUSES = {status.value: status for status in ActionStatus}


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data`: readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _readers() -> str:
    digest = hashlib.sha256()
    for module in (rca_parse, markdown):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:16]


class FileParsedRcas:
    """Implements bot.services.reminders.ParsedRcaStore in one JSON file."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def load(self) -> dict[str, ParsedRca]:
        try:
            data = self._path.read_bytes()
        except OSError:
            return {}  # none yet
        try:
            stored = json.loads(data)
            if stored.get("readers") != _readers():
                return {}
            return {blob: _parsed(entry) for blob, *entry in stored["entries"]}
        except (ValueError, TypeError, KeyError, AttributeError):
            log.info("the parsed RCAs' cache %s is unreadable; the RCAs are read again", self._path)
            return {}

    def save(self, parsed: Mapping[str, ParsedRca]) -> None:
        entries = [[blob, *_entry(rca)] for blob, rca in sorted(parsed.items())]
        data = json.dumps({"readers": _readers(), "entries": entries}, ensure_ascii=False, separators=(",", ":"))
        try:
            write_atomically(self._path, data.encode())
        except OSError as error:
            # Only a later run's speed depends on it.
            log.warning("could not keep the parsed RCAs in %s: %s", self._path.parent, error)


def _entry(rca: ParsedRca) -> list[object]:
    rows = [[r.number, r.action, r.owner, r.owner_id, r.status.value, r.line] for r in rca.action_items]
    return [rca.title, rca.severity.value if rca.severity else None, rows, [[p.line, p.message] for p in rca.problems]]


def _parsed(entry: list[object]) -> ParsedRca:
    title, severity, rows, problems = entry
    if not isinstance(rows, list) or not isinstance(problems, list):
        raise TypeError("an entry's rows and problems are lists")
    return ParsedRca(
        title=title if isinstance(title, str) else None,
        severity=Severity(severity) if isinstance(severity, str) else None,
        action_items=[
            ActionRow(number=n, action=a, owner=o, owner_id=i, status=_STATUSES[s], line=line)
            for n, a, o, i, s, line in rows
        ],
        problems=[RcaProblem(line=line, message=message) for line, message in problems],
    )


def parsed_rcas_for(docs_repo_path: str | None) -> FileParsedRcas | None:
    """The cache of the clone at DOCS_REPO_PATH, beside the bot's worktree (None without a plain `.git`)."""
    if not docs_repo_path:
        return None
    git_dir = Path(docs_repo_path) / ".git"
    if not git_dir.is_dir():
        return None
    return FileParsedRcas(git_dir / "incident-bot" / FILE_NAME)
