"""`incident-bot digest [--dry-run]`: this week's digest (the numbers and the charts) now, for cron.

It is the digest `serve` posts at DIGEST_TIME, claimed the same way: once a week, whichever runs first.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping
from datetime import datetime
from typing import TextIO

from bot.config import load_settings
from bot.container import Container, build_container
from bot.core.jobs import PostDigest, UploadDigestCharts
from bot.core.ports import Clock
from bot.slack.digest_blocks import digest_text

# How long `digest` waits for Slack to accept the message and the charts (retries included).
SETTLE_SECONDS = 120.0
KINDS = (PostDigest.model_fields["kind"].default, UploadDigestCharts.model_fields["kind"].default)
CHART_NAMES = ("incidents-per-week.png", "time-to-resolve.png", "open-action-items.png")


def run_digest_command(
    args: argparse.Namespace, environ: Mapping[str, str] | None, *, out: TextIO, err: TextIO, clock: Clock | None
) -> int:
    """Post (or, with --dry-run, print) the digest of the week before the last DIGEST_TIME weekday."""
    container = build_container(load_settings(environ), clock=clock)
    try:
        return _digest(container, out, err, dry_run=args.dry_run)
    finally:
        container.close()


def _digest(container: Container, out: TextIO, err: TextIO, *, dry_run: bool) -> int:
    digest = container.digest
    now = container.ctx.clock.now()
    week = digest.this_week(now)
    if dry_run:
        built = digest.build(week)
        print(digest_text(built), file=out)
        charts = ", ".join(built.chart_name(name) for name in CHART_NAMES)
        print(f"\nCharts (the {len(built.trend.by_week)} weeks to {week.until}): {charts}", file=out)
        return 0
    if not digest.channel:
        print(
            "incident-bot: neither DIGEST_CHANNEL nor BRIEFING_CHANNEL is set, so there is nowhere to post the digest",
            file=err,
        )
        return 2
    if digest.post(week) is None:
        print(f"the digest of {week.since} – {week.until} was already posted", file=out)
        return 0
    failed = _settle(container, since=now)
    if failed is not None:
        kind, problem = failed
        if kind == KINDS[0]:
            print(
                f"incident-bot: could not post the digest to {digest.channel} ({problem}); "
                "it is not marked as posted, so the next run tries again",
                file=err,
            )
        else:
            print(f"incident-bot: posted the digest to {digest.channel}, but not its charts ({problem})", file=err)
        return 1
    print(f"posted the digest of {week.since} – {week.until} to {digest.channel}, with its charts", file=out)
    return 0


def _settle(container: Container, *, since: datetime, timeout: float = SETTLE_SECONDS) -> tuple[str, str] | None:
    """Run the digest's jobs, waiting out their retries; which failed and why, if one did."""
    deadline = time.monotonic() + timeout
    while True:
        container.runner.run_pending()
        waiting = sum(container.jobs.outstanding(kind) for kind in KINDS)
        if not waiting or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for claimed, problem in container.jobs.failed_since(since):
        if claimed.kind in KINDS:
            return claimed.kind, problem
    if waiting:
        return KINDS[0], f"gave up waiting after {timeout:.0f} s; the bot retries on its own"
    return None
