"""`serve` hands back what its start-up freed: on glibc (this machine, the Docker image) it can; and a
bot on SQLite does not load what only PostgreSQL needs."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from bot.ops.memory import release_free_memory
from bot.storage import migrate
from tests.paths import ROOT


def resident_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:"))


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_the_heap_freed_below_a_live_block_goes_back_to_the_system() -> None:
    # 40 MB of 4 kB blocks (the C heap, under malloc's mmap threshold), then one block that stays: what is
    # freed below it stays resident, since free() only gives back the heap's top.
    blocks = [bytearray(4096) for _ in range(10_000)]
    kept = bytearray(4096)
    del blocks
    before = resident_mb()
    assert release_free_memory() is True
    assert resident_mb() < before - 20
    assert len(kept) == 4096


def test_serve_on_sqlite_loads_no_postgresql_dialect_or_driver(tmp_path: Path) -> None:
    # SQLAlchemy loads a dialect to check options named after it (an index's `postgresql_where`, say):
    # its PostgreSQL dialect and the modules of every PostgreSQL driver it knows were ≈2 MB of an idle
    # serve's memory (bench/RESULTS.md). A fresh interpreter builds what serve builds on an SQLite database
    # that is up to date (migrating loads Alembic, which loads every dialect's DDL: a start that migrates
    # pays that once).
    probe = (
        "import sys\n"
        "from bot.config import load_settings\n"
        "from bot.container import build_container\n"
        "import bot.server\n"
        "settings = load_settings({'SLACK_BOT_TOKEN': 'xoxb-t', 'SLACK_SIGNING_SECRET': 's',"
        " 'DATABASE_URL': sys.argv[1]})\n"
        "build_container(settings, offline=True, scan_in_child=True)\n"
        "print(sorted(m for m in sys.modules if 'postgresql' in m or m.startswith('psycopg')))\n"
    )
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    migrate(url)
    done = subprocess.run(
        [sys.executable, "-c", probe, url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"
