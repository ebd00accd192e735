"""The runbook's Severity Guide as the levels in force: read at start and after every pull.

A team that adds a SEV-4 row, or changes a criterion, changes the runbook and the bot follows; a
table the bot cannot read keeps the last good levels and is reported with the file and line.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from threading import Lock

from bot.core.models import Severity, SeverityInfo, use_severity_guide
from bot.core.policy import LevelPolicy, PolicyError, PolicyProblem, parse_severity_guide
from bot.core.ports import Edit, Publisher, PublishError, PublishResult

log = logging.getLogger(__name__)


def severity_info(level: LevelPolicy) -> SeverityInfo:
    """What the chat messages and reminders need of one row of the Severity Guide."""
    if level.rank == 1:
        meaning = "Immediate escalation"
    elif level.rca_required:
        meaning = "RCA required"
    else:
        meaning = f"Fix and {level.rca_note}" if level.rca_note else "RCA not required"
    return SeverityInfo(
        criteria=level.criteria,
        meaning=meaning,
        response_time=level.response_time,
        response_window=level.response_window,
        rca_required=level.rca_required,
    )


class RunbookSeverities:
    """Reads RUNBOOK_PATH's Severity Guide whenever the docs repo's commit changed since the last read."""

    def __init__(self, publisher: Publisher, runbook_path: str) -> None:
        self._publisher = publisher
        self._path = runbook_path
        self._lock = Lock()
        self._seen: str | None = None
        self.problems: list[PolicyProblem] = []

    def refresh(self) -> list[PolicyProblem]:
        """Take the runbook's levels if it changed; the problems found in it (empty: all is well)."""
        with self._lock:
            try:
                head = self._publisher.head()
                if head is not None and head == self._seen:
                    return self.problems
                text = self._publisher.read(self._path)
            except PublishError as error:
                # The docs repo's own trouble is reported where it is met (start-up, the pull, doctor).
                self.problems = [PolicyProblem(self._path, 0, f"the docs repo cannot be read ({error})")]
                log.debug("keeping the last good severity levels: %s", self.problems[0])
                return self.problems
            self._seen = head
            if text is None:
                self.problems = [PolicyProblem(self._path, 0, "the runbook is not in the docs repo")]
            else:
                try:
                    levels = parse_severity_guide(text=text, path=self._path)
                except PolicyError as error:
                    self.problems = list(error.problems)
                else:
                    self.problems = []
                    use_severity_guide({Severity(level.name): severity_info(level) for level in levels})
            for problem in self.problems:
                log.warning("keeping the last good severity levels: %s", problem)
            return self.problems


class RunbookWatchingPublisher:
    """The docs repo, reading the runbook's Severity Guide again after each pull."""

    def __init__(self, inner: Publisher, severities: RunbookSeverities) -> None:
        self._inner = inner
        self._severities = severities

    def publish(self, *, edits: Mapping[str, Edit], message: str, pulled: bool = False) -> PublishResult:
        return self._inner.publish(edits=edits, message=message, pulled=pulled)

    def pull(self) -> None:
        try:
            self._inner.pull()
        finally:
            self._severities.refresh()

    def read(self, path: str) -> str | None:
        return self._inner.read(path)

    def list_files(self, folder: str, *, suffix: str = ".md") -> list[str]:
        return self._inner.list_files(folder, suffix=suffix)

    def head(self) -> str | None:
        return self._inner.head()

    def list_blobs(self, folder: str, *, suffix: str = ".md") -> dict[str, str]:
        return self._inner.list_blobs(folder, suffix=suffix)

    def read_blobs(self, blob_ids: Sequence[str]) -> dict[str, str]:
        return self._inner.read_blobs(blob_ids)
