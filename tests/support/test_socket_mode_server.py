"""FakeSocketModeServer against the real slack_sdk Socket Mode client, over loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from slack_sdk import WebClient
from slack_sdk.socket_mode import SocketModeClient
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from tests.support.socket_mode_server import FakeSocketModeServer

APP_TOKEN = "xapp-1-A0TEST-1-test"


class ConnectionsOpenStub(ThreadingHTTPServer):
    """Answers only apps.connections.open, with the fake Socket Mode server's URL."""

    def __init__(self, socket_mode_url: str) -> None:
        super().__init__(("127.0.0.1", 0), _ConnectionsOpenHandler)
        self.socket_mode_url = socket_mode_url
        self.authorizations: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/"


class _ConnectionsOpenHandler(BaseHTTPRequestHandler):
    server: ConnectionsOpenStub

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.authorizations.append(self.headers.get("Authorization", ""))
        if self.path == "/api/apps.connections.open":
            self._reply({"ok": True, "url": self.server.socket_mode_url})
        else:
            self._reply({"ok": False, "error": "unknown_method"})

    def _reply(self, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass  # Keep pytest output to what the test asserts.


@pytest.fixture
def socket_server() -> Iterator[FakeSocketModeServer]:
    server = FakeSocketModeServer().start()
    yield server
    server.stop()


@pytest.fixture
def web_api(socket_server: FakeSocketModeServer) -> Iterator[ConnectionsOpenStub]:
    stub = ConnectionsOpenStub(socket_server.url)
    thread = threading.Thread(target=stub.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield stub
    stub.shutdown()
    stub.server_close()
    thread.join(timeout=5)


@pytest.fixture
def socket_client(socket_server: FakeSocketModeServer, web_api: ConnectionsOpenStub) -> Iterator[SocketModeClient]:
    # No auto-reconnect: after the server stops, the client would otherwise keep dialling it.
    # A `disconnect` message still makes it reconnect, which is the path Slack actually uses.
    client = SocketModeClient(
        app_token=APP_TOKEN,
        web_client=WebClient(base_url=web_api.base_url),
        auto_reconnect_enabled=False,
    )
    yield client
    # Closing the server side first ends the client's blocking read, so close() returns in
    # well under a second instead of waiting out slack_sdk's internal poll timeouts.
    socket_server.stop()
    client.close()


def test_hello_then_envelope_then_ack_with_payload(
    socket_server: FakeSocketModeServer, web_api: ConnectionsOpenStub, socket_client: SocketModeClient
) -> None:
    seen: list[SocketModeRequest] = []

    def answer(client: BaseSocketModeClient, request: SocketModeRequest) -> None:
        seen.append(request)
        text = request.payload["text"]
        client.send_socket_mode_response(
            SocketModeResponse(envelope_id=request.envelope_id, payload={"text": f"Declared: {text}"})
        )

    socket_client.socket_mode_request_listeners.append(answer)
    socket_client.connect()

    assert socket_server.connected.wait(5)
    assert web_api.authorizations == [f"Bearer {APP_TOKEN}"]
    envelope_id = socket_server.send_envelope(
        "slash_commands", {"command": "/incident", "text": "sev2 checkout down", "user_id": "U123"}
    )

    ack = socket_server.wait_for_ack(envelope_id, timeout=5)

    assert ack == {"envelope_id": envelope_id, "payload": {"text": "Declared: sev2 checkout down"}}
    assert [(request.type, request.envelope_id) for request in seen] == [("slash_commands", envelope_id)]
    assert seen[0].accepts_response_payload is True


def test_wait_for_ack_times_out_when_the_client_never_acks(
    socket_server: FakeSocketModeServer, socket_client: SocketModeClient
) -> None:
    socket_client.connect()
    envelope_id = socket_server.send_envelope("events_api", {"event": {"type": "reaction_added"}})

    with pytest.raises(TimeoutError, match=envelope_id):
        socket_server.wait_for_ack(envelope_id, timeout=0.3)


def test_send_envelope_needs_a_connected_client(socket_server: FakeSocketModeServer) -> None:
    assert socket_server.url == f"ws://127.0.0.1:{socket_server.port}/link"
    with pytest.raises(TimeoutError):
        socket_server.send_envelope("slash_commands", {}, timeout=0.2)


def test_client_reconnects_when_asked_to(
    socket_server: FakeSocketModeServer, web_api: ConnectionsOpenStub, socket_client: SocketModeClient
) -> None:
    socket_client.connect()
    assert socket_server.connected.wait(5)

    socket_server.send_disconnect()

    socket_server.wait_for_connections(2, timeout=5)
    assert socket_server.connection_count == 2
    assert len(web_api.authorizations) == 2
