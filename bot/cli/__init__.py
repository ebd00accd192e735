"""`incident-bot`: the only place with start-up side effects.

`main()` takes its environment, output streams and clock as arguments, so tests run every command
in-process; `run()` is what the console script and `python -m bot` call.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from types import FrameType
from typing import TextIO

from bot.config import ConfigError, load_database_url, load_settings
from bot.core.ports import Clock


def parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per job the bot does."""
    parser = argparse.ArgumentParser(prog="incident-bot", description="Run your incident runbook in Slack.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve Slack (HTTP on /slack/events, or Socket Mode) and /healthz")
    serve.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    serve.add_argument("--host", default="0.0.0.0", help="interface to listen on (default all)")
    commands.add_parser("migrate", help="create or upgrade the database schema and exit")
    demo = commands.add_parser("demo", help="play a whole incident offline against a local Slack simulator")
    demo.add_argument("--keep", metavar="DIR", help="keep the demo's docs repo and database in DIR")
    remind = commands.add_parser("remind", help="DM every owner of open action items not yet reminded today")
    remind.add_argument("--dry-run", action="store_true", help="only list who would be reminded of what")
    briefing = commands.add_parser("briefing", help="post the daily briefing to BRIEFING_CHANNEL now")
    briefing.add_argument("--dry-run", action="store_true", help="print the briefing instead of posting it")
    scan = commands.add_parser("scan", help="list every open action item in the docs repo's RCAs")
    scan.add_argument("--json", action="store_true", help="machine-readable output for agents")
    stats = commands.add_parser("stats", help="incident numbers from the docs repo and the database")
    stats.add_argument("--since", metavar="DATE", help="only incidents declared on or after DATE (YYYY-MM-DD)")
    stats.add_argument("--until", metavar="DATE", help="only incidents declared on or before DATE (YYYY-MM-DD)")
    stats.add_argument("--json", action="store_true", help="machine-readable output for agents (one line)")
    stats.add_argument("--charts", metavar="DIR", help="also write the charts as PNG files into DIR")
    digest = commands.add_parser("digest", help="post this week's digest (numbers and charts) to DIGEST_CHANNEL")
    digest.add_argument("--dry-run", action="store_true", help="print the digest instead of posting it")
    publish = commands.add_parser("publish", help="publish RCAs whose commit or push is still pending")
    publish.add_argument("--retry", action="store_true", help="retry every pending or failed publish now")
    commands.add_parser(
        "doctor", help="check the configuration against the workspace, database and docs repo (exit 0: all good)"
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
    clock: Clock | None = None,
) -> int:
    """Run one command; `environ` defaults to the process environment. Returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = parser().parse_args(argv)
    try:
        if args.command == "migrate":
            return _migrate(environ, out)
        if args.command == "demo":
            from bot.demo import run_demo

            return run_demo(out, keep=args.keep)
        if args.command in ("remind", "briefing", "scan"):
            # `scan` reads only the docs repo: without a bot token it runs offline (owners stay as written).
            source = os.environ if environ is None else environ
            offline = args.command == "scan" and not any(
                key.upper() == "SLACK_BOT_TOKEN" and value for key, value in source.items()
            )
            unset = {"slack_bot_token": "unset", "slack_signing_secret": "unset"} if offline else {}
            settings = load_settings(environ, **unset)
            if args.command == "scan":
                from bot.cli.scan import run_scan  # wired on its own: an agent's run loads no Slack app

                return run_scan(settings, offline=offline, out=out, err=err, clock=clock, as_json=args.json)
            from bot.cli.reminders import run_reminder_command

            return run_reminder_command(args.command, settings, out=out, err=err, clock=clock, dry_run=args.dry_run)
        if args.command == "stats":
            from bot.cli.stats import run_stats_command

            return run_stats_command(args, environ, out=out, err=err, clock=clock)
        if args.command == "digest":
            from bot.cli.digest import run_digest_command

            return run_digest_command(args, environ, out=out, err=err, clock=clock)
        if args.command == "doctor":
            from bot.ops.doctor import run_doctor

            checks = run_doctor(load_settings(environ))
            for check in checks:
                print(check.line(), file=out)
            return 0 if all(check.ok for check in checks) else 1
        if args.command == "publish":
            return _publish(environ, out, err, clock, retry=args.retry)
        return _serve(environ, out, args.host, args.port)
    except ConfigError as error:
        for line in str(error).splitlines():
            print(f"incident-bot: {line}", file=err)
        return 2
    except Exception as error:
        # Loaded only once a command failed: `stats` and `migrate` never need the Slack SDK.
        from slack_sdk.errors import SlackApiError, SlackClientError

        if isinstance(error, SlackApiError):
            code = error.response.get("error") if error.response else error
            print(f"incident-bot: Slack refused the bot token (SLACK_BOT_TOKEN): {code}", file=err)
            return 1
        if isinstance(error, SlackClientError):
            print(f"incident-bot: cannot reach Slack at SLACK_API_URL: {error}", file=err)
            return 1
        raise


def run() -> None:
    """The console script: log to stderr, run the command, exit with its status."""
    from bot.logs import configure_logging

    if problem := configure_logging():
        logging.getLogger("bot").warning(problem)
    sys.exit(main(sys.argv[1:]))


def _migrate(environ: Mapping[str, str] | None, out: TextIO) -> int:
    from bot.storage import create_engine_for, migrate

    engine = create_engine_for(load_database_url(environ))
    try:
        migrate(engine)
    finally:
        engine.dispose()
    print("database is up to date", file=out)
    return 0


def _publish(environ: Mapping[str, str] | None, out: TextIO, err: TextIO, clock: Clock | None, *, retry: bool) -> int:
    from bot.container import build_container
    from bot.core.jobs import PublishRca

    publish_rca = PublishRca.model_fields["kind"].default

    container = build_container(load_settings(environ), clock=clock)
    try:
        if retry:
            container.jobs.reschedule(publish_rca, container.ctx.clock.now())
        container.runner.run_pending()
        left = container.jobs.unfinished(publish_rca)
    finally:
        container.close()
    if left:
        for job_id, error in left:
            print(f"incident-bot: publish job {job_id} is still pending: {error or 'not due yet'}", file=err)
        return 1
    print("every RCA is published", file=out)
    return 0


# How long a thread holding the GIL runs before a waiting one may take it (Python's default: 5 ms). In
# `serve`, a request thread woken by its socket waits behind whatever CPU work runs beside it (the daily
# check's scan, the similar-incident index, a big RCA's render) once per hand-off. A tenth of the default
# cut the p99 note ack at a team's pace (10 people, a note each half second) from 46 to 10 ms, and from
# 107 to 38 ms while the daily check ran; at full load (10 clients back to back) it costs ≈10 % of the
# answers a second (bench/RESULTS.md, sixth round).
GIL_SWITCH_SECONDS = 0.0005


def _serve(environ: Mapping[str, str] | None, out: TextIO, host: str, port: int) -> int:
    from bot.container import build_container
    from bot.ops.memory import release_free_memory
    from bot.server import RunningBot

    sys.setswitchinterval(GIL_SWITCH_SECONDS)
    # The daily check's scan in a process of its own, so that the threads answering Slack keep their core.
    bot = RunningBot(
        load_settings(environ), host=host, port=port, build=lambda s: build_container(s, scan_in_child=True)
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        bot.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    release_free_memory()  # what start-up freed (bench/RESULTS.md, eighth round)
    print(f"incident-bot listening on http://{host}:{bot.port} (health: /healthz)", file=out, flush=True)
    bot.wait()
    return 0
