"""`incident-bot remind | briefing | scan`: the daily jobs for cron, and a listing for agents."""

from __future__ import annotations

import json
import time
from datetime import datetime
from datetime import time as dt_time
from typing import TextIO

from bot.config import Settings
from bot.container import Container, build_container
from bot.core.jobs import PostBriefing, SendActionItems
from bot.core.open_items import OpenItem
from bot.core.ports import ChatError, Clock
from bot.services.reminders import Reminders, item_payload
from bot.slack.reminder_blocks import briefing_text
from bot.slack.text import humanize_age

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
    as_json: bool = False,
    offline: bool = False,
) -> int:
    """`remind`, `briefing` or `scan`; returns the exit status. `offline`: no Slack (scan only)."""
    container = build_container(settings, clock=clock, offline=offline)
    try:
        if command == "remind":
            return _remind(container.reminders, container, out, err, dry_run=dry_run)
        if command == "briefing":
            return _briefing(container, out, err, dry_run=dry_run)
        return _scan(container, out, err, as_json=as_json, offline=offline)
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


def _scan(container: Container, out: TextIO, err: TextIO, *, as_json: bool, offline: bool = False) -> int:
    now = container.ctx.clock.now()
    people = []
    if offline:
        print("incident-bot: SLACK_BOT_TOKEN is not set; owners are shown as written", file=err)
    else:
        try:
            people = container.chat.people()
        except ChatError as error:
            print(f"incident-bot: could not list Slack users ({error}); owners are not matched", file=err)
    found = container.reminders.scan(people=people)
    if as_json:
        print(
            json.dumps(
                {
                    "items": [
                        {**item_payload(i), "age_days": round(i.age(now).total_seconds() / 86400, 2)}
                        for i in found.items
                    ],
                    "problems": [{"file": p.path, "line": p.line, "message": p.message} for p in found.problems],
                },
                ensure_ascii=False,
                separators=(",", ":"),  # one line: json's fast encoder (pipe it to `jq` to read it)
            ),
            file=out,
        )
        return 0
    for item in found.items:
        owner = item.owner_id or f"{item.owner or '?'} (unassigned)"
        print(
            f"{item.source or '(no RCA yet)'}\t{item.incident_title}\t#{item.number}\t{item.action}\t{owner}\t"
            f"{item.status.value}\t{humanize_age(item.age(now).total_seconds())}",
            file=out,
        )
    for problem in found.problems:
        print(f"{problem.path}:{problem.line}: {problem.message}", file=err)
    if not found.items:
        print("no open action items", file=out)
    return 0


def _label(item: OpenItem) -> str:
    return f"#{item.number} {item.action[:60]} ({item.incident_title[:40]})"
