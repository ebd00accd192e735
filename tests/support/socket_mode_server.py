"""A loopback WebSocket server speaking Slack's Socket Mode envelope protocol, for tests.

The real slack_sdk Socket Mode client connects to whatever URL `apps.connections.open` returns, so a
fake Web API answers that call with `FakeSocketModeServer.url` and the bot's Socket Mode path runs
unchanged: the test pushes envelopes (slash commands, events, interactions) and reads back the acks.
Stop the server before closing the client: the client's read then ends at once and close() is quick.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

APP_ID = "A0TEST"


class FakeSocketModeServer:
    """One Socket Mode endpoint on 127.0.0.1; the most recent client connection receives envelopes."""

    def __init__(self, *, app_id: str = APP_ID, close_timeout: float = 2.0) -> None:
        self.app_id = app_id
        # Set while a client is connected and has been sent `hello`; cleared when it goes away.
        self.connected = threading.Event()
        # Every JSON message clients sent, in order, for tests that care about more than acks.
        self.received: list[dict[str, Any]] = []
        self._close_timeout = close_timeout
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._connection: ServerConnection | None = None
        self._connection_count = 0
        # One condition guards the connection, the acks and `received`, so waiters wake on any change.
        self._state = threading.Condition()
        self._acks: dict[str, dict[str, Any]] = {}
        # websockets' sync send is not meant to be shared between threads without coordination.
        self._send_lock = threading.Lock()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSocketModeServer.start() has not been called")
        port: int = self._server.socket.getsockname()[1]
        return port

    @property
    def connection_count(self) -> int:
        """How many times a client has connected; a reconnect makes it grow."""
        with self._state:
            return self._connection_count

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link"

    def start(self) -> FakeSocketModeServer:
        if self._server is not None:
            raise RuntimeError("FakeSocketModeServer is already running")
        self._server = serve(self._handle, "127.0.0.1", 0, close_timeout=self._close_timeout)
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-socket-mode-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        # shutdown() closes open connections with 1001 (going away), as Slack does on maintenance.
        self._server.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeSocketModeServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def send_envelope(
        self,
        type: str,
        payload: dict[str, Any],
        *,
        accepts_response_payload: bool = True,
        timeout: float = 5.0,
    ) -> str:
        """Push one envelope (e.g. type "slash_commands", "events_api", "interactive"); return its id."""
        envelope_id = str(uuid.uuid4())
        envelope = {
            "envelope_id": envelope_id,
            "type": type,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        }
        self._send(envelope, timeout=timeout)
        return envelope_id

    def send_disconnect(self, reason: str = "refresh_requested", *, timeout: float = 5.0) -> None:
        """Ask the client to reconnect, as Slack does before recycling a connection."""
        self._send({"type": "disconnect", "reason": reason, "debug_info": {"host": "fake-applink"}}, timeout=timeout)

    def wait_for_connections(self, count: int, timeout: float = 5.0) -> None:
        """Block until clients have connected `count` times in total (reconnects included)."""
        with self._state:
            if not self._state.wait_for(lambda: self._connection_count >= count, timeout=timeout):
                raise TimeoutError(f"{self._connection_count} of {count} connections within {timeout}s")

    def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The client's acknowledgement of `envelope_id`, including any response `payload`."""
        with self._state:
            if not self._state.wait_for(lambda: envelope_id in self._acks, timeout=timeout):
                raise TimeoutError(f"no ack for envelope {envelope_id} within {timeout}s")
            return self._acks[envelope_id]

    def _send(self, message: dict[str, Any], *, timeout: float) -> None:
        # Envelopes sent before the client has its hello would be lost or confuse it, so wait.
        if not self.connected.wait(timeout):
            raise TimeoutError(f"no Socket Mode client connected within {timeout}s")
        with self._state:
            connection = self._connection
        if connection is None:
            raise ConnectionError("the Socket Mode client disconnected")
        with self._send_lock:
            connection.send(json.dumps(message))

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "fake-applink", "build_number": 1, "approximate_connection_time": 18060},
            "connection_info": {"app_id": self.app_id},
        }

    def _handle(self, connection: ServerConnection) -> None:
        with self._send_lock:
            connection.send(json.dumps(self._hello()))
        with self._state:
            self._connection = connection
            self._connection_count += 1
            self._state.notify_all()
        self.connected.set()
        try:
            for raw in connection:
                self._record(raw)
        except ConnectionClosed:
            pass  # The client went away; the cleanup below is all that is needed.
        finally:
            with self._state:
                if self._connection is connection:
                    self._connection = None
                    self.connected.clear()
                self._state.notify_all()

    def _record(self, raw: str | bytes) -> None:
        message = json.loads(raw)
        if not isinstance(message, dict):
            return
        with self._state:
            self.received.append(message)
            envelope_id = message.get("envelope_id")
            if isinstance(envelope_id, str):
                self._acks[envelope_id] = message
            self._state.notify_all()
