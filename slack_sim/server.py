"""HTTP plumbing for the fake Slack: a threaded server on 127.0.0.1.

``/api/<method>`` answers Web API calls; ``/response/<id>`` receives what the
app posts to response_urls; ``/upload/v1/<ticket>`` the bytes of a file upload.
Everything else is a 404.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from slack_sim import api, interactions, methods_files
from slack_sim.state import Workspace


class SimulatorServer(ThreadingHTTPServer):
    """Serves one workspace; request threads are daemons so a stuck client never blocks exit."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.workspace = workspace
        self._thread: threading.Thread | None = None

    @property
    def base_http(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> None:
        self.workspace.upload_base = self.base_http
        self._thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-slack", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _form(data: str) -> dict[str, Any]:
    # Slack treats a repeated key as its last value.
    return {key: values[-1] for key, values in parse_qs(data, keep_blank_values=True).items()}


class _Handler(BaseHTTPRequestHandler):
    server: SimulatorServer
    server_version = "FakeSlack/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        # Request logs would drown test output; calls are recorded in the workspace instead.
        return None

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def _route(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        if url.path.startswith("/api/"):
            self._api(url.path[len("/api/") :], url.query, body)
        elif url.path.startswith("/response/") and self.command == "POST":
            self._response_url(url.path[len("/response/") :], body)
        elif url.path.startswith(methods_files.UPLOAD_PATH) and self.command == "POST":
            self._upload(url.path[len(methods_files.UPLOAD_PATH) :], body)
        else:
            self._send(404, b"Not Found", "text/plain; charset=utf-8")

    def _api(self, method: str, query: str, body: bytes) -> None:
        args = _form(query)
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        text = body.decode("utf-8", errors="replace")
        if content_type == "application/json" and text.strip():
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                self._send_json(200, {"ok": False, "error": "invalid_json"})
                return
            args.update(parsed)
        elif content_type == "application/x-www-form-urlencoded" or (text and not content_type):
            args.update(_form(text))
        reply = api.handle(self.server.workspace, method, args, self.headers.get("Authorization"))
        self._send_json(reply.status, reply.body, reply.headers)

    def _response_url(self, url_id: str, body: bytes) -> None:
        try:
            payload: Any = json.loads(body.decode("utf-8")) if body else None
        except ValueError:
            payload = None
        workspace = self.server.workspace
        with workspace.lock:
            status, text = interactions.post_response(workspace, url_id, payload)
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    def _upload(self, ticket: str, body: bytes) -> None:
        workspace = self.server.workspace
        with workspace.lock:
            status, text = methods_files.receive_upload(workspace, ticket, body, self.headers.get("Content-Type") or "")
        self._send(status, text.encode(), "text/plain; charset=utf-8")

    def _send_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(body).encode(), "application/json; charset=utf-8", headers)

    def _send(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)
