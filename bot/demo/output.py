"""What `incident-bot demo` prints: a step-by-step console and, at the end, what landed in the docs repo."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import git

RCA_EXCERPT_LINES = 25

# Stand-ins for the few non-ASCII symbols we print, for consoles that cannot encode them
# (e.g. output redirected to a file on a legacy Windows code page); a traceback there would be
# a worse first impression than a plain arrow.
_ASCII = str.maketrans({"→": "->", "✓": "ok", "✗": "x", "—": "-", "─": "-", "…": "...", "·": "-"})


class Console:
    """One line per call, flushed at once so each step shows up while the demo is still running."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        encoding = getattr(out, "encoding", None) or "utf-8"
        try:
            codecs.lookup(encoding)
        except LookupError:
            encoding = "utf-8"
        self._encoding = encoding

    def line(self, text: str = "") -> None:
        try:
            text.encode(self._encoding)
        except UnicodeEncodeError:
            # Bot-written content (RCA, commit) may hold more than our own symbols: replace the rest.
            text = text.translate(_ASCII).encode(self._encoding, "replace").decode(self._encoding)
        self._out.write(text + "\n")
        self._out.flush()

    def step(self, text: str) -> None:
        self.line(f"→ {text}")

    def ok(self, text: str) -> None:
        self.line(f"  ✓ {text}")

    def failed(self, text: str) -> None:
        self.line(f"  ✗ {text}")

    def heading(self, text: str) -> None:
        self.line()
        self.line(f"── {text} " + "─" * max(3, 72 - len(text)))

    def block(self, lines: list[str]) -> None:
        # Indented so file content is easy to tell apart from the demo's own words.
        for text in lines:
            self.line(f"  {text}".rstrip())


def show_results(console: Console, *, remote: Path, rca_path: str, fleet_status_path: str, title: str) -> None:
    """Print the RCA, the fleet-status line and the commit as the team would get them from the remote."""
    import git  # here, not at import time, so a missing git binary becomes the demo's message, not a traceback

    repo = git.Repo(remote)
    rca = _remote_file(repo, rca_path)
    lines = rca.splitlines()
    shown = lines[:RCA_EXCERPT_LINES]
    more = f"first {len(shown)} of {len(lines)} lines" if len(lines) > len(shown) else f"{len(lines)} lines"
    console.heading(f"RCA {rca_path} ({more})")
    console.block(shown)
    if len(lines) > len(shown):
        console.block(["…"])

    console.heading(f"The new line in {fleet_status_path}")
    fleet = _remote_file(repo, fleet_status_path).splitlines()
    # The entry names the incident; other lines that merely mention the title are not it.
    entry = [line for line in fleet if line.startswith("- ") and "INCIDENT" in line and title in line]
    console.block(entry or [f"(no entry for {title!r} found in {fleet_status_path})"])

    console.heading("The commit on the docs repo's remote (git log -1 --stat)")
    console.block(str(repo.git.log("-1", "--stat", "main")).splitlines())


def show_kept(console: Console, *, base: Path, clone: Path, remote: Path, database: Path, rca_path: str) -> None:
    """Tell the user where --keep left everything and how to look at it."""
    console.line()
    console.line(f"Kept in {base}:")
    rows = [
        (f"{clone.name}/", "the bot's clone of the docs repo", f"git -C {clone} log --stat"),
        (f"{remote.name}/", "the remote it pushed to", f"git -C {remote} show main:{rca_path}"),
        (database.name, "the bot's SQLite database", "incidents, timeline, action items"),
    ]
    width = max(len(name) for name, _, _ in rows) + 2
    for name, what, how in rows:
        console.line(f"  {name:<{width}}{what}: {how}")


def _remote_file(repo: git.Repo, path: str) -> str:
    return str(repo.git.show(f"main:{path}"))
