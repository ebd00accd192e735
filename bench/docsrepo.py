"""Docs repos for the bot: the small team repo, and a big one built with `git fast-import` and cached.

The big repo starts from the team's sample docs repo (tests/fixtures/fleet-repo) and adds `rcas`
hand-written RCAs in DOCS/incidents/, shaped like the sample one (title, severity, an Action items
table of 2-4 rows), in `commits` commits: RCAs are added a few at a time, later commits close some
of their items, and the rest add daily notes elsewhere in the repo. Owners are written `@user0001` … `@userNNNN`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
FLEET_REPO = REPO_ROOT / "tests" / "fixtures" / "fleet-repo"
INCIDENTS_DIR = "DOCS/incidents"
# Bump when the generated content changes, so an old cache is not reused.
FORMAT_VERSION = 1
_SEVERITIES = ("SEV-1", "SEV-2", "SEV-3")
_EPOCH = 1_500_000_000
# RCAs added (and later closed) per commit.
RCA_BATCH = 5
_IDENTITY = {
    "GIT_AUTHOR_NAME": "Docs Seeder",
    "GIT_AUTHOR_EMAIL": "seeder@example.com",
    "GIT_COMMITTER_NAME": "Docs Seeder",
    "GIT_COMMITTER_EMAIL": "seeder@example.com",
}


@dataclass(frozen=True)
class RepoSize:
    rcas: int
    commits: int
    owners: int

    @property
    def key(self) -> str:
        return f"docs-v{FORMAT_VERSION}-r{self.rcas}-c{self.commits}-o{self.owners}"


@dataclass(frozen=True)
class DocsRepo:
    """A bare remote and the bot's clone of it (upstream: origin/main)."""

    remote: Path
    clone: Path


