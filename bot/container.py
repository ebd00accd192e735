"""The composition root: every long-lived object, built from Settings."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot import startup
from bot.app import build_app
from bot.clock import SystemClock
from bot.config import Settings, read_owner_map, read_update_minutes
from bot.core.paging import Pager
from bot.core.policy import Escalation
from bot.core.ports import Clock, Publisher
from bot.core.rca import rca_environment
from bot.core.roles import DEFAULT_ROLES, Role, commander_first
from bot.ops.metrics import BotMetrics
from bot.publish import GitPublisher
from bot.rca_cache import parsed_rcas_for
from bot.scan_process import ScanInChildProcess
from bot.services.channel_upkeep import ChannelUpkeep
from bot.services.context import Policy, ServiceContext
from bot.services.home import HomeTab
from bot.services.jobs import JobHandlers
from bot.services.publishing import DocsLayout, RcaPublishing
from bot.services.reminders import ReminderPolicy, Reminders
from bot.services.severity_guide import RunbookSeverities, RunbookWatchingPublisher
from bot.slack.calls import RepeatSafeCallsOnServerErrors, SlackCalls
from bot.slack.chat import SlackChat
from bot.slack.listener_context import ListenerContext
from bot.slack.people import SlackPeople
from bot.slack.rooms import SlackRooms
from bot.slack.throttle import Throttle, host_buckets, private_folder, workspace_file
from bot.startup import open_database
from bot.storage import SqlJobStore, SqlUnitOfWork
from bot.worker import JobRunner

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    import jinja2

    from bot.core.digest import ChartFile
    from bot.core.stats_report import StatsReport
    from bot.services.digest import WeeklyDigest
    from bot.services.similar import SimilarIncidents
    from bot.services.stats import IncidentStats

T = TypeVar("T")


@dataclass
class Container:
    settings: Settings
    engine: Engine
    client: WebClient
    ctx: ServiceContext
    chat: SlackChat
    runner: JobRunner
    jobs: SqlJobStore
    reminders: Reminders
    app: App
    metrics: BotMetrics
    incident_stats: Lazy[IncidentStats]
    weekly_digest: Lazy[WeeklyDigest]

    @property
    def stats(self) -> IncidentStats:
        """The numbers (`stats`, the weekly digest, the Home tab), built on first use."""
        return self.incident_stats()

    @property
    def digest(self) -> WeeklyDigest:
        """The weekly digest, built on first use."""
        return self.weekly_digest()

    def close(self) -> None:
        """Stop the job runner (waiting up to STOP_GRACE_SECONDS for running jobs), then the database."""
        from bot.ops.processes import end_children

        self.runner.stop(self.settings.stop_grace_seconds, on_unfinished=lambda: end_children("git"))
        self.engine.dispose()


def rca_templates(templates_dir: str | None) -> jinja2.Environment:
    """The team's `rca.md.j2` from TEMPLATES_DIR when it has one, else the one shipped in `bot/templates/`."""
    import jinja2

    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(templates_dir)] if templates_dir else []
    loaders.append(jinja2.PackageLoader("bot", "templates"))
    return rca_environment(jinja2.ChoiceLoader(loaders))


class Lazy(Generic[T]):
    """A service built on its first use, once for the process: `serve` starts (and may idle for days)
    without the modules that only the numbers, the digest or a declare's similar incidents need."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._built: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        with self._lock:
            if self._built is None:
                self._built = self._build()
            return self._built


def render_charts(report: StatsReport) -> list[ChartFile]:
    """The digest's charts; bot.charts (and matplotlib) are imported on the first digest."""
    from bot import charts

    return charts.render_charts(report)


class LazyTemplates:
    """The RCA templates, loaded on the first render: most of a bot's life needs no Jinja in memory."""

    def __init__(self, templates_dir: str | None) -> None:
        self._dir = templates_dir
        self._environment: jinja2.Environment | None = None
        self._lock = threading.Lock()

    def __call__(self) -> jinja2.Environment:
        with self._lock:
            if self._environment is None:
                self._environment = rca_templates(self._dir)
            return self._environment


