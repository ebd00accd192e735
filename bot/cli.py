"""`incident-bot`: the only place with start-up side effects."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import ConfigError, load_settings


def _parser() -> argparse.ArgumentParser:
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
    publish = commands.add_parser("publish", help="publish RCAs whose commit or push is still pending")
    publish.add_argument("--retry", action="store_true", help="retry every pending or failed publish now")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "migrate":
            return _migrate()
        if args.command == "demo":
            from bot.simulator.demo import run_demo

            return run_demo(sys.stdout, keep=args.keep)
        if args.command in ("remind", "briefing", "scan"):
            from bot.followup_cli import run_followup_command

            return run_followup_command(
                args.command, dry_run=getattr(args, "dry_run", False), as_json=getattr(args, "json", False)
            )
        if args.command == "publish":
            return _publish(retry=args.retry)
        return _serve(args.host, args.port)
    except ConfigError as error:
        print(f"incident-bot: {error}", file=sys.stderr)
        return 2
    except SlackApiError as error:
        code = error.response.get("error") if error.response else error
        print(f"incident-bot: Slack refused the bot token (SLACK_BOT_TOKEN): {code}", file=sys.stderr)
        return 1
    except SlackClientError as error:
        print(f"incident-bot: cannot reach Slack at SLACK_API_URL: {error}", file=sys.stderr)
        return 1


def _migrate() -> int:
    from bot.config import DatabaseSettings
    from bot.storage import create_engine_for, migrate

    migrate(create_engine_for(DatabaseSettings().database_url))
    print("database is up to date")
    return 0


def _publish(*, retry: bool) -> int:
    from bot.container import build_container
    from bot.services.jobkinds import PUBLISH_RCA

    container = build_container(load_settings())
    try:
        if retry:
            container.jobs.reschedule(PUBLISH_RCA, container.deps.clock.now())
        container.runner.run_pending()
        left = container.jobs.unfinished(PUBLISH_RCA)
    finally:
        container.close()
    if left:
        for job_id, error in left:
            print(f"incident-bot: publish job {job_id} is still pending: {error or 'not due yet'}", file=sys.stderr)
        return 1
    print("every RCA is published")
    return 0


def _serve(host: str, port: int) -> int:
    from bot.server import RunningBot

    settings = load_settings()
    bot = RunningBot(settings, host=host, port=port)

    def stop(signum: int, frame: FrameType | None) -> None:
        bot.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"incident-bot listening on http://{host}:{bot.port} (health: /healthz)", flush=True)
    bot.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
