"""The HTTP front door: Slack's requests on /slack/events and a health check on /healthz.

Every request to /slack/events is checked here before Bolt sees it: a body larger than Slack ever
sends is refused unread (413), and one whose signature does not verify, for whatever reason (no
headers, a timestamp that is not a number or is stale, a wrong signature, a body that is not UTF-8),
gets 401 and reaches no listener, so it can make the bot call nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.context import BoltContext
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import build_context
from slack_bolt.response import BoltResponse

from bot.core.requests import set_request_id

if TYPE_CHECKING:
    from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest

    from bot.ops.metrics import BotMetrics

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
EVENTS_PATH = "/slack/events"
# Slack's largest payloads (a modal's full state, a long message) are far below this.
MAX_BODY_BYTES = 1024 * 1024
# Slack's own rule: a request signed more than five minutes ago may be a replay.
MAX_CLOCK_SKEW_SECONDS = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class SignatureCheck:
    """Slack's request signing, strictly: `v0=` HMAC-SHA256 of `v0:<timestamp>:<body>` with the secret."""

    def __init__(self, signing_secret: str, *, clock: Callable[[], float] = time.time) -> None:
        self._secret = signing_secret.encode("utf-8")
        self._clock = clock

    def verifies(self, body: bytes, timestamp: str | None, signature: str | None) -> bool:
        if timestamp is None or signature is None:
            return False
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return False
        if abs(self._clock() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            return False
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        expected = hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"v0={expected}", signature)


class HttpFrontend:
    """A WSGI app that answers /healthz from the start and Slack once an app is attached."""

    def __init__(self) -> None:
        self._slack: SlackRequestHandler | None = None
        self._check: SignatureCheck | None = None
        self._ready = threading.Event()
        self._serve_slack = True
        self._readiness: Callable[[], list[str]] | None = None
        self._metrics: BotMetrics | None = None

    def set_metrics(self, metrics: BotMetrics) -> None:
        """Count Slack's requests and answer GET /metrics."""
        self._metrics = metrics

    def set_readiness(self, check: Callable[[], list[str]]) -> None:
        """What /readyz asks: the problems that keep the bot from taking work (none: ready)."""
        self._readiness = check

    def attach(self, app: App, *, signing_secret: str, serve_slack: bool = True) -> None:
        """Start answering Slack (unless Socket Mode carries it) and report ready."""
        self._slack = _BoltHandler(app, path=EVENTS_PATH)
        self._check = SignatureCheck(signing_secret)
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
        if path == "/readyz":
            if not self.ready or self._readiness is None:
                return _plain(start_response, "503 Service Unavailable", b"starting\n")
            problems = self._readiness()
            if problems:
                return _plain(start_response, "503 Service Unavailable", ("\n".join(problems) + "\n").encode())
            return _plain(start_response, "200 OK", b"ready\n")
        if path == "/metrics" and self._metrics is not None:
            body = self._metrics.render()
            start_response("200 OK", [("Content-Type", METRICS_CONTENT_TYPE), ("Content-Length", str(len(body)))])
            return [body]
        if path == EVENTS_PATH and self._serve_slack:
            if self._slack is None or self._check is None:
                return _plain(start_response, "503 Service Unavailable", b"starting\n")
            if environ.get("REQUEST_METHOD") != "POST":
                return _plain(start_response, "405 Method Not Allowed", b"POST only\n")
            return self._slack_request(environ, start_response, self._slack, self._check)
        return _plain(start_response, "404 Not Found", b"not found\n")

    def _slack_request(
        self, environ: dict[str, Any], start_response: StartResponse, slack: SlackRequestHandler, check: SignatureCheck
    ) -> Iterable[bytes]:
        set_request_id(None)  # until Bolt's middleware names this request, no earlier one is named in logs
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _plain(start_response, "400 Bad Request", b"bad content length\n")
        if length > MAX_BODY_BYTES:
            return _plain(start_response, "413 Content Too Large", b"request body too large\n")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        if not check.verifies(body, timestamp, signature):
            return _plain(start_response, "401 Unauthorized", b"invalid request\n")
        well_formed, parsed = _read_payload(body.decode("utf-8"), environ.get("CONTENT_TYPE"))
        if not well_formed:
            log.warning("refused a signed request whose body is not a Slack payload")
            return _plain(start_response, "400 Bad Request", b"malformed request\n")
        # Bolt reads the body again (and verifies it again): hand it the bytes already read.
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        started = time.perf_counter()
        try:
            answer = slack(environ, start_response)
            if self._metrics is not None:
                kind = _count_request(self._metrics, body, environ.get("CONTENT_TYPE"), parsed)
                self._metrics.ack(kind, time.perf_counter() - started)
            return answer
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            # Bolt could not read the request at all (listener errors never get here: they reach the
            # app's error handler); a body of a shape Slack never sends.
            log.warning("refused a signed request Bolt could not read", exc_info=True)
            return _plain(start_response, "400 Bad Request", b"malformed request\n")


class _BoltHandler(SlackRequestHandler):
    """Bolt's WSGI adapter, except that a form body is read as a form whenever it has no `payload`
    field: Bolt takes any body that merely contains the word (`/incident note the payload service is
    down`) for an interaction's `payload=…`, finds none and drops the command unanswered (404)."""

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        bolt = BoltRequest(body=request.get_body(), query=request.query_string, headers=request.get_headers())
        if not bolt.body and "payload" in bolt.raw_body and not bolt.raw_body.lstrip().startswith("{"):
            form = dict(parse_qsl(bolt.raw_body, keep_blank_values=True))
            if "payload" not in form:
                bolt.body = form
                bolt.context = build_context(BoltContext({}), form)
        return self.app.dispatch(bolt)


def _count_request(metrics: BotMetrics, body: bytes, content_type: str | None, parsed: object | None) -> str:
    """The request's kind (command, event, interaction), counting an event by its type; `parsed` is the
    body's JSON object when it was read as JSON already."""
    if (content_type or "").split(";")[0].strip() == "application/json":
        try:
            if parsed is None:
                parsed = json.loads(body)
            event = parsed.get("event") if isinstance(parsed, dict) else None
            event_type = event.get("type") if isinstance(event, dict) else None
        except ValueError:
            event_type = None
        metrics.event(str(event_type) if isinstance(event_type, str) else "other")
        return "event"
    if body.startswith(b"payload="):
        return "interaction"
    return "command" if b"command=" in body else "other"


def _read_payload(body: str, content_type: str | None) -> tuple[bool, object | None]:
    """Whether `body` reads, the way Bolt reads it, as one JSON object or a form (Slack sends nothing else),
    and the JSON object when it was read as one (so that it is not decoded twice)."""
    if not body:
        return False, None
    try:
        if (content_type or "").startswith("application/json") or body.startswith("{"):
            parsed = json.loads(body)
            return isinstance(parsed, dict), parsed
        form = dict(parse_qsl(body, keep_blank_values=True))
        if "payload" in form:
            payload = json.loads(form["payload"])
            return isinstance(payload, dict) and isinstance(payload.get("type"), str), None
        return "command" in form or "type" in form or "ssl_check" in form, None
    except ValueError:
        return False, None


def _plain(start_response: StartResponse, status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]
