"""`incident-bot stats`: the incident numbers from the docs repo and the database, as text, JSON or charts.

It needs no Slack: only the database, the docs repo and the runbook (for the levels' response times),
wired here without the Slack app, so a run over a big docs repo spends its time reading, not importing.
"""

from __future__ import annotations

import argparse
import gc
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.clock import SystemClock
from bot.config import Settings, load_settings, read_owner_map
from bot.core.ports import Clock, Publisher, PublishError
from bot.core.stats import format_minutes
from bot.core.stats_report import IncidentOut, StatsReport
from bot.services.context import ServiceContext
from bot.services.publishing import DocsLayout
from bot.services.stats import IncidentStats, StatsWindow, parse_day

WEEKS_SHOWN = 8


def layout_of(settings: Settings) -> DocsLayout:
    """Where the docs live, from the settings."""
    return DocsLayout(
        incidents_dir=settings.incidents_dir,
        fleet_status_path=settings.fleet_status_path,
        runbook_path=settings.runbook_path,
        tz=settings.timezone,
        web_url=settings.docs_repo_web_url,
    )


@contextmanager
def stats_service(settings: Settings, clock: Clock | None = None) -> Iterator[IncidentStats]:
    """The numbers over this configuration's database and docs repo (levels as the runbook says)."""
    from bot.publish import GitPublisher
    from bot.services.severity_guide import RunbookSeverities, RunbookWatchingPublisher
    from bot.startup import open_database
    from bot.stats_cache import facts_cache_for
    from bot.storage import SqlUnitOfWork

    engine = open_database(settings.database_url)
    moments = clock or SystemClock()
    try:
        ctx = ServiceContext(
            uow=lambda: SqlUnitOfWork(engine, clock=moments),
            read=lambda: SqlUnitOfWork(engine, clock=moments, read_only=True),
            clock=moments,
        )
        publisher: Publisher | None = None
        if settings.docs_repo_path:
            git = GitPublisher(
                settings.docs_repo_path, author_name=settings.git_author_name, author_email=settings.git_author_email
            )
            publisher = git
            if settings.runbook_path:
                publisher = RunbookWatchingPublisher(git, RunbookSeverities(git, settings.runbook_path))
        yield IncidentStats(
            ctx,
            publisher,
            layout_of(settings),
            owner_map=read_owner_map(settings.owner_map),
            cache=facts_cache_for(settings.docs_repo_path, tz=settings.timezone),
        )
    finally:
        engine.dispose()


def run_stats_command(
    args: argparse.Namespace, environ: Mapping[str, str] | None, *, out: TextIO, err: TextIO, clock: Clock | None
) -> int:
    """`incident-bot stats [--since DATE] [--until DATE] [--json] [--charts DIR]` from parsed arguments."""
    try:
        since = parse_day(args.since, option="--since") if args.since else None
        until = parse_day(args.until, option="--until") if args.until else None
    except ValueError as error:
        print(f"incident-bot: {error}", file=err)
        return 2
    if since and until and since > until:
        print(f"incident-bot: --since ({since}) is after --until ({until}), so no day is in between", file=err)
        return 2
    source = os.environ if environ is None else environ
    # The numbers need no Slack: without a bot token the command still runs.
    has_token = any(key.upper() == "SLACK_BOT_TOKEN" and value for key, value in source.items())
    unset = {} if has_token else {"slack_bot_token": "unset", "slack_signing_secret": "unset"}
    settings = load_settings(environ, **unset)
    return run_stats(
        settings, out=out, err=err, clock=clock, since=since, until=until, as_json=args.json, charts=args.charts
    )


