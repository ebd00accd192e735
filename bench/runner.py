"""`python -m bench`: run the measures on SQLite (and PostgreSQL) and print one table."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import (
    measures_ack,
    measures_remind,
    measures_repo,
    measures_resolve,
    measures_similar,
    measures_startup,
    measures_stats,
)
from bench.bots import Tree, use_bytecode_cache
from bench.context import QUICK, Context, Sizes
from bench.databases import Databases, check_postgres
from bench.report import Row, print_table, write_json

Measure = Callable[[Context], list[Row]]
MEASURES: dict[str, Measure] = {
    "ack-note": measures_ack.ack_note,
    "ack-reaction": measures_ack.ack_reaction,
    "resolve-behind-backlog": measures_resolve.resolve_behind_backlog,
    "scan": measures_repo.scan,
    "daily-check": measures_repo.daily_check,
    "remind": measures_remind.remind,
    "resolve-big": measures_resolve.resolve_big,
    "startup": measures_startup.startup,
    "similar": measures_similar.similar,
    "stats": measures_stats.stats,
}
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "incident-bot-bench-cache"


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmarks of incident-bot, each beside a baseline."
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and one round (for CI)")
    parser.add_argument(
        "--rounds", type=int, default=5, help="rounds per measure (default 5; the slow ones run at most 3)"
    )
    parser.add_argument("--only", default="", help=f"comma-separated measures: {', '.join(MEASURES)}")
    parser.add_argument("--postgres", metavar="URL", help="also run every measure on PostgreSQL (a fresh schema each)")
    parser.add_argument(
        "--tree",
        action="append",
        default=[],
        metavar="DIR",
        help="measure the bot of another checkout (its .venv runs `-m bot`); repeat to compare checkouts",
    )
    parser.add_argument("--json", metavar="FILE", help="write every round's numbers to FILE")
    parser.add_argument(
        "--cache", default=str(DEFAULT_CACHE), help=f"where the big docs repo is kept ({DEFAULT_CACHE})"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs, repos, databases)")
    return parser


def selected(only: str) -> list[str]:
    if not only:
        return list(MEASURES)
    names = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in names if name not in MEASURES]
    if unknown:
        raise SystemExit(f"bench: unknown measure(s) {', '.join(unknown)}; known: {', '.join(MEASURES)}")
    return names


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    names = selected(args.only)
    sizes: Sizes = QUICK if args.quick else Sizes()
    rounds = 1 if args.quick else max(1, args.rounds)
    trees = [Tree.at(folder) for folder in args.tree] or [Tree.current()]
    if len({t.label for t in trees}) < len(trees):
        raise SystemExit("bench: the --tree folders need different names")
    kinds = ["sqlite"]
    if args.postgres:
        check_postgres(args.postgres)
        kinds.append("postgresql")
    scratch = Path(tempfile.mkdtemp(prefix="incident-bot-bench-"))
    use_bytecode_cache(scratch / "bytecode", trees)
    started = time.monotonic()
    rows: list[Row] = []
    failed: list[str] = []
    try:
        for kind in kinds:
            for name in names:
                work = scratch / f"{name}-{kind}"
                work.mkdir(parents=True)
                dbs = Databases(kind=kind, folder=work, postgres_url=args.postgres)
                ctx = Context(sizes, rounds, trees, dbs, work, Path(args.cache))
                ctx.say(f"{name} on {kind} ({', '.join(t.label for t in trees)})")
                try:
                    rows += MEASURES[name](ctx)
                except Exception as error:  # noqa: BLE001 - one broken measure must not hide the others
                    traceback.print_exc()
                    failed.append(f"{name} on {kind}: {error}")
                    rows.append(
                        Row(name, "(failed)", "", kind, ",".join(t.label for t in trees), [], note=str(error)[:80])
                    )
    finally:
        if args.keep:
            print(f"bench: scratch kept in {scratch}", file=sys.stderr)
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    elapsed = time.monotonic() - started
    print_table(rows, sys.stdout, markdown=args.markdown)
    mode = "quick" if args.quick else f"{rounds} rounds"
    print(f"\n{len(rows)} rows, {mode}, {elapsed:.0f} s; {os.cpu_count()} cores, Python {platform.python_version()}")
    if args.json:
        meta = {
            "argv": list(argv if argv is not None else sys.argv[1:]),
            "rounds": rounds,
            "quick": args.quick,
            "trees": [str(t.root) for t in trees],
            "databases": kinds,
            "elapsed_seconds": elapsed,
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        }
        write_json(Path(args.json), rows, meta)
    for problem in failed:
        print(f"bench: FAILED {problem}", file=sys.stderr)
    return 1 if failed else 0
