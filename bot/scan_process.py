"""The daily check's scan of the docs repo in a process of its own, for `serve`.

Reading and parsing thousands of RCAs and matching their owners is a second or two of CPU. Inside `serve`
it shares one interpreter lock with the threads answering Slack, and each of them waits behind it at
every hand-off: the p99 note ack while a due run scanned a 5,000-RCA repo was 4–5× the p99 without one
(bench/RESULTS.md, seventh round). In a child process that work runs beside them, on another core. The
child only reads (the docs repo, already pulled by `serve`, and the database); what comes back is the open
items, in chunks small enough that unpacking one never holds the lock for long, and `serve` itself makes
the database follow the files and claims the reminders. Should the child fail in any way, `serve` logs
why and scans in its own process, as it did before.

`python -m bot.scan_process` is that child: it reads one pickled `ScanRequest` on stdin and writes the
result on stdout. Only `serve` starts it, with its own settings, so the pickles never cross a trust
boundary.
"""

from __future__ import annotations

import io
import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import Settings, read_owner_map
from bot.core.open_items import OpenItem, OpenItems, Person
from bot.core.ports import Clock
from bot.services.context import ServiceContext
from bot.services.open_item_scan import OpenItemScan
from bot.services.publishing import DocsLayout

log = logging.getLogger(__name__)

# Items per pickle on the way back: unpickling 10,000 items at once holds the lock for 30–60 ms.
CHUNK = 500
# A child still scanning after this long is stopped, and the scan done in `serve` instead.
TIMEOUT_SECONDS = 600.0
# The child's scheduling priority below `serve`'s (nice(1): 0 is normal, 19 the lowest).
NICENESS = 10
_BOT_ROOT = str(Path(__file__).resolve().parent.parent)


@dataclass(frozen=True)
class ScanRequest:
    settings: Settings
    people: tuple[Person, ...]


class ChildScanFailed(Exception):
    """The child process did not give a scan back."""


def wire_scan(settings: Settings, ctx: ServiceContext) -> OpenItemScan:
    """The scan of DOCS_REPO_PATH and the database, as `scan` and this module's child wire it."""
    from bot.publish import GitPublisher
    from bot.rca_cache import parsed_rcas_for

    publisher = (
        GitPublisher(
            settings.docs_repo_path, author_name=settings.git_author_name, author_email=settings.git_author_email
        )
        if settings.docs_repo_path
        else None
    )
    layout = DocsLayout(incidents_dir=settings.incidents_dir, tz=settings.timezone)
    return OpenItemScan(
        ctx,
        publisher,
        layout,
        owner_map=read_owner_map(settings.owner_map),
        parsed_store=parsed_rcas_for(settings.docs_repo_path),
    )


class ScanInChildProcess:
    """Implements FindsOpenItems: `inline`'s scan, its reading and parsing done by a child process."""

    def __init__(
        self,
        settings: Settings,
        inline: OpenItemScan,
        *,
        timeout: float = TIMEOUT_SECONDS,
        command: Sequence[str] = (sys.executable, "-m", "bot.scan_process"),
    ) -> None:
        self._settings = settings
        self._inline = inline
        self._timeout = timeout
        self._command = list(command)

    def scan(self, *, people: Sequence[Person], pulled: bool = False) -> OpenItems:
        if not self._inline.reads_docs:
            return self._inline.scan(people=people, pulled=pulled)  # a few database reads: no child for that
        if not pulled:
            self._inline.pull()  # here, so that the runbook's levels follow the pull as always
        try:
            found = self._in_child(people)
        except ChildScanFailed as error:
            log.warning("the scan's own process failed (%s); scanning in this one", error)
            return self._inline.scan(people=people, pulled=True)
        self._inline.follow(found)
        return found

    def _in_child(self, people: Sequence[Person]) -> OpenItems:
        request = pickle.dumps(ScanRequest(self._settings, tuple(people)), protocol=pickle.HIGHEST_PROTOCOL)
        env = dict(os.environ)
        # The child imports the very code this process runs (a checkout, not only an installed copy).
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_BOT_ROOT, env.get("PYTHONPATH", "")) if p)
        try:
            done = subprocess.run(
                self._command,
                input=request,
                stdout=subprocess.PIPE,
                env=env,
                timeout=self._timeout,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as error:
            raise ChildScanFailed(str(error) or type(error).__name__) from error
        if done.returncode != 0:
            raise ChildScanFailed(f"it exited with status {done.returncode}")
        return _read_result(done.stdout)


def _read_result(data: bytes) -> OpenItems:
    size = int.from_bytes(data[:8], "big") if len(data) >= 8 else -1
    if size != len(data) - 8:
        raise ChildScanFailed(f"its answer was cut short ({max(0, len(data) - 8)} of {size} bytes)")
    stream = io.BytesIO(data)
    stream.seek(8)
    try:
        chunks, problems, status_changes = pickle.load(stream)
        items: list[OpenItem] = []
        for _ in range(chunks):
            items.extend(pickle.load(stream))  # between chunks, other threads get their turn
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError) as error:
        raise ChildScanFailed(f"its answer could not be read: {error}") from error
    return OpenItems(items=items, problems=problems, status_changes=status_changes)


def _write_result(found: OpenItems, out: io.BufferedIOBase) -> None:
    chunks = [found.items[start : start + CHUNK] for start in range(0, len(found.items), CHUNK)]
    pickle.dump((len(chunks), found.problems, found.status_changes), out, protocol=pickle.HIGHEST_PROTOCOL)
    for chunk in chunks:
        pickle.dump(chunk, out, protocol=pickle.HIGHEST_PROTOCOL)


def main(clock: Clock | None = None) -> int:
    from bot.clock import SystemClock
    from bot.logs import configure_logging
    from bot.storage import SqlUnitOfWork, create_engine_for

    configure_logging()
    # Background work: on a busy host, the threads answering Slack get the cores first.
    os.nice(NICENESS)
    request: ScanRequest = pickle.load(sys.stdin.buffer)
    settings = request.settings
    moments = clock or SystemClock()
    engine = create_engine_for(settings.database_url)  # `serve` migrated it
    try:
        ctx = ServiceContext(
            uow=lambda: SqlUnitOfWork(engine, clock=moments),
            read=lambda: SqlUnitOfWork(engine, clock=moments, read_only=True),
            clock=moments,
        )
        found = wire_scan(settings, ctx).find(people=request.people)
    finally:
        engine.dispose()
    out = io.BytesIO()
    _write_result(found, out)
    answer = out.getvalue()
    # Its length first, so that a cut answer is seen as one; written until all of it is in the pipe (a
    # write to a pipe that a signal interrupts may write only part of what it was given).
    left = memoryview(len(answer).to_bytes(8, "big") + answer)
    while left:
        left = left[os.write(sys.stdout.fileno(), left) :]
    return 0


if __name__ == "__main__":
    sys.exit(main())
