"""The big docs repo (5,000 RCAs, 10,000 commits, 2,000 owners): `scan`, and the daily check inside `serve`."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import time
from contextlib import ExitStack

from bench.bots import Tree, child_environ, run_cli, start_bot
from bench.context import Context
from bench.docsrepo import (
    INCIDENTS_DIR,
    DocsRepo,
    cached_big_repo,
    checkout,
    expected_open_items,
    git_calls,
    real_git,
    write_git_wrapper,
)
from bench.load import LoadResult
from bench.measures_ack import ack_rows, load_round, note_bodies
from bench.report import Row
from bench.slackenv import bot_env, declare, driver, fake_slack

SCAN_GOAL_S = 3.0
SCAN_FLOOR_RATIO = 5.0
# What a scan must start: one ls-tree and one cat-file --batch.
FLOOR_GIT_PROCESSES = 2.0
_PULL = re.compile(r"(^|\s)(fetch|pull)(\s|$)")
_LIST = re.compile(r"(^|\s)ls-tree(\s|$)")


def big_checkout(ctx: Context, name: str) -> DocsRepo:
    """The bot's clone of (a local copy of) the cached big repo, built first if it is not cached yet."""
    ctx.say(f"big docs repo {ctx.sizes.repo.key}, cached in {ctx.cache}")
    return checkout(cached_big_repo(ctx.cache, ctx.sizes.repo), ctx.folder(name))