def run_stats(
    settings: Settings,
    *,
    out: TextIO,
    err: TextIO,
    clock: Clock | None = None,
    since: date | None = None,
    until: date | None = None,
    as_json: bool = False,
    charts: str | None = None,
) -> int:
    """`incident-bot stats`; returns the exit status."""
    if settings.docs_repo_path is None:
        print("incident-bot: DOCS_REPO_PATH is not set: counting only the bot's own incidents", file=err)
    # A big repo's run makes a few hundred thousand objects that all live until the numbers are out: the
    # cyclic collector would walk them again and again for nothing (a sixth of the run), so it waits.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with stats_service(settings, clock) as stats:
            report = stats.report(StatsWindow(since=since, until=until))
    except PublishError as error:
        print(f"incident-bot: cannot read the docs repo: {error}", file=err)
        return 1
    finally:
        if collecting:
            gc.enable()
    if as_json:
        print(report.model_dump_json(), file=out)  # one line (pipe it to `jq` to read it)
    else:
        for line in report_lines(report):
            print(line, file=out)
    if charts:
        from bot.charts import write_charts

        for path in write_charts(report, Path(charts)):
            print(f"wrote {path}", file=err if as_json else out)
    return 0


def report_lines(report: StatsReport, *, weeks: int = WEEKS_SHOWN) -> list[str]:
    """The numbers for a person to read (every figure; `--json` also lists every incident and week)."""
    totals = report.totals
    if report.since and report.until:
        when = f"declared {report.since} – {report.until}"
    elif report.since or report.until:
        when = f"declared since {report.since}" if report.since else f"declared until {report.until}"
    else:
        when = "so far"
    lines = [
        f"Incidents {when} ({report.timezone}): {totals.incidents}"
        + (f", {totals.private} private" if totals.private else "")
        + (f", {totals.only_in_git} known only from the docs repo" if totals.only_in_git else ""),
        "",
        f"{'Level':<8}{'Count':>6}  {'Resolve median':>14}  {'Resolve p90':>11}  "
        f"{'First update median':>19}  {'No RCA':>6}",
    ]
    for level in report.levels:
        row = report.by_level[level]
        lines.append(
            f"{level:<8}{row.count:>6}  {format_minutes(row.resolve_minutes_median):>14}  "
            f"{format_minutes(row.resolve_minutes_p90):>11}  {format_minutes(row.first_update_minutes_median):>19}  "
            f"{row.missing_rca:>6}"
        )
    months = [m for m in report.by_month if m.total]
    if months:
        lines += ["", "By month:"]
        lines += [f"  {m.period}  {_counts(m.levels)}  ({m.total})" for m in months]
    if report.by_week:
        lines += ["", f"By week (the last {min(weeks, len(report.by_week))}):"]
        lines += [f"  {w.period} (from {w.start})  {_counts(w.levels)}  ({w.total})" for w in report.by_week[-weeks:]]
    items = report.action_items
    rate = f"{items.completion_rate:.0%} done" if items.completion_rate is not None else "none yet"
    age = f"{items.median_open_age_days:g} days" if items.median_open_age_days is not None else "—"
    lines += [
        "",
        f"Action items: {items.opened} opened, {items.done} done, {items.open} open "
        f"({items.in_progress} in progress); {rate}; median age of the open ones {age}",
    ]
    if report.overdue:
        lines += ["", "Overdue (open past their level's response time):"]
        lines += [f"  {o.owner}: {o.count}, the oldest {o.oldest_days:g} days" for o in report.overdue]
    if report.missing_rca:
        lines += ["", "Incidents without the RCA their level requires:"]
        lines += [f"  {describe(i)}" for i in report.missing_rca]
    if report.notes:
        lines += ["", "Not known:"]
        lines += [f"  - {note}" for note in report.notes]
    return lines


def describe(incident: IncidentOut) -> str:
    """One incident in a line, never titled when private."""
    name = "(private incident)" if incident.private else (incident.title or "(untitled)")
    where = f"#{incident.id}" if incident.id is not None else incident.source.replace("_", "-")
    return f"{incident.declared_on or '????-??-??'} {incident.level or 'SEV-?'} {name} ({where})"


def _counts(levels: dict[str, int]) -> str:
    return " · ".join(f"{level} {count}" for level, count in levels.items())
