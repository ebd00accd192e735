"""startup: seconds from spawning `serve` to /healthz answering 200, and the idle RSS after it, beside the bare app;
and the idle RSS once more as the Dockerfile's image runs `serve` (PYTHONOPTIMIZE=2: no docstrings kept in memory),
beside the bare app run the same way."""

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
# What the image sets (Dockerfile): compiled without docstrings and asserts.
OPTIMIZED = {"PYTHONOPTIMIZE": "2"}


def _timed_start(process: Process, port: int) -> tuple[float, float]:
    with process:
        seconds = process.wait_healthy(port)
        time.sleep(SETTLE_SECONDS)
        return seconds, process.rss_mb()


def startup(ctx: Context) -> list[Row]:
    results: dict[str, list[tuple[float, float]]] = {tree.label: [] for tree in ctx.trees}
    optimized: dict[str, list[float]] = {tree.label: [] for tree in ctx.trees}
    bare: list[tuple[float, float]] = []
    bare_optimized: list[float] = []
    with ExitStack() as stack:
        fake = stack.enter_context(fake_slack())
        envs: dict[str, dict[str, str]] = {}
        for tree in ctx.trees:
            url = stack.enter_context(ctx.dbs.fresh())
            docs = small_repo(ctx.folder(f"docs-{tree.label}"))
            envs[tree.label] = bot_env(fake, url, docs)
            # A first start creates the schema; the timed ones start on a database that is up to date.
            start_bot(tree, envs[tree.label], log=ctx.work / f"warm-{tree.label}.log").stop()
            # and a first optimized start compiles the modules at that level (as the image's build does)
            start_bot(tree, envs[tree.label] | OPTIMIZED, log=ctx.work / f"warm-opt-{tree.label}.log").stop()
        start_bare(SECRET, fake.url, log=ctx.work / "warm-bare-opt.log", env=OPTIMIZED).stop()
        for number in range(ctx.rounds):
            ctx.say(f"startup: round {number + 1}/{ctx.rounds}")
            for tree in ctx.trees:
                results[tree.label].append(_start_bot(ctx, tree, envs[tree.label], f"{number}"))
            bare.append(_start_bare(ctx, fake.url, {}, f"{number}"))
            for tree in ctx.trees:
                env = envs[tree.label] | OPTIMIZED
                optimized[tree.label].append(_start_bot(ctx, tree, env, f"opt-{number}")[1])
            bare_optimized.append(_start_bare(ctx, fake.url, OPTIMIZED, f"opt-{number}")[1])
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
        image = Row(
            "startup",
            "idle RSS, PYTHONOPTIMIZE=2 (the image)",
            "MB",
            ctx.dbs.kind,
            tree.label,
            optimized[tree.label],
            bare_optimized,
            goal=f"< {RSS_GOAL_MB:.0f} MB",
        )
        image.met = image.bot_median < RSS_GOAL_MB
        rows += [ready, rss, image]
    return rows


def _start_bot(ctx: Context, tree: Tree, env: dict[str, str], name: str) -> tuple[float, float]:
    port = free_port()
    argv = tree.bot("serve", "--host", "127.0.0.1", "--port", str(port))
    return _timed_start(Process(argv, env=env, cwd=tree.root, log=ctx.work / f"bot-{tree.label}-{name}.log"), port)


def _start_bare(ctx: Context, api_url: str, env: dict[str, str], name: str) -> tuple[float, float]:
    port = free_port()
    process = start_bare(SECRET, api_url, log=ctx.work / f"bare-{name}.log", port=port, wait=False, env=env)
    return _timed_start(process, port)
