"""`incident-bot demo`: a whole incident, played through the real app over signed HTTP against the
local Slack simulator, published into a fresh local docs repo. No token, no network.

It is a newcomer's first run of the project, so it prints one short line per step and, on any
failure, one clear sentence instead of a traceback.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TextIO

from bot.demo.output import Console, show_kept, show_results
from bot.demo.scenario import ALICE, BOB, CAROL, GENERAL, INCIDENTS, TITLE, DemoFailed, Scenario

SIGNING_SECRET = "demo-secret"
BOT_TOKEN = "xoxb-demo"
RUNBOOK = "runbooks/incident-response.md"
DATABASE = "incident-bot.db"
# What create_docs_repo(base) makes inside base, plus its short-lived seed directory.
_LAYOUT = ("docs", "docs.git", "seed", DATABASE)
# Their INFO lines (requests served, jobs run, migrations) would drown the demo's own.
_QUIET_LOGGERS = {"bot": logging.WARNING, "slack_bolt": logging.WARNING, "slack_sdk": logging.WARNING}
_QUIET_LOGGERS |= {"waitress": logging.WARNING, "alembic": logging.WARNING}
# Bolt reads SLACK_BOT_TOKEN from the environment itself and warns that the bot's client wins over
# it: true and harmless, but noise for a user who has real credentials set.
_QUIET_LOGGERS["bot.bolt"] = logging.ERROR


def run_demo(out: TextIO, *, keep: str | None = None) -> int:
    """Play the demo incident, printing to `out`; 0 when everything landed in the docs repo, else 1."""
    console = Console(out)
    started = time.monotonic()
    console.line("incident-bot demo: one incident, start to finish, through the real bot —")
    console.line("offline, against a simulated Slack workspace and a fresh local docs repo.")
    console.line()
    try:
        base = _base_dir(keep)
    except DemoFailed as error:
        console.failed(str(error))
        return 1
    try:
        with _quiet_logs():
            _play(console, base, kept=keep is not None)
    except DemoFailed as error:
        console.failed(str(error))
        where = f"Its docs repo and database are in {base}." if keep else "--keep DIR keeps its docs repo and database."
        console.line(f"The demo did not finish. {where}")
        return 1
    except ImportError as error:
        # GitPython refuses to import without a git binary; that is the usual cause on a fresh machine.
        first_line = next(iter(str(error).strip().splitlines()), type(error).__name__)  # GitPython's runs ~20 lines
        console.failed(f"cannot start the bot: {first_line}")
        console.line("The demo needs git on PATH and incident-bot installed (`pip install .` in this checkout).")
        return 1
    except KeyboardInterrupt:
        console.failed("interrupted")
        return 130
    except Exception as error:  # noqa: BLE001 - a newcomer should get a sentence, not a traceback
        console.failed(f"the demo broke unexpectedly: {type(error).__name__}: {error}")
        console.line("Please report this with the line above: it is a bug in incident-bot or its simulator.")
        return 1
    finally:
        if keep is None:
            shutil.rmtree(base, ignore_errors=True)
    console.line()
    done = f"Done in {time.monotonic() - started:.1f} s."
    if keep is None:
        done += " It all ran in a temporary directory, now removed; --keep DIR keeps it."
    console.line(done)
    console.line("To run incident-bot in your own Slack workspace, see the README.")
    return 0


def _base_dir(keep: str | None) -> Path:
    if keep is None:
        return Path(tempfile.mkdtemp(prefix="incident-bot-demo-"))
    base = Path(keep).expanduser().resolve()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DemoFailed(f"cannot create {base}: {error.strerror or error}") from None
    taken = [name for name in _LAYOUT if (base / name).exists()]
    if taken:
        # Never publish over (or next to) an earlier run: the remote's history would be a mix of both.
        raise DemoFailed(
            f"{base} already holds {', '.join(taken)} from an earlier demo; use an empty directory or remove them"
        )
    return base


def _play(console: Console, base: Path, *, kept: bool) -> None:
    # Imported here so that a missing dependency (e.g. no git binary for GitPython) is reported
    # by the error handling in run_demo rather than crashing the CLI at import time.
    from bot.config import load_settings
    from bot.container import build_container
    from bot.demo.docs_repo import create_docs_repo
    from bot.server import RunningBot
    from slack_sim import FakeSlack, SlackDriver

    docs = create_docs_repo(base)
    database = base / DATABASE
    with ExitStack() as running:
        fake = FakeSlack(bot_token=BOT_TOKEN, team_id="T0DEMO", bot_user_id="UBOT", bot_id="BBOT")
        fake.start()
        running.callback(fake.stop)
        fake.add_user(ALICE, "alice", real_name="Alice (incident commander)")
        fake.add_user(BOB, "bob", real_name="Bob")
        fake.add_user(CAROL, "carol", real_name="Carol (SEV-1 escalation)")
        fake.add_channel("general", members=[ALICE, BOB, CAROL], channel_id=GENERAL)
        fake.add_channel("incidents", members=[ALICE, BOB, CAROL], channel_id=INCIDENTS)
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": BOT_TOKEN,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": fake.url,
                "DATABASE_URL": f"sqlite:///{database}",
                "INCIDENT_ANNOUNCE_CHANNEL": INCIDENTS,
                "SEV1_ESCALATION_USERS": CAROL,
                "DOCS_REPO_PATH": str(docs.clone),
                "RUNBOOK_PATH": RUNBOOK,
            }
        )
        # poll_seconds as in the tests: jobs are also woken on enqueue, this only bounds the worst case.
        bot = RunningBot(settings, host="127.0.0.1", port=0, build=lambda s: build_container(s, poll_seconds=0.05))
        running.callback(bot.stop)
        slack = SlackDriver(
            app_url=f"http://127.0.0.1:{bot.port}/slack/events",
            signing_secret=SIGNING_SECRET,
            fake=fake,
            team_id=fake.team_id,
        )
        console.line("Workspace: alice (commander), bob, carol (SEV-1 escalation) · #general, #incidents")
        console.line()
        outcome = Scenario(fake, slack, console).play()

    show_results(
        console,
        remote=docs.remote,
        rca_path=outcome.rca_path,
        fleet_status_path=settings.fleet_status_path,
        title=TITLE,
    )
    if kept:
        # The bot commits in a worktree of its own; bring the clone's checkout along so it shows the RCA.
        docs.update_checkout()
        show_kept(
            console, base=base, clone=docs.clone, remote=docs.remote, database=database, rca_path=outcome.rca_path
        )


@contextmanager
def _quiet_logs() -> Iterator[None]:
    """Raise the bot's and its libraries' loggers (to WARNING, mostly) for the demo, then put them back."""
    loggers = [(logging.getLogger(name), level) for name, level in _QUIET_LOGGERS.items()]
    levels = [logger.level for logger, _ in loggers]
    for logger, level in loggers:
        logger.setLevel(max(logger.getEffectiveLevel(), level))
    try:
        yield
    finally:
        for (logger, _), level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
