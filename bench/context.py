"""What every measure is given: the sizes, the rounds, the bots to measure, a database kind, scratch space."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.bots import Tree
from bench.databases import Databases
from bench.docsrepo import RepoSize


@dataclass(frozen=True)
class Sizes:
    ack_requests: int = 300  # per round and bot
    threads: int = 10
    backlog_posts: int = 80
    repo: RepoSize = field(default_factory=lambda: RepoSize(rcas=5000, commits=10000, owners=2000))
    daily_window: float = 30.0  # seconds watched
    daily_interval: float = 5.0  # DAILY_CHECK_SECONDS
    daily_pace: float = 0.5  # seconds between one client thread's notes while the daily check runs
    remind_cutoff: float = 120.0  # seconds a `remind` run is watched at most
    timeline_entries: int = 10000
    # Seconds a resolve form stays open before the submit: people write a summary, the root causes, what
    # fixed it and the lessons (the bot gets the RCA ready meanwhile; a person takes minutes, not seconds).
    form_open: float = 3.0
    # The slow measures (each round takes up to minutes) run at most this many rounds.
    heavy_rounds: int = 3


QUICK = Sizes(
    ack_requests=60,
    backlog_posts=10,
    repo=RepoSize(rcas=200, commits=400, owners=50),
    daily_window=6.0,
    daily_interval=2.0,
    remind_cutoff=30.0,
    timeline_entries=500,
    form_open=0.5,
    heavy_rounds=1,
)


@dataclass
class Context:
    sizes: Sizes
    rounds: int
    trees: list[Tree]
    dbs: Databases
    work: Path  # scratch folder of this measure on this database
    cache: Path  # where the big docs repo is kept between runs
    quiet: bool = False

    @property
    def heavy_rounds(self) -> int:
        return min(self.rounds, self.sizes.heavy_rounds)

    def say(self, message: str) -> None:
        """Progress, on stderr (the table goes to stdout)."""
        if not self.quiet:
            print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def folder(self, name: str) -> Path:
        path = self.work / name
        path.mkdir(parents=True, exist_ok=True)
        return path