def build_container(
    settings: Settings,
    *,
    clock: Clock | None = None,
    poll_seconds: float = 1.0,
    offline: bool = False,
    scan_in_child: bool = False,
) -> Container:
    """Connect to the database (migrating it), to Slack, and wire the services and the app.

    `offline`: do not ask Slack who the bot is (for `scan` without credentials; nothing may call Slack).
    `scan_in_child`: the daily runs read and parse the docs repo in a process of their own (`serve`).
    """
    engine = open_database(settings.database_url)
    clock = clock or SystemClock()
    client = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url)
    # A 429 is not waited out inside the call: a job is rescheduled for Slack's Retry-After (so no worker
    # sleeps), and a call Slack is waiting on answers the person at once. Safe calls are repeated on a 5xx.
    client.retry_handlers.append(RepeatSafeCallsOnServerErrors(max_retry_count=2))
    try:
        bot_user_id = "" if offline else startup.bot_user_id(client, settings.slack_api_url)
    except BaseException:
        engine.dispose()
        raise
    # The processes of one host share their pacing and their listing of the workspace's members.
    token = settings.slack_bot_token.get_secret_value()
    folder = None if (settings.pacing_dir or "").lower() == "off" else private_folder(settings.pacing_dir)
    buckets = host_buckets(folder, token=token, api_url=settings.slack_api_url)
    metrics = BotMetrics()
    calls = SlackCalls(client, api_url=settings.slack_api_url, throttle=Throttle(buckets=buckets), metrics=metrics)
    listing = (
        workspace_file(folder, token=token, api_url=settings.slack_api_url, suffix=".people.json")
        if folder is not None
        else None
    )
    roles, escalation = incident_policy(settings.incident_policy)
    chat = SlackChat(calls, SlackPeople(calls, shared=listing), bot_user_id=bot_user_id, roles=roles)
    wake_box: list[JobRunner] = []

    def uow_factory() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock=clock, on_jobs_enqueued=lambda: wake_box[0].wake() if wake_box else None)

    def reader_factory() -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock=clock, read_only=True)

    pagers = configured_pagers(settings)
    ctx = ServiceContext(
        uow=uow_factory,
        read=reader_factory,
        clock=clock,
        policy=Policy(
            announce_channel=settings.incident_announce_channel,
            escalation_users=tuple(settings.sev1_escalation_users),
            admins=frozenset(settings.incident_admins),
            pagers=tuple(pager.name for pager in pagers),
            escalation=escalation,
            update_minutes=read_update_minutes(settings.status_update_minutes),
            archive_after_days=settings.archive_after_days,
            roles=roles,
        ),
        members=chat,
        metrics=metrics,
    )
    publisher: Publisher | None = None
    if settings.docs_repo_path:
        docs = GitPublisher(
            settings.docs_repo_path, author_name=settings.git_author_name, author_email=settings.git_author_email
        )
        docs.prepare()  # a few plain git processes now, so the first publish is only its own work
        publisher = docs
    severities: RunbookSeverities | None = None
    if publisher is not None and settings.runbook_path:
        # The runbook's Severity Guide is the levels in force: read now, and again after each pull.
        severities = RunbookSeverities(publisher, settings.runbook_path)
        severities.refresh()
        publisher = RunbookWatchingPublisher(publisher, severities)
    layout = DocsLayout(
        incidents_dir=settings.incidents_dir,
        fleet_status_path=settings.fleet_status_path,
        runbook_path=settings.runbook_path,
        tz=settings.timezone,
        web_url=settings.docs_repo_web_url,
    )
    owner_map = read_owner_map(settings.owner_map)
    reminders = Reminders(
        ctx,
        chat,
        publisher,
        layout,
        ReminderPolicy(
            reminder_time=settings.reminder_time,
            briefing_time=settings.briefing_time,
            briefing_channel=settings.briefing_channel,
            tz=settings.timezone,
            owner_map=owner_map,
        ),
        guide_problems=(lambda: severities.problems) if severities is not None else tuple,
        parsed_store=parsed_rcas_for(settings.docs_repo_path),  # so `remind` and a restart do not parse again
        due_scan=(lambda inline: ScanInChildProcess(settings, inline)) if scan_in_child else None,
    )
    templates = LazyTemplates(settings.templates_dir)
    publishing = RcaPublishing(ctx, chat, publisher, layout, templates)

    def build_stats() -> IncidentStats:
        from bot.services.stats import IncidentStats
        from bot.stats_cache import facts_cache_for

        # The numbers (`stats`, the weekly digest, the Home tab) keep the docs repo's parsed RCAs by blob id.
        cache = facts_cache_for(settings.docs_repo_path, tz=settings.timezone)
        return IncidentStats(ctx, publisher, layout, owner_map=owner_map, cache=cache)

    stats = Lazy(build_stats)

    def build_digest() -> WeeklyDigest:
        from bot.services.digest import DigestPolicy, WeeklyDigest
        from bot.slack.digest_chat import SlackDigestChat

        channel = settings.digest_channel or settings.briefing_channel
        policy = DigestPolicy(channel=channel, when=settings.digest_time, tz=settings.timezone)
        return WeeklyDigest(ctx, SlackDigestChat(calls), stats, policy, charts=render_charts)

    digest = Lazy(build_digest)

    def build_similar() -> SimilarIncidents:
        from bot.services.similar import SimilarIncidents

        return SimilarIncidents(ctx, chat, publisher, layout)

    handlers = JobHandlers(
        ctx,
        chat,
        publishing,
        reminders,
        HomeTab(ctx, chat, reminders, layout, stats=stats),
        pagers=pagers,
        workspace=bot_user_id,
        # One index for the process (built on the first declare): each declare reads only the RCAs that
        # changed since the last one.
        similar=Lazy(build_similar),
        upkeep=ChannelUpkeep(ctx, chat, SlackRooms(calls), layout),
        digest=digest,
    )
    jobs = SqlJobStore(engine)
    runner = JobRunner(
        jobs,
        handlers.run,
        handlers.after_failure,
        clock,
        threads=settings.worker_threads,
        poll_seconds=poll_seconds,
        on_outcome=metrics.job,
        failure_jobs=handlers.failure_jobs,
        fan_out_free_in=calls.fan_out_free_in,
    )
    metrics.watch_queue(lambda: jobs.queue_stats(clock.now()))
    wake_box.append(runner)
    listeners = ListenerContext(
        services=ctx,
        chat=chat,
        hand_written_owner=reminders.hand_written_owner,
        timeline_emoji=settings.timeline_emoji,
        resolve_form_opened=publishing.prepare_in_background,
    )
    app = build_app(settings, listeners, client, offline=offline)
    return Container(
        settings=settings,
        engine=engine,
        client=client,
        ctx=ctx,
        chat=chat,
        runner=runner,
        jobs=jobs,
        reminders=reminders,
        app=app,
        metrics=metrics,
        incident_stats=stats,
        weekly_digest=digest,
    )


def configured_pagers(settings: Settings) -> list[Pager]:
    """A pager per paging service configured; their senders are loaded only when there is one."""
    keys = (settings.pagerduty_routing_key, settings.opsgenie_api_key)
    if not settings.paging_webhook_url and not any(key is not None and key.get_secret_value() for key in keys):
        return []
    from bot.paging import build_pagers

    return build_pagers(
        pagerduty_routing_key=settings.pagerduty_routing_key,
        pagerduty_events_url=settings.pagerduty_events_url,
        opsgenie_api_key=settings.opsgenie_api_key,
        opsgenie_api_url=settings.opsgenie_api_url,
        webhook_url=settings.paging_webhook_url,
        webhook_secret=settings.paging_webhook_secret,
    )


def incident_policy(path: str | None) -> tuple[tuple[Role, ...], dict[str, Escalation]]:
    """INCIDENT_POLICY's roles and escalation; its reader (and YAML) is loaded only when the file is set."""
    if not path:
        return DEFAULT_ROLES, {}
    from bot.policy_file import load_incident_policy_file

    policy_file = load_incident_policy_file(path)
    roles = commander_first(policy_file.roles) if policy_file.roles is not None else DEFAULT_ROLES
    return roles, policy_file.escalation
