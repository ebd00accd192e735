"""`incident-bot scan [--json]`: every open action item, for a person or an agent.

An agent may run it again and again, so it is wired here with only what it needs: the database, the
docs repo (its parsed RCAs kept in the clone between runs) and the workspace's members, read from the
listing the host's processes share. Slack's SDK is loaded only when that listing has to be asked for.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, TextIO

from bot.clock import SystemClock
from bot.config import Settings
from bot.core.open_items import OpenItem, OpenItems, Person
from bot.core.ports import ChatError, Clock
from bot.services.context import ServiceContext
from bot.services.open_item_scan import item_payload
from bot.slack.text import humanize_age


def run_scan(
    settings: Settings, *, out: TextIO, err: TextIO, clock: Clock | None = None, as_json: bool, offline: bool
) -> int:
    """`scan`; returns the exit status. `offline`: no Slack (owners are shown as written)."""
    from bot.scan_process import wire_scan
    from bot.startup import open_database
    from bot.storage import SqlUnitOfWork

    engine = open_database(settings.database_url)
    moments = clock or SystemClock()
    now = moments.now()
    try:
        people: list[Person] = []
        if offline:
            print("incident-bot: SLACK_BOT_TOKEN is not set; owners are shown as written", file=err)
        else:
            try:
                people = workspace_people(settings)
            except ChatError as error:
                print(f"incident-bot: could not list Slack users ({error}); owners are not matched", file=err)
        ctx = ServiceContext(
            uow=lambda: SqlUnitOfWork(engine, clock=moments),
            read=lambda: SqlUnitOfWork(engine, clock=moments, read_only=True),
            clock=moments,
        )
        found = wire_scan(settings, ctx).scan(people=people)
    finally:
        engine.dispose()
    write_scan(found, now, out=out, err=err, as_json=as_json)
    return 0


def workspace_people(settings: Settings) -> list[Person]:
    """The workspace's members: the listing this host's processes share while it is fresh, else Slack's
    (after the same token check as every other command, and paced with the host's other calls)."""
    from bot.slack.people import SharedListing, SlackPeople
    from bot.slack.throttle import private_folder, workspace_file

    token = settings.slack_bot_token.get_secret_value()
    folder = None if (settings.pacing_dir or "").lower() == "off" else private_folder(settings.pacing_dir)
    listing = (
        workspace_file(folder, token=token, api_url=settings.slack_api_url, suffix=".people.json")
        if folder is not None
        else None
    )
    if listing is not None and (shared := SharedListing(listing).read()) is not None:
        return shared  # listed with this very token (the file is named by it) a few minutes ago
    from slack_sdk import WebClient

    from bot import startup
    from bot.slack.calls import RepeatSafeCallsOnServerErrors, SlackCalls
    from bot.slack.throttle import Throttle, host_buckets

    client = WebClient(token=token, base_url=settings.slack_api_url)
    client.retry_handlers.append(RepeatSafeCallsOnServerErrors(max_retry_count=2))
    startup.bot_user_id(client, settings.slack_api_url)  # a refused token is a ConfigError, as elsewhere
    buckets = host_buckets(folder, token=token, api_url=settings.slack_api_url)
    calls = SlackCalls(client, api_url=settings.slack_api_url, throttle=Throttle(buckets=buckets))
    return SlackPeople(calls, shared=listing).people()


def write_scan(found: OpenItems, now: datetime, *, out: TextIO, err: TextIO, as_json: bool) -> None:
    """The items as one JSON line (`--json`), or one tab-separated line each; problems on `err`."""
    if as_json:
        print(
            json.dumps(
                {
                    "items": [_json_item(item, now) for item in found.items],
                    "problems": [{"file": p.path, "line": p.line, "message": p.message} for p in found.problems],
                },
                ensure_ascii=False,
                separators=(",", ":"),  # one line: json's fast encoder (pipe it to `jq` to read it)
            ),
            file=out,
        )
        return
    for item in found.items:
        print(_line(item, now), file=out)
    for problem in found.problems:
        print(f"{problem.path}:{problem.line}: {problem.message}", file=err)
    if not found.items:
        print("no open action items", file=out)


def _json_item(item: OpenItem, now: datetime) -> dict[str, Any]:
    data = item_payload(item)
    data["age_days"] = round(item.age(now).total_seconds() / 86400, 2)
    return data


def _line(item: OpenItem, now: datetime) -> str:
    owner = item.owner_id or f"{item.owner or '?'} (unassigned)"
    return (
        f"{item.source or '(no RCA yet)'}\t{item.incident_title}\t#{item.number}\t{item.action}\t{owner}\t"
        f"{item.status.value}\t{humanize_age(item.age(now).total_seconds())}"
    )
