"""remind: `incident-bot remind` for 2,000 owners of 10,000 open items: time to the first DM, and DMs per second.

The fake Slack has no rate limit, so the rate is the bot's own (its pacing included); Slack's published
limit for chat.postMessage is printed beside it. A run still going after the cutoff is stopped, and
its rate is taken over what it sent until then.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from bench.bots import Process, Tree, run_cli
from bench.context import Context
from bench.measures_repo import big_checkout
from bench.report import Row
from bench.slackenv import bot_env, fake_slack
from bot.slack.throttle import FAN_OUT_MESSAGES_PER_MINUTE
from slack_sim import FakeSlack

FIRST_DM_GOAL_S = 2.0
# Slack allows about one message a second per channel and "several hundred" a minute per workspace;
# the bot paces fan-out DMs in a lane of FAN_OUT_MESSAGES_PER_MINUTE, beside the incident posts' lane.
FAN_OUT_PER_SECOND = FAN_OUT_MESSAGES_PER_MINUTE / 60
RATE_GOAL = 0.9


@dataclass
class RemindRun:
    first_dm: float  # seconds from spawning `remind`; nan when none came before the cutoff
    rate: float  # DMs per second from the first DM to the end of the run
    dms: int
    ratelimited: int
    finished: bool


def _dms(fake: FakeSlack) -> int:
    """Posts to a DM: a D… conversation, or a user id (chat.postMessage delivers that to the user's DM)."""
    return sum(1 for _, args in fake.calls("chat.postMessage") if str(args.get("channel", ""))[:1] in ("D", "U", "W"))


def remind_once(ctx: Context, tree: Tree, number: int) -> RemindRun:
    owners = ctx.sizes.repo.owners
    docs = big_checkout(ctx, f"docs-{tree.label}-{number}")
    with fake_slack(owners=owners) as fake, ctx.dbs.fresh() as url:
        env = bot_env(fake, url, docs)
        run_cli(tree, env, "migrate", log=ctx.work / f"migrate-{tree.label}-{number}.log")
        log = ctx.work / f"remind-{tree.label}-{number}.log"
        first = math.nan
        count = 0
        with Process(tree.bot("remind"), env=env, cwd=tree.root, log=log) as process:
            started = process.started
            deadline = started + ctx.sizes.remind_cutoff
            while process.popen.poll() is None and time.perf_counter() < deadline:
                count = _dms(fake)
                if count and math.isnan(first):
                    first = time.perf_counter() - started
                time.sleep(0.05)
            finished = process.popen.poll() is not None
            ended = time.perf_counter() - started
        count = _dms(fake)
        if count and math.isnan(first):
            first = ended
        output = process.output()
    rate = count / (ended - first) if count > 1 and ended > first else math.nan
    limited = output.count("ratelimited")
    return RemindRun(first, rate, count, limited, finished)


def remind(ctx: Context) -> list[Row]:
    runs: dict[str, list[RemindRun]] = {tree.label: [] for tree in ctx.trees}
    for number in range(ctx.heavy_rounds):
        ctx.say(f"remind: round {number + 1}/{ctx.heavy_rounds} ({ctx.sizes.repo.owners} owners)")
        for tree in ctx.trees:
            runs[tree.label].append(remind_once(ctx, tree, number))
    rows = []
    owners = ctx.sizes.repo.owners
    cutoff = ctx.sizes.remind_cutoff
    for tree in ctx.trees:
        mine = runs[tree.label]
        unfinished = sum(1 for r in mine if not r.finished)
        note = f"{unfinished} run(s) stopped at {cutoff:.0f} s" if unfinished else ""
        first = Row(
            "remind",
            f"spawn to first DM, {owners} owners",
            "s",
            ctx.dbs.kind,
            tree.label,
            [r.first_dm for r in mine],
            goal=f"< {FIRST_DM_GOAL_S:.0f} s",
        )
        first.met = first.bot_median < FIRST_DM_GOAL_S
        rate = Row(
            "remind",
            "DMs per second",
            "/s",
            ctx.dbs.kind,
            tree.label,
            [r.rate for r in mine],
            [FAN_OUT_PER_SECOND] * len(mine),
            goal=f">= {RATE_GOAL:g}x the pacer's fan-out lane ({FAN_OUT_MESSAGES_PER_MINUTE}/min)",
            note=note,
        )
        rate.met = rate.ratio is not None and rate.ratio >= RATE_GOAL
        sent = Row("remind", f"DMs sent (of {owners})", "count", ctx.dbs.kind, tree.label, [float(r.dms) for r in mine])
        limited = Row(
            "remind",
            "429s seen (none injected)",
            "count",
            ctx.dbs.kind,
            tree.label,
            [float(r.ratelimited) for r in mine],
        )
        rows += [first, rate, sent, limited]
    return rows
