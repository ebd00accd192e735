"""The HTTP front door: Slack's requests on /slack/events and a health check on /healthz."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

StartResponse = Callable[..., Any]
EVENTS_PATH = "/slack/events"


class HttpFrontend:
    """A WSGI app that answers /healthz from the start and Slack once an app is attached."""

    def __init__(self) -> None:
        self._slack: SlackRequestHandler | None = None
        self._ready = threading.Event()
        self._serve_slack = True

    def attach(self, app: App, *, serve_slack: bool = True) -> None:
        """Start answering Slack (unless Socket Mode carries it) and report ready."""
        self._slack = SlackRequestHandler(app, path=EVENTS_PATH)
        self._serve_slack = serve_slack
        self._ready.set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/healthz":
            if self.ready:
                return _plain(start_response, "200 OK", b"ok\n")
            return _plain(start_response, "503 Service Unavailable", b"starting\n")
        if path == EVENTS_PATH and self._serve_slack:
            if self._slack is None:
                return _plain(start_response, "503 Service Unavailable", b"starting\n")
            return self._slack(environ, start_response)
        return _plain(start_response, "404 Not Found", b"not found\n")


def _plain(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
