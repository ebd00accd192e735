"""startup: seconds from spawning `serve` to /healthz answering 200, and the idle RSS after it, beside the bare app."""

from __future__ import annotations

import time
from contextlib import ExitStack

from bench.bots import Process, Tree, free_port, start_bare, start_bot
from bench.context import Context
from bench.docsrepo import small_repo
from bench.report import Row
from bench.slackenv import SECRET, bot_env, fake_slack

STARTUP_GOAL_S = 1.0
RSS_GOAL_MB = 60.0
# How long a started process is left alone before its memory is read.
SETTLE_SECONDS = 1.0


def _timed_start(process: Process, port: int) -> tuple[float, float]:
    with process:
        seconds = process.wait_healthy(port)
        time.sleep(SETTLE_SECONDS)
        return seconds, process.rss_mb()


def startup(ctx: Context) -> list[Row]:
    results: dict[str, list[tuple[float, float]]] = {tree.label: [] for tree in ctx.trees}
    bare: list[tuple[float, float]] = []
    with ExitStack() as stack:
        fake = stack.enter_context(fake_slack())
        envs: dict[str, dict[str, str]] = {}
        for tree in ctx.trees:
            url = stack.enter_context(ctx.dbs.fresh())
            docs = small_repo(ctx.folder(f"docs-{tree.label}"))
            envs[tree.label] = bot_env(fake, url, docs)
            # A first start creates the schema; the timed ones start on a database that is up to date.
            start_bot(tree, envs[tree.label], log=ctx.work / f"warm-{tree.label}.log").stop()
        for number in range(ctx.rounds):
            ctx.say(f"startup: round {number + 1}/{ctx.rounds}")
            for tree in ctx.trees:
                results[tree.label].append(_start_bot(ctx, tree, envs[tree.label], number))
            port = free_port()
            process = start_bare(SECRET, fake.url, log=ctx.work / f"bare-{number}.log", port=port, wait=False)
            bare.append(_timed_start(process, port))
    rows: list[Row] = []
    for tree in ctx.trees:
        mine = results[tree.label]
        ready = Row(
            "startup",
            "spawn to /healthz 200",
            "s",
            ctx.dbs.kind,
            tree.label,
            [s for s, _ in mine],
            [s for s, _ in bare],
            goal=f"< {STARTUP_GOAL_S:.0f} s",
        )
        ready.met = ready.bot_median < STARTUP_GOAL_S
        rss = Row(
            "startup",
            "idle RSS",
            "MB",
            ctx.dbs.kind,
            tree.label,
            [m for _, m in mine],
            [m for _, m in bare],
            goal=f"< {RSS_GOAL_MB:.0f} MB",
        )
        rss.met = rss.bot_median < RSS_GOAL_MB
        rows += [ready, rss]
    return rows


def _start_bot(ctx: Context, tree: Tree, env: dict[str, str], number: int) -> tuple[float, float]:
    port = free_port()
    argv = tree.bot("serve", "--host", "127.0.0.1", "--port", str(port))
    return _timed_start(Process(argv, env=env, cwd=tree.root, log=ctx.work / f"bot-{tree.label}-{number}.log"), port)
