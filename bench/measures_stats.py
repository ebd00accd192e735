"""stats: `incident-bot stats --json` over the big docs repo (5,000 RCAs, 10,000 commits), beside the least
any reader of those RCAs must do (one `git ls-tree` and one `git cat-file --batch`).

It runs as cron or an agent runs it: a process of its own, no Slack token (the numbers need none), a
migrated database. Each round times a first run (no parsed RCAs kept from an earlier one) and a run
after it (the RCAs' facts kept by blob id in the clone). The charts are timed too (`--charts`), without
a goal: they are drawn for the weekly digest, not on anyone's path.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.bots import run_cli
from bench.context import Context
from bench.docsrepo import DocsRepo, git_calls, write_git_wrapper
from bench.measures_repo import big_checkout, floor_read, with_wrapper
from bench.report import Row

STATS_GOAL_S = 2.0
# The parsed RCAs a run keeps for the next one (bot/stats_cache.py), inside the docs clone.
CACHE = Path(".git") / "incident-bot" / "stats-facts.json"


def stats_env(docs: DocsRepo, database_url: str, work: Path) -> dict[str, str]:
    """What a team's cron would set for `stats`: the docs repo, its runbook and the database; no Slack."""
    return {
        "DOCS_REPO_PATH": str(docs.clone),
        "RUNBOOK_PATH": "runbooks/incident-response.md",
        "DATABASE_URL": database_url,
        "PACING_DIR": str(work / "pacing"),
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
    }


def stats(ctx: Context) -> list[Row]:
    """Wall time of `stats --json` (and of `stats --charts DIR`), and the git processes one run starts."""
    docs = big_checkout(ctx, "docs")
    rcas = ctx.sizes.repo.rcas
    seconds: dict[str, list[float]] = {tree.label: [] for tree in ctx.trees}
    cold: dict[str, list[float]] = {tree.label: [] for tree in ctx.trees}
    charts: dict[str, list[float]] = {tree.label: [] for tree in ctx.trees}
    floors: list[float] = []
    gits: dict[str, float] = {}
    notes: dict[str, str] = {}
    with ctx.dbs.fresh() as url:
        env = stats_env(docs, url, ctx.work)
        for tree in ctx.trees:
            run_cli(tree, env, "migrate", log=ctx.work / f"migrate-{tree.label}.log")
            wrapper, log = write_git_wrapper(ctx.folder(f"git-{tree.label}"))
            _, out = run_cli(tree, with_wrapper(env, wrapper), "stats", "--json", log=ctx.work / "count.log")
            gits[tree.label] = len(git_calls(log))
            counted = json.loads(out)["totals"]["incidents"]
            notes[tree.label] = "" if counted >= rcas else f"counted {counted} of {rcas} incidents"
        for number in range(ctx.rounds):
            ctx.say(f"stats: round {number + 1}/{ctx.rounds}")
            for tree in ctx.trees:
                (docs.clone / CACHE).unlink(missing_ok=True)  # a first run: every RCA is parsed
                took, _ = run_cli(tree, env, "stats", "--json", log=ctx.work / f"stats-{tree.label}.log")
                cold[tree.label].append(took)
                took, _ = run_cli(tree, env, "stats", "--json", log=ctx.work / f"stats-{tree.label}.log")
                seconds[tree.label].append(took)
                folder = ctx.folder(f"charts-{tree.label}-{number}")
                took, _ = run_cli(tree, env, "stats", "--charts", str(folder), log=ctx.work / "charts.log")
                charts[tree.label].append(took)
            floors.append(floor_read(docs))
    rows: list[Row] = []
    for tree in ctx.trees:
        row = Row(
            "stats",
            f"stats --json, {rcas} RCAs, again (parsed RCAs kept)",
            "s",
            ctx.dbs.kind,
            tree.label,
            seconds[tree.label],
            floors,
            goal=f"< {STATS_GOAL_S:.0f} s",
            note=notes[tree.label],
        )
        row.met = row.bot_median < STATS_GOAL_S and not row.note
        first = Row(
            "stats",
            f"stats --json, {rcas} RCAs, first run (nothing parsed yet)",
            "s",
            ctx.dbs.kind,
            tree.label,
            cold[tree.label],
            floors,
            goal=f"< {STATS_GOAL_S:.0f} s",
        )
        first.met = first.bot_median < STATS_GOAL_S
        rows += [
            first,
            row,
            Row("stats", "stats --charts DIR (three PNGs)", "s", ctx.dbs.kind, tree.label, charts[tree.label]),
            Row("stats", "git processes", "git", ctx.dbs.kind, tree.label, [gits[tree.label]]),
        ]
    return rows
