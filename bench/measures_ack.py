"""ack-note and ack-reaction: how fast the bot answers Slack inside an incident, beside a bare Bolt app."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from bench.bots import Process, Tree, start_bare, start_bot
from bench.context import Context
from bench.docsrepo import small_repo
from bench.load import FORM, JSON, LoadResult, command_body, reaction_body, run_load
from bench.report import Row
from bench.slackenv import COMMANDER, RESPONDER, SECRET, bot_env, declare, driver, fake_slack
from slack_sim import FakeSlack

P99_RATIO_GOAL = 1.5
MAX_ACK_MS = 1000.0


@dataclass(frozen=True)
class Bodies:
    bodies: list[str]
    content_type: str
    expect: str  # text every answer of the bot must contain ("" for none)


# Makes `count` requests for one round, in the incident channel `room` of `fake`.
BodyMaker = Callable[[FakeSlack, dict[str, Any], int], Bodies]


def note_bodies(fake: FakeSlack, room: dict[str, Any], count: int) -> Bodies:
    """`/incident note <text>` from the commander and a responder in turn."""
    bodies = [
        command_body(
            fake,
            f"note Checked shard {n}: error rate back to normal",
            user=(COMMANDER, RESPONDER)[n % 2],
            channel=room["id"],
            channel_name=room["name"],
        )
        for n in range(count)
    ]
    return Bodies(bodies, FORM, "Added to the timeline")


def reaction_bodies(fake: FakeSlack, room: dict[str, Any], count: int) -> Bodies:
    """:pushpin: reactions, each on a fresh message a responder just posted, each with its own event_id."""
    bodies = []
    for n in range(count):
        ts = fake.post_as_user(room["id"], RESPONDER, f"Shard {n} is failing over")
        fake.react_as_user(room["id"], ts, COMMANDER, "pushpin")
        bodies.append(
            reaction_body(fake, user=COMMANDER, channel=room["id"], ts=ts, item_user=RESPONDER, reaction="pushpin")
        )
    return Bodies(bodies, JSON, "")


@dataclass
class Target:
    """A bot under load: its process, its fake Slack and its incident channel."""

    tree: Tree
    process: Process
    fake: FakeSlack
    room: dict[str, Any]
    results: list[LoadResult] = field(default_factory=list)


def ack_note(ctx: Context) -> list[Row]:
    return _ack(ctx, "ack-note", note_bodies)


def ack_reaction(ctx: Context) -> list[Row]:
    return _ack(ctx, "ack-reaction", reaction_bodies)


def load_round(
    ctx: Context, port: int, bodies: Bodies, *, expect: bool, interval: float = 0.0, duration: float = 0.0
) -> LoadResult:
    """One round of load on `port`: as fast as the threads go, or each thread `interval` s apart for `duration` s."""
    return run_load(
        port,
        SECRET,
        bodies.bodies,
        bodies.content_type,
        workdir=ctx.work,
        threads=ctx.sizes.threads,
        expect=bodies.expect if expect else "",
        interval=interval,
        duration=duration,
    )


def _ack(ctx: Context, name: str, make: BodyMaker) -> list[Row]:
    count = ctx.sizes.ack_requests
    with ExitStack() as stack:
        targets: list[Target] = []
        for tree in ctx.trees:
            fake = stack.enter_context(fake_slack())
            url = stack.enter_context(ctx.dbs.fresh())
            docs = small_repo(ctx.folder(f"docs-{tree.label}"))
            process = stack.enter_context(
                start_bot(tree, bot_env(fake, url, docs), log=ctx.work / f"bot-{tree.label}.log")
            )
            room = declare(driver(fake, process.port), fake, f"Ack latency of {tree.label}")
            targets.append(Target(tree, process, fake, room))
        bare = stack.enter_context(start_bare(SECRET, targets[0].fake.url, log=ctx.work / "bare.log"))
        stored_url = stack.enter_context(ctx.dbs.fresh())
        storing = stack.enter_context(
            start_bare(SECRET, targets[0].fake.url, log=ctx.work / "bare-store.log", store=stored_url)
        )
        baseline: list[LoadResult] = []
        floor: list[LoadResult] = []
        for number in range(ctx.rounds):
            ctx.say(f"{name}: round {number + 1}/{ctx.rounds}")
            for target in targets:
                bodies = make(target.fake, target.room, count)
                target.results.append(load_round(ctx, target.process.port, bodies, expect=True))
            first = targets[0]
            baseline.append(load_round(ctx, bare.port, make(first.fake, first.room, count), expect=False))
            floor.append(load_round(ctx, storing.port, make(first.fake, first.room, count), expect=False))
    rows: list[Row] = []
    for target in targets:
        rows += ack_rows(name, ctx.dbs.kind, target.tree.label, target.results, baseline)
        rows.append(
            Row(
                name,
                "p99 ack against the bare app storing one row",
                "ms",
                ctx.dbs.kind,
                target.tree.label,
                [r.p99 for r in target.results],
                [r.p99 for r in floor],
            )
        )
    # How far the floor itself is from the bare app: the part of the goal's 1.5x that storing the note
    # (SQLAlchemy Core, one transaction) takes before the bot does anything of its own.
    figures: list[tuple[str, str, Callable[[LoadResult], float]]] = [
        ("p99 ack: the bare app storing one row, against the bare app", "ms", lambda r: r.p99),
        ("requests answered per second: the bare app storing one row", "/s", lambda r: r.rate),
    ]
    for figure, unit, value in figures:
        rows.append(
            Row(name, figure, unit, ctx.dbs.kind, "bare+row", [value(r) for r in floor], [value(r) for r in baseline])
        )
    return rows


def ack_rows(
    name: str, db: str, tree: str, results: list[LoadResult], baseline: list[LoadResult], *, against: str = "bare"
) -> list[Row]:
    """p50, p99 (goal: within 1.5x of the baseline's) and the slowest ack (goal: under 1 s)."""
    problems = "; ".join(p for p in (r.problems() for r in results) if p)
    p50 = Row(name, "p50 ack", "ms", db, tree, [r.p50 for r in results], [r.p50 for r in baseline], note=problems)
    p99 = Row(
        name,
        "p99 ack",
        "ms",
        db,
        tree,
        [r.p99 for r in results],
        [r.p99 for r in baseline],
        goal=f"<= {P99_RATIO_GOAL}x {against}",
    )
    p99.met = p99.ratio is not None and p99.ratio <= P99_RATIO_GOAL
    worst = Row(
        name,
        "max ack (worst round)",
        "ms",
        db,
        tree,
        [r.max for r in results],
        [r.max for r in baseline],
        goal=f"< {MAX_ACK_MS:.0f} ms",
        aggregate="max",
    )
    worst.met = worst.bot_median < MAX_ACK_MS and not problems
    # With the threads sending back to back, the mean ack is the CPU each request costs, times the
    # requests in flight: the figure that says whether a lower tail was bought with a higher middle.
    mean = Row(name, "mean ack", "ms", db, tree, [r.mean for r in results], [r.mean for r in baseline])
    rate = Row(
        name, "requests answered per second", "/s", db, tree, [r.rate for r in results], [r.rate for r in baseline]
    )
    return [p50, p99, worst, mean, rate]
