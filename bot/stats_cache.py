"""The parsed RCAs of the numbers, kept between runs in a file in the docs clone's git folder.

`incident-bot stats` is a process of its own each time: without this, every run would read and parse
every RCA of the repo again. Entries are keyed by path and blob id (a changed file has a new blob id),
the file is replaced atomically (`serve` and a cron run may share a clone), and it is thrown away when
the time zone or the readers' code changed, so a stale entry is never used.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, TypeAdapter, ValidationError

from bot.core import rca_parse, stats_docs
from bot.core.stats_docs import RcaFacts
from bot.rca_cache import write_atomically

log = logging.getLogger(__name__)

FILE_NAME = "stats-facts.json"


class _Stored(BaseModel):
    readers: str  # a digest of the code that made the entries
    tz: str
    entries: list[tuple[str, str, RcaFacts]]


_STORED: TypeAdapter[_Stored] = TypeAdapter(_Stored)


def _readers() -> str:
    digest = hashlib.sha256()
    for module in (stats_docs, rca_parse):
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:16]


class FileFactsCache:
    """Implements bot.core.stats_docs.FactsCache in one JSON file."""

    def __init__(self, path: Path, *, tz: str) -> None:
        self._path = path
        self._tz = tz

    def load(self) -> dict[tuple[str, str], RcaFacts]:
        try:
            data = self._path.read_bytes()
        except OSError:
            return {}  # none yet
        try:
            stored = _STORED.validate_json(data)
        except ValidationError:
            log.info("the numbers' cache %s is unreadable; the RCAs are read again", self._path)
            return {}
        if stored.readers != _readers() or stored.tz != self._tz:
            return {}
        return {(path, blob): facts for path, blob, facts in stored.entries}

    def save(self, facts: Mapping[tuple[str, str], RcaFacts]) -> None:
        stored = _Stored(readers=_readers(), tz=self._tz, entries=[(p, b, f) for (p, b), f in sorted(facts.items())])
        try:
            write_atomically(self._path, _STORED.dump_json(stored))
        except OSError as error:
            # Only a later run's speed depends on it.
            log.warning("could not keep the numbers' cache in %s: %s", self._path.parent, error)


def facts_cache_for(docs_repo_path: str | None, *, tz: str) -> FileFactsCache | None:
    """The cache of the clone at DOCS_REPO_PATH, beside the bot's worktree (None without a plain `.git`)."""
    if not docs_repo_path:
        return None
    git_dir = Path(docs_repo_path) / ".git"
    if not git_dir.is_dir():
        return None
    return FileFactsCache(git_dir / "incident-bot" / FILE_NAME, tz=tz)
