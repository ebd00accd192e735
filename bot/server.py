"""Running the bot: the HTTP server (and Socket Mode when an app token is set) plus the job runner."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from waitress.server import create_server

from bot.cadence_watch import CadenceWatch
from bot.config import ConfigError, Settings
from bot.container import Container, build_container
from bot.scheduler import DailyJobs
from bot.services.cadence import UpdateCadence
from bot.services.housekeeping import tidy
from bot.slack.http import HttpFrontend

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

log = logging.getLogger(__name__)


class RunningBot:
    """A started bot; `stop()` shuts every part down."""

    def __init__(
        self,
        settings: Settings,
        *,
        host: str = "0.0.0.0",
        port: int = 3000,
        build: Callable[[Settings], Container] = build_container,
    ) -> None:
        self.frontend = HttpFrontend()
        self._server = create_server(self.frontend, host=host, port=port, threads=8, ident="incident-bot")
        self.port: int = self._server.effective_port
        self._stopping = False
        self._thread = threading.Thread(target=self._serve_http, name="http", daemon=True)
        self._thread.start()
        try:
            self.container = build(settings)
        except BaseException:
            self._stopping = True  # so that the HTTP thread takes the closed socket for the shutdown it is
            self._server.close()
            raise
        from bot.ops.startup_checks import startup_problems

        problems = startup_problems(settings, self.container.client)
        if problems:
            self._stopping = True
            self.container.close()
            self._server.close()
            raise ConfigError("\n".join(check.line() for check in problems))
        self.container.runner.start()
        container = self.container
        self._daily = DailyJobs(
            container.reminders,
            container.ctx.clock,
            interval=settings.daily_check_seconds,
            housekeeping=lambda now: tidy(container.ctx, container.jobs, now),
            weekly=container.digest.post_weekly,
        )
        self._daily.start()
        # Missed status updates are looked for by every replica; the nudges' keys keep them single.
        self.cadence = CadenceWatch(UpdateCadence(container.ctx), container.ctx.clock)
        self.cadence.start()
        self._socket: SocketModeHandler | None = None
        if settings.slack_app_token is not None:
            from slack_bolt.adapter.socket_mode import SocketModeHandler  # only loaded when it is used

            self._socket = SocketModeHandler(
                self.container.app, settings.slack_app_token.get_secret_value(), web_client=self.container.client
            )
            try:
                self._socket.connect()  # type: ignore[no-untyped-call]
            except SlackApiError as error:
                self.stop()
                code = error.response.get("error") if error.response else error
                raise ConfigError(f"Invalid configuration: Slack refused SLACK_APP_TOKEN ({code})") from None
            log.info("connected to Slack in Socket Mode")
        self.frontend.attach(
            self.container.app,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            serve_slack=self._socket is None,
        )
        self.frontend.set_readiness(self.readiness)
        self.frontend.set_metrics(self.container.metrics)
        log.info("incident-bot ready on port %s", self.port)

    @property
    def daily_checks(self) -> int:
        """How many times this process has checked who is due a reminder or the briefing."""
        return self._daily.checks

    def readiness(self) -> list[str]:
        """Why this process should not be sent work now (Kubernetes' readiness probe, /readyz)."""
        problems = []
        if self._stopping:
            problems.append("stopping")
        try:
            with self.container.engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except Exception as error:  # noqa: BLE001 - any failure means the database is not there for us
            problems.append(f"database unreachable: {type(error).__name__}")
        if self._socket is not None and not self._socket.client.is_connected():
            problems.append("Socket Mode connection down")
        if not self.container.runner.alive():
            problems.append("job runner not running")
        return problems

    def _serve_http(self) -> None:
        try:
            self._server.run()
        except OSError:
            # Closing the listening socket from another thread interrupts select(); that is the shutdown.
            if not self._stopping:
                raise

    def wait(self) -> None:
        self._thread.join()

    def stop(self) -> None:
        if not self._stopping:
            log.info("stopping: no new requests or jobs are taken")
        self._stopping = True
        if self._socket is not None:
            self._socket.close()  # type: ignore[no-untyped-call]
        self._server.close()
        # Every thread is told at once and the job runner's grace runs while the others finish, so
        # SIGTERM ends the process within STOP_GRACE_SECONDS and a few seconds, not the sum of the waits.
        self._daily.halt()
        self.cadence.halt()
        self.container.close()
        self._daily.stop(2.0)
        self.cadence.stop(2.0)
