"""Resolving: seconds from submitting the resolve form to the RCA commit on the docs remote.

resolve-behind-backlog: the incident's channel has a backlog of posts (Slack takes about one a
second per channel). resolve-big: a 10,000-entry timeline resolved into the 5,000-RCA repo, beside
a plain `git commit && git push` of the same files in a scratch clone.
"""

from __future__ import annotations

import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from bench.bots import Process, Tree, start_bot
from bench.context import Context
from bench.docsrepo import (
    DocsRepo,
    cached_big_repo,
    checkout,
    git,
    git_calls,
    remote_head,
    small_repo,
    write_git_wrapper,
)
from bench.report import Row
from bench.slackenv import (
    COMMANDER,
    RESPONDER,
    bot_env,
    declare,
    driver,
    fake_slack,
    open_resolve_form,
    submit_resolve,
    wait_until_idle,
)
from slack_sim import FakeSlack

BACKLOG_GOAL_S = 15.0
BIG_GOAL_S = 1.0
BIG_FLOOR_RATIO = 2.0
COMMIT_TIMEOUT_S = 300.0
SEED_SCRIPT = Path(__file__).with_name("seed_timeline.py")


@dataclass
class Resolving:
    """One bot set up for resolving incidents: its process, fake Slack and docs repo."""

    tree: Tree
    fake: FakeSlack
    docs: DocsRepo
    env: dict[str, str]
    process: Process
    git_log: Path | None = None
    seconds: list[float] = field(default_factory=list)
    gits: list[float] = field(default_factory=list)


def wait_for_commit(remote: Path, before: str, started: float) -> float:
    """Seconds from `started` until the remote's main is no longer `before`."""
    deadline = time.monotonic() + COMMIT_TIMEOUT_S
    while time.monotonic() < deadline:
        if remote_head(remote) != before:
            return time.perf_counter() - started
        time.sleep(0.02)
    raise RuntimeError(f"no RCA commit on the docs remote within {COMMIT_TIMEOUT_S:.0f} s of the submit")


def resolve_and_time(bot: Resolving, room: dict[str, Any], form_open: float) -> tuple[float, int]:
    """Open the resolve form, submit it `form_open` seconds later; (seconds from the submit until the commit
    is on the remote, git processes meanwhile)."""
    slack = driver(bot.fake, bot.process.port)
    form = open_resolve_form(slack, bot.fake, room)
    time.sleep(form_open)  # a person filling the form in, not a wait for the bot
    before = remote_head(bot.docs.remote)
    mark = len(git_calls(bot.git_log)) if bot.git_log else 0
    started = time.perf_counter()
    submit_resolve(slack, bot.fake, form)
    seconds = wait_for_commit(bot.docs.remote, before, started)
    gits = len(git_calls(bot.git_log)) - mark if bot.git_log else 0
    return seconds, gits


def resolve_behind_backlog(ctx: Context) -> list[Row]:
    posts = ctx.sizes.backlog_posts
    with ExitStack() as stack:
        bots: list[Resolving] = []
        for tree in ctx.trees:
            fake = stack.enter_context(fake_slack())
            url = stack.enter_context(ctx.dbs.fresh())
            docs = small_repo(ctx.folder(f"docs-{tree.label}"))
            env = bot_env(fake, url, docs)
            process = stack.enter_context(start_bot(tree, env, log=ctx.work / f"bot-{tree.label}.log"))
            bots.append(Resolving(tree, fake, docs, env, process))
        for number in range(ctx.heavy_rounds):
            ctx.say(f"resolve-behind-backlog: round {number + 1}/{ctx.heavy_rounds} ({posts} posts queued)")
            for bot in bots:
                slack = driver(bot.fake, bot.process.port)
                room = declare(slack, bot.fake, f"Backlog round {number + 1}")
                for item in range(posts):
                    text = f"action <@{RESPONDER}> item {item + 1}"
                    answer = slack.command("/incident", text, user=COMMANDER, channel=room["id"])
                    if answer.status != 200 or "Added action item" not in answer.text:
                        raise RuntimeError(f"/incident action answered {answer.status}: {answer.text[:200]}")
                seconds, _ = resolve_and_time(bot, room, ctx.sizes.form_open)
                bot.seconds.append(seconds)
                # The next round starts once this round's notices are all posted.
                bot.fake.wait_for(partial(_all_noticed, bot.fake, room, posts), timeout=COMMIT_TIMEOUT_S)
    rows = []
    for bot in bots:
        row = Row(
            "resolve-behind-backlog",
            f"submit to commit, {posts} posts queued",
            "s",
            ctx.dbs.kind,
            bot.tree.label,
            bot.seconds,
            goal=f"< {BACKLOG_GOAL_S:.0f} s",
        )
        row.met = row.bot_median < BACKLOG_GOAL_S
        rows.append(row)
    return rows


