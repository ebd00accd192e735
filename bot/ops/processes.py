"""The process's own child processes (Linux /proc), to end the git commands a stopping bot leaves running."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def children(named: str) -> list[int]:
    """Pids of this process's children whose program is `named` (none where there is no /proc)."""
    me = os.getpid()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            stat = (entry / "stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            parent = int(stat[stat.rindex(")") + 2 :].split()[1])
            if parent == me and name == named:
                found.append(int(entry.name))
    return found


def end_children(named: str) -> int:
    """Send SIGTERM to each child process called `named`; returns how many."""
    ended = 0
    for pid in children(named):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            ended += 1
    return ended
