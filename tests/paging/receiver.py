"""A fake pager endpoint on loopback: it records every request and answers as it is told to."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

# How long a hung answer waits at most if the test never stops the receiver (it always does).
_HANG_LIMIT = 60.0


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes
    json: object | None


@dataclass(frozen=True)
class Scripted:
    status: int
    body: bytes
    headers: tuple[tuple[str, str], ...] = field(default=())
    hang: bool = False


class FakeReceiver:
    """Answers 202 with a PagerDuty/Opsgenie-like body unless told otherwise for the next requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[Recorded] = []
        self._script: deque[Scripted] = deque()
        self._release = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                scripted, count = owner._record(self)
                if scripted is not None and scripted.hang:
                    # Hold the connection without a word until the test is over; the client times out.
                    owner._release.wait(_HANG_LIMIT)
                    self.close_connection = True
                    return
                status, body, headers = (
                    (scripted.status, scripted.body, scripted.headers)
                    if scripted is not None
                    else (202, owner._default_body(count), ())
                )
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = _handle

            def log_message(self, format: str, *args: object) -> None:  # keep the test output quiet
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    def answer_next(
        self,
        *,
        status: int,
        body: bytes | Mapping[str, object] = b"",
        headers: Mapping[str, str] | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` requests with this status, body and headers."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        with self._lock:
            self._script.extend([Scripted(status, raw, tuple((headers or {}).items()))] * times)

    def hang_next(self, *, times: int = 1) -> None:
        """Read the next `times` requests and never answer them (until the receiver stops)."""
        with self._lock:
            self._script.extend([Scripted(0, b"", hang=True)] * times)

    def start(self) -> FakeReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def _record(self, handler: BaseHTTPRequestHandler) -> tuple[Scripted | None, int]:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        parts = urllib.parse.urlsplit(handler.path)
        try:
            parsed: object | None = json.loads(body) if body else None
        except ValueError:
            parsed = None
        recorded = Recorded(
            method=handler.command,
            path=parts.path,
            query=urllib.parse.parse_qs(parts.query),
            headers={name.lower(): value for name, value in handler.headers.items()},
            body=body,
            json=parsed,
        )
        with self._lock:
            self._requests.append(recorded)
            return (self._script.popleft() if self._script else None), len(self._requests)

    def _default_body(self, count: int) -> bytes:
        last = self.requests[count - 1].json
        dedup_key = last.get("dedup_key") if isinstance(last, dict) else None
        answer = {"status": "success", "message": "Event processed", "requestId": f"request-{count}"}
        if dedup_key is not None:
            answer["dedup_key"] = dedup_key
        return json.dumps(answer).encode("utf-8")


@contextmanager
def receiving() -> Iterator[FakeReceiver]:
    """A running receiver for the length of the block."""
    receiver = FakeReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def receiver() -> Iterator[FakeReceiver]:
    """A running receiver for the length of the test."""
    with receiving() as running:
        yield running