def _notices(fake: FakeSlack, room: dict[str, Any]) -> int:
    return sum(1 for m in fake.messages(room["id"]) if "added action item" in (m.get("text") or ""))


def _all_noticed(fake: FakeSlack, room: dict[str, Any], posts: int) -> bool:
    return _notices(fake, room) >= posts


def seed_timeline(tree: Tree, database_url: str, room_id: str, count: int) -> None:
    """Add `count` timeline entries with the checkout's own storage API (see bench/seed_timeline.py)."""
    subprocess.run(
        [tree.python, "-c", SEED_SCRIPT.read_text(), database_url, room_id, str(count)],
        cwd=tree.root,
        check=True,
        capture_output=True,
        timeout=600,
    )


def resolve_big(ctx: Context) -> list[Row]:
    entries = ctx.sizes.timeline_entries
    bare = cached_big_repo(ctx.cache, ctx.sizes.repo)
    floor_docs = checkout(bare, ctx.folder("floor"))
    floors: list[float] = []
    with ExitStack() as stack:
        bots: list[Resolving] = []
        for tree in ctx.trees:
            fake = stack.enter_context(fake_slack())
            url = stack.enter_context(ctx.dbs.fresh())
            docs = checkout(bare, ctx.folder(f"docs-{tree.label}"))
            wrapper, log = write_git_wrapper(ctx.folder(f"git-{tree.label}"))
            env = bot_env(fake, url, docs)
            process = start_bot(tree, env, log=ctx.work / f"bot-{tree.label}.log", git_wrapper=wrapper)
            bots.append(Resolving(tree, fake, docs, env, process, git_log=log))
            stack.callback(_stop, bots[-1])
        for number in range(ctx.rounds):
            ctx.say(f"resolve-big: round {number + 1}/{ctx.rounds} ({entries} timeline entries)")
            for bot in bots:
                room = declare(driver(bot.fake, bot.process.port), bot.fake, f"Big timeline round {number + 1}")
                wait_until_idle(bot.process.port)  # the declare's own jobs are not the resolve's
                bot.process.stop()
                seed_timeline(bot.tree, bot.env["DATABASE_URL"], room["id"], entries)
                assert bot.git_log is not None
                bot.process = start_bot(
                    bot.tree,
                    bot.env,
                    log=ctx.work / f"bot-{bot.tree.label}-{number}.log",
                    git_wrapper=bot.git_log.parent / "bench-gitwrap",
                )
                wait_until_idle(bot.process.port)
                seconds, gits = resolve_and_time(bot, room, ctx.sizes.form_open)
                bot.seconds.append(seconds)
                bot.gits.append(gits)
            floors.append(plain_commit(bots[0].docs.remote, floor_docs, number))
    rows = []
    for bot in bots:
        row = Row(
            "resolve-big",
            f"submit to commit, {entries} entries",
            "s",
            ctx.dbs.kind,
            bot.tree.label,
            bot.seconds,
            floors,
            goal=f"< {BIG_GOAL_S:.0f} s and <= {BIG_FLOOR_RATIO:.0f}x floor",
        )
        row.met = row.bot_median < BIG_GOAL_S and row.ratio is not None and row.ratio <= BIG_FLOOR_RATIO
        processes = Row(
            "resolve-big",
            "git processes from the submit",
            "git",
            ctx.dbs.kind,
            bot.tree.label,
            bot.gits,
            [3.0] * len(floors),
        )
        rows += [row, processes]
    return rows


def _stop(bot: Resolving) -> None:
    bot.process.stop()


def plain_commit(bot_remote: Path, scratch: DocsRepo, number: int) -> float:
    """The floor: write the files of the bot's last commit into a scratch clone, `git commit && git push`."""
    names = [n for n in git("show", "--name-only", "--format=", "main", cwd=bot_remote).splitlines() if n]
    contents = {name: git("show", f"main:{name}", cwd=bot_remote) for name in names}
    started = time.perf_counter()
    for name, text in contents.items():
        path = scratch.clone / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{text}\n<!-- floor round {number} -->\n", encoding="utf-8")
    git("add", "--", *names, cwd=scratch.clone)
    git("commit", "--quiet", "-m", f"Floor round {number}", cwd=scratch.clone)
    git("push", "--quiet", "origin", "HEAD:main", cwd=scratch.clone)
    return time.perf_counter() - started