def floor_read(clone: DocsRepo) -> float:
    """One `git ls-tree` and one `git cat-file --batch` reading every RCA blob: the least a scan must do."""
    started = time.perf_counter()
    listing = subprocess.run(
        [real_git(), "ls-tree", "-z", "HEAD", f"{INCIDENTS_DIR}/"], cwd=clone.clone, capture_output=True, check=True
    ).stdout
    blobs = [entry.split(b"\t")[0].split()[2] for entry in listing.split(b"\0") if entry.endswith(b"-rca.md")]
    subprocess.run(
        [real_git(), "cat-file", "--batch"],
        input=b"\n".join(blobs) + b"\n",
        cwd=clone.clone,
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started


def with_wrapper(env: dict[str, str], wrapper: os.PathLike[str]) -> dict[str, str]:
    return {**env, "PATH": f"{os.fspath(wrapper)}{os.pathsep}{os.environ.get('PATH', '')}"}


# What any CLI of the bot loads before it reads a byte: its settings (pydantic-settings) and its
# database (SQLAlchemy), the libraries the project is built on.
_LIBRARIES = "import pydantic_settings, sqlalchemy"


def python_floor(tree: Tree, env: dict[str, str]) -> float:
    """A Python process of `tree` that imports only the libraries a scan cannot do without, and exits."""
    started = time.perf_counter()
    subprocess.run([tree.python, "-c", _LIBRARIES], env=child_environ(env), cwd=tree.root, check=True)
    return time.perf_counter() - started


def scan(ctx: Context) -> list[Row]:
    """`incident-bot scan --json` wall time (a process of its own), beside reading the same blobs with git."""
    docs = big_checkout(ctx, "docs")
    expected = expected_open_items(ctx.sizes.repo)
    seconds: dict[str, list[float]] = {tree.label: [] for tree in ctx.trees}
    gits: dict[str, float] = {}
    found: dict[str, int] = {}
    envs: dict[str, dict[str, str]] = {}
    floors: list[float] = []
    starts: dict[str, list[float]] = {tree.label: [] for tree in ctx.trees}
    with ExitStack() as stack:
        fake = stack.enter_context(fake_slack(owners=ctx.sizes.repo.owners))
        for tree in ctx.trees:
            env = bot_env(fake, stack.enter_context(ctx.dbs.fresh()), docs)
            run_cli(tree, env, "migrate", log=ctx.work / f"migrate-{tree.label}.log")
            # One run counts git processes (with the wrapper first on PATH); the timed runs go without it.
            wrapper, log = write_git_wrapper(ctx.folder(f"git-{tree.label}"))
            _, out = run_cli(tree, with_wrapper(env, wrapper), "scan", "--json", log=ctx.work / "count.log")
            gits[tree.label] = len(git_calls(log))
            found[tree.label] = len(json.loads(out)["items"])
            envs[tree.label] = env
        for number in range(ctx.rounds):
            ctx.say(f"scan: round {number + 1}/{ctx.rounds}")
            for tree in ctx.trees:
                took, _ = run_cli(tree, envs[tree.label], "scan", "--json", log=ctx.work / f"scan-{tree.label}.log")
                seconds[tree.label].append(took)
                starts[tree.label].append(python_floor(tree, envs[tree.label]))
            floors.append(floor_read(docs))
    rows = []
    for tree in ctx.trees:
        note = "" if found[tree.label] >= expected else f"found {found[tree.label]} of {expected} items"
        row = Row(
            "scan",
            f"scan --json, {ctx.sizes.repo.rcas} RCAs",
            "s",
            ctx.dbs.kind,
            tree.label,
            seconds[tree.label],
            floors,
            goal=f"< {SCAN_GOAL_S:.0f} s and <= {SCAN_FLOOR_RATIO:.0f}x floor",
            note=note,
        )
        row.met = row.bot_median < SCAN_GOAL_S and row.ratio is not None and row.ratio <= SCAN_FLOOR_RATIO and not note
        rows.append(row)
        rows.append(
            Row("scan", "git processes", "git", ctx.dbs.kind, tree.label, [gits[tree.label]], [FLOOR_GIT_PROCESSES])
        )
        # The part of the ratio no Python CLI of this design can go below: start-up and its libraries.
        rows.append(
            Row(
                "scan",
                "python + pydantic-settings + SQLAlchemy imports",
                "s",
                ctx.dbs.kind,
                tree.label,
                starts[tree.label],
                floors,
            )
        )
    return rows


def daily_check(ctx: Context) -> list[Row]:
    """`serve` on the big repo with DAILY_CHECK_SECONDS=5 vs 0: scans in the window, and the acks meanwhile.

    REMINDER_TIME=00:00 makes the first check of the day due (everyone is reminded) and every later check
    find nothing new, so a bot that scans only when it has to scans once in the window. A scan lists the
    RCA folder, so scans are counted as the `git ls-tree` runs the wrapper saw, less those of the same
    bot with no daily check (the declare's similar-incident listing); the `git fetch`/`git pull` runs (a
    check looking for new commits, cheap when there are none) are shown beside them."""
    sizes = ctx.sizes
    docs = big_checkout(ctx, "docs")
    window = sizes.daily_window
    per_thread = math.ceil(window / sizes.daily_pace) + 1
    figures: dict[tuple[str, bool], list[dict[str, float]]] = {}
    loads: dict[tuple[str, bool], list[LoadResult]] = {}
    # A bot that cannot even open an incident channel while its daily check runs (the old one, whose
    # reminders filled the only job queue) is reported as such; the other bots are still measured.
    stuck: dict[str, str] = {}
    with fake_slack(owners=sizes.repo.owners) as fake:
        for number in range(ctx.heavy_rounds):
            ctx.say(f"daily-check: round {number + 1}/{ctx.heavy_rounds} ({window:.0f} s checking, {window:.0f} s not)")
            for tree in ctx.trees:
                if tree.label in stuck:
                    continue
                for checking in (True, False):
                    interval = f"{sizes.daily_interval:g}" if checking else "0"
                    mode = "on" if checking else "off"
                    with ctx.dbs.fresh() as url:
                        env = bot_env(fake, url, docs, DAILY_CHECK_SECONDS=interval, REMINDER_TIME="00:00")
                        wrapper, log = write_git_wrapper(ctx.folder(f"git-{tree.label}-{number}-{mode}"))
                        name = f"bot-{tree.label}-{number}-{mode}.log"
                        with start_bot(tree, env, log=ctx.work / name, git_wrapper=wrapper) as process:
                            listening = time.perf_counter()
                            cpu = process.cpu_seconds()
                            try:
                                # A title of its own: every bot here is the same bot user of one fake
                                # workspace, and a bot that finds its own channel under the name it
                                # wants, claimed by no incident in its database, takes it (the crash
                                # recovery of a declare), so that a second tree would take the first's.
                                title = f"Daily check {number} {mode} {tree.label}"
                                room = declare(driver(fake, process.port), fake, title)
                            except AssertionError as error:
                                stuck[tree.label] = f"no incident channel within 60 s with the daily check {mode}"
                                ctx.say(f"daily-check: {tree.label}: {stuck[tree.label]} ({str(error)[:120]})")
                                break
                            bodies = note_bodies(fake, room, per_thread * sizes.threads)
                            left = max(1.0, window - (time.perf_counter() - listening))
                            load = load_round(
                                ctx, process.port, bodies, expect=True, interval=sizes.daily_pace, duration=left
                            )
                            # Each ack's send time and latency, for a look at when the slow ones came (--keep).
                            acks_file = ctx.work / f"acks-{tree.label}-{number}-{mode}.tsv"
                            acks_file.write_text(
                                "".join(
                                    f"{at:.3f}\t{took * 1000:.1f}\n"
                                    for at, took in zip(load.sent_at, load.latencies, strict=True)
                                )
                            )
                            calls = git_calls(log)
                            seen = {
                                "scans": float(sum(1 for c in calls if _LIST.search(c))),
                                "fetches": float(sum(1 for c in calls if _PULL.search(c))),
                                "git": float(len(calls)),
                                "cpu": process.cpu_seconds() - cpu,
                            }
                    figures.setdefault((tree.label, checking), []).append(seen)
                    loads.setdefault((tree.label, checking), []).append(load)
    rows: list[Row] = []
    for tree in ctx.trees:
        if tree.label in stuck:
            failed = Row("daily-check", "declare while checking", "s", ctx.dbs.kind, tree.label, [math.nan])
            failed.note, failed.met = stuck[tree.label], False
            rows.append(failed)
            continue
        on, off = figures[(tree.label, True)], figures[(tree.label, False)]

        def row(
            figure: str,
            unit: str,
            key: str,
            on: list[dict[str, float]] = on,
            off: list[dict[str, float]] = off,
            label: str = tree.label,
        ) -> Row:
            return Row("daily-check", figure, unit, ctx.dbs.kind, label, [f[key] for f in on], [f[key] for f in off])

        # The declare's similar-incident job lists the folder too (the baseline: the same bot, no daily
        # check); a scan in a process of its own cannot share that listing, so scans are counted beyond it.
        scans = Row(
            "daily-check",
            f"scans in {window:.0f} s, checks every {sizes.daily_interval:g} s (listings beyond the declare's)",
            "scans",
            ctx.dbs.kind,
            tree.label,
            [max(0.0, a["scans"] - b["scans"]) for a, b in zip(on, off, strict=True)],
            [b["scans"] for b in off],
        )
        scans.goal = "<= 1 (one due run)"
        scans.met = scans.bot_median <= 1
        rows += [
            scans,
            row("fetches (looking for new commits)", "git", "fetches"),
            row("git processes", "git", "git"),
            row("bot CPU seconds in the window", "s", "cpu"),
        ]
        with_check, without = loads[(tree.label, True)], loads[(tree.label, False)]
        acks = ack_rows("daily-check", ctx.dbs.kind, tree.label, with_check, without, against="no daily check")
        for ack in acks[1:3]:
            ack.figure = ack.figure.replace("ack", "note ack while checking")
            rows.append(ack)
    return rows