def git(*args: str, cwd: Path | None = None, stdin: bytes | None = None) -> str:
    """Run the real git (never a counting wrapper) and return its output."""
    env = {**os.environ, **_IDENTITY, "GIT_TERMINAL_PROMPT": "0"}
    done = subprocess.run(
        [real_git(), *args], cwd=cwd, input=stdin, capture_output=True, env=env, check=False, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout.decode("utf-8", errors="replace")


def real_git() -> str:
    """The git binary on PATH, skipping any bench wrapper directory."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d and "bench-gitwrap" not in d]
    found = shutil.which("git", path=os.pathsep.join(dirs))
    if found is None:
        raise RuntimeError("git is not on PATH")
    return found


def owner_name(number: int) -> str:
    return f"user{number:04d}"


def rca_path(index: int, today: date) -> str:
    day = today - timedelta(days=index)
    return f"{INCIDENTS_DIR}/{day.isoformat()}-service-{index:05d}-outage-rca.md"


def rca_text(index: int, size: RepoSize, *, final: bool) -> str:
    """RCA number `index` (1-based). Rows are numbered across the repo: row k is done when k % 3 == 2,
    in progress when k % 6 == 1, else open; its owner is user((k % owners) + 1)."""
    rows = 2 + index % 3
    first = _first_row(index)
    lines = [
        f"# RCA: Service {index:05d} outage",
        "",
        f"- **Severity:** {_SEVERITIES[index % 3]}",
        "- **Commander:** @matt",
        "",
        "## Timeline",
        "",
        "| Time (UTC) | Event |",
        "|------------|-------|",
        "| 06:10 | Watchdog reports failures. |",
        "| 08:45 | Resolved. |",
        "",
        "## Root cause(s)",
        "",
        f"- A config change to service {index} was not rolled out everywhere.",
        "",
        "## Action items",
        "",
        "| # | Action | Owner | Status |",
        "|---|--------|-------|--------|",
    ]
    for number in range(1, rows + 1):
        k = first + number - 1
        status = "Open"
        if final and k % 3 == 2:
            status = "✅ DONE"
        elif k % 6 == 1:
            status = "In progress"
        owner = owner_name(k % size.owners + 1)
        lines.append(f"| {number} | Fix item {number} of service {index} | @{owner} | {status} |")
    return "\n".join(lines) + "\n"


def _first_row(index: int) -> int:
    # Rows of RCAs 1..index-1: each has 2 + i % 3 rows.
    full, rest = divmod(index - 1, 3)
    return full * 9 + sum(2 + i % 3 for i in range(full * 3 + 1, full * 3 + rest + 1))


def expected_open_items(size: RepoSize) -> int:
    """Open (not done) rows across the generated RCAs, for checking what scan finds."""
    total = _first_row(size.rcas + 1)
    return sum(1 for k in range(total) if k % 3 != 2)


def _fast_import_stream(size: RepoSize, today: date) -> bytes:
    chunks: list[bytes] = []
    moment = _EPOCH
    mark = 0

    def commit(message: str, files: dict[str, str]) -> None:
        nonlocal moment, mark
        moment += 600
        mark += 1
        data = message.encode()
        chunks.append(b"commit refs/heads/main\nmark :%d\n" % mark)
        chunks.append(b"committer Docs Seeder <seeder@example.com> %d +0000\n" % moment)
        chunks.append(b"data %d\n%s\n" % (len(data), data))
        if mark > 1:
            chunks.append(b"from :%d\n" % (mark - 1))
        for path, text in files.items():
            blob = text.encode()
            chunks.append(b"M 100644 inline %s\ndata %d\n%s\n" % (path.encode(), len(blob), blob))

    seed = {str(p.relative_to(FLEET_REPO)): p.read_text(encoding="utf-8") for p in FLEET_REPO.rglob("*") if p.is_file()}
    commit("Seed the docs repo", seed)
    # Every commit that touches DOCS/incidents/ rewrites its (big) tree, which is what makes a history
    # slow to build: RCAs are added, and later some of their items closed, a batch at a time, and the
    # other commits are the daily notes people write elsewhere in the repo.
    batches = [range(start, min(start + RCA_BATCH, size.rcas + 1)) for start in range(1, size.rcas + 1, RCA_BATCH)]
    notes = max(0, size.commits - 1 - 2 * len(batches))
    written = 0
    note_lines: dict[str, list[str]] = {}
    for number, batch in enumerate(batches):
        commit(
            f"RCAs of services {batch[0]:05d}-{batch[-1]:05d}",
            {rca_path(i, today): rca_text(i, size, final=False) for i in batch},
        )
        commit(
            f"Close done items of services {batch[0]:05d}-{batch[-1]:05d}",
            {rca_path(i, today): rca_text(i, size, final=True) for i in batch},
        )
        share = notes * (number + 1) // len(batches) - written
        for _ in range(share):
            written += 1
            path = f"DOCS/daily/notes-{written // 30:04d}.md"
            lines = note_lines.setdefault(path, ["# Daily notes", ""])
            lines.append(f"- Note {written}: all agents green.")
            commit(f"Daily note {written}", {path: "\n".join(lines) + "\n"})
    chunks.append(b"done\n")
    return b"".join(chunks)


def cached_big_repo(cache: Path, size: RepoSize) -> Path:
    """The bare big repo for `size`, built once with fast-import and kept under `cache`."""
    target = cache / size.key / "docs.git"
    if (target / "HEAD").exists() and (target.parent / "complete").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix="build-", dir=cache))
    bare = building / "docs.git"
    git("init", "--quiet", "--bare", "--initial-branch=main", str(bare))
    # Dates count back from a fixed day, so a cached repo is the same whenever it is built.
    git("fast-import", "--quiet", "--done", cwd=bare, stdin=_fast_import_stream(size, date(2026, 11, 1)))
    git("repack", "-adq", cwd=bare)
    (building / "complete").write_text("")
    if target.parent.exists():
        shutil.rmtree(target.parent)
    building.rename(target.parent)
    return target


def checkout(bare: Path, base: Path) -> DocsRepo:
    """A bare remote of its own (a local clone of `bare`, sharing its packs) and the bot's clone of it."""
    base.mkdir(parents=True, exist_ok=True)
    remote = base / "docs.git"
    clone = base / "docs"
    git("clone", "--quiet", "--bare", "--local", str(bare), str(remote))
    git("clone", "--quiet", str(remote), str(clone))
    return DocsRepo(remote=remote, clone=clone)


def small_repo(base: Path) -> DocsRepo:
    """The team's sample docs repo as a bare remote and a clone, as the end-to-end tests set it up."""
    seed = base / "seed"
    shutil.copytree(FLEET_REPO, seed)
    git("init", "--quiet", "--initial-branch=main", cwd=seed)
    git("add", "-A", cwd=seed)
    git("commit", "--quiet", "-m", "Seed the docs repo", cwd=seed)
    remote = base / "docs.git"
    git("clone", "--quiet", "--bare", str(seed), str(remote))
    shutil.rmtree(seed)
    clone = base / "docs"
    git("clone", "--quiet", str(remote), str(clone))
    return DocsRepo(remote=remote, clone=clone)


def remote_head(remote: Path) -> str:
    """The bare remote's main, read from its ref file: polled every few milliseconds while a resolve is
    timed, and a `git rev-parse` each time would take CPU from the bot being measured."""
    try:
        loose = (remote / "refs" / "heads" / "main").read_text(encoding="utf-8").strip()
    except OSError:
        loose = ""
    return loose or git("rev-parse", "main", cwd=remote).strip()


def write_git_wrapper(folder: Path) -> tuple[Path, Path]:
    """A `git` script that logs each run (one line) and execs the real git; returns (its folder, the log)."""
    wrap = folder / "bench-gitwrap"
    wrap.mkdir(parents=True, exist_ok=True)
    log = folder / "git-calls.log"
    log.write_text("")
    script = wrap / "git"
    script.write_text(f'#!/bin/sh\necho "$*" >> "{log}"\nexec "{real_git()}" "$@"\n')
    script.chmod(0o755)
    return wrap, log


def git_calls(log: Path) -> list[str]:
    return log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
