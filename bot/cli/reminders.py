"""`incident-bot remind | briefing`: the daily jobs for cron."""

from __future__ import annotations

import time
from datetime import datetime
from datetime import time as dt_time
from typing import TYPE_CHECKING, TextIO

from bot.config import Settings
from bot.core.jobs import PostBriefing, SendActionItems
from bot.core.open_items import OpenItem
from bot.core.ports import ChatError, Clock
from bot.services.reminders import Reminders
from bot.slack.reminder_blocks import briefing_text

if TYPE_CHECKING:
    from bot.container import Container

MIDNIGHT = dt_time(0, 0)
# How long `remind` and `briefing` wait for Slack to accept what they queued (retries included).
SETTLE_SECONDS = 120.0
LIST_ATTEMPTS = 4
SEND_ACTION_ITEMS = SendActionItems.model_fields["kind"].default
POST_BRIEFING = PostBriefing.model_fields["kind"].default


def run_reminder_command(
    command: str,
    settings: Settings,
    *,
    out: TextIO,
    err: TextIO,
    clock: Clock | None = None,
    dry_run: bool = False,
) -> int:
    """`remind` or `briefing`; returns the exit status (`scan` is bot.cli.scan)."""
    from bot.container import build_container

    container = build_container(settings, clock=clock)
    try:
        if command == "remind":
            return _remind(container.reminders, container, out, err, dry_run=dry_run)
        return _briefing(container, out, err, dry_run=dry_run)
    finally:
        container.close()


def _remind(reminders: Reminders, container: Container, out: TextIO, err: TextIO, *, dry_run: bool) -> int:
    now = container.ctx.clock.now()
    if not dry_run:
        # The job threads send the first DMs while the later owners are still being claimed.
        container.runner.start()
    for attempt in range(1, LIST_ATTEMPTS + 1):
        try:
            due = reminders.remind(now, at=MIDNIGHT, dry_run=dry_run)
            break
        except ChatError as error:
            # Who is due depends on everyone's time zone: a member list Slack refused for now is asked again.
            if not error.retryable or attempt == LIST_ATTEMPTS:
                print(f"incident-bot: could not list the workspace's members ({error}); nobody was reminded", file=err)
                return 1
            time.sleep(error.retry_after if error.retry_after is not None else 2.0 * attempt)
    verb = "would remind" if dry_run else "reminded"
    failed = {} if dry_run else _settle(container, SEND_ACTION_ITEMS, since=now)
    for owner_id, items in due:
        if owner_id in failed:
            continue
        print(f"{verb} {owner_id} of {len(items)} open item(s): " + ", ".join(_label(i) for i in items), file=out)
    for owner_id, problem in failed.items():
        print(f"incident-bot: could not remind {owner_id} ({problem}); the next run tries again", file=err)
    if not due:
        print("nobody to remind: every owner with open items was reminded today, or nothing is open", file=out)
    return 1 if failed else 0


def _briefing(container: Container, out: TextIO, err: TextIO, *, dry_run: bool) -> int:
    settings = container.settings
    now = container.ctx.clock.now()
    if dry_run:
        briefing = container.reminders.briefing(now)
        text = briefing_text(
            briefing.groups, briefing.missing_rcas, now=now, rca_links={}, guide_problems=briefing.guide_problems
        )
        print(text, file=out)
        return 0
    if not settings.briefing_channel:
        print("incident-bot: BRIEFING_CHANNEL is not set, so there is nowhere to post the briefing", file=err)
        return 2
    posted = container.reminders.post_briefing(now, at=MIDNIGHT)
    if posted is None:
        print("today's briefing was already posted", file=out)
        return 0
    failed = _settle(container, POST_BRIEFING, since=now)
    if failed:
        problem = next(iter(failed.values()))
        print(
            f"incident-bot: could not post the briefing to {settings.briefing_channel} ({problem}); "
            "it is not marked as posted, so the next run tries again",
            file=err,
        )
        return 1
    print(
        f"posted the briefing to {settings.briefing_channel}: {sum(len(g.items) for g in posted.groups)} open item(s)",
        file=out,
    )
    return 0


def _settle(container: Container, kind: str, *, since: datetime, timeout: float = SETTLE_SECONDS) -> dict[str, str]:
    """Run the jobs this command queued, waiting out their retries; say which failed, by whom they were for."""
    deadline = time.monotonic() + timeout
    while True:
        container.runner.run_pending()
        if not container.jobs.outstanding(kind) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    failed: dict[str, str] = {}
    for claimed, problem in container.jobs.failed_since(since):
        job = claimed.job
        if isinstance(job, SendActionItems):
            failed[job.owner_id] = problem
        elif isinstance(job, PostBriefing):
            failed[job.channel] = problem
    if container.jobs.outstanding(kind):
        failed.setdefault("(still retrying)", f"gave up waiting after {timeout:.0f} s; the bot retries on its own")
    return failed


def _label(item: OpenItem) -> str:
    return f"#{item.number} {item.action[:60]} ({item.incident_title[:40]})"
