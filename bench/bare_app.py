"""The baseline: a bare Bolt app that only acks, served by waitress with 8 threads like the bot.

`python -m bench.bare_app --port N --secret S` prints "listening on http://127.0.0.1:N" once it serves
`/slack/events` (an `/incident` command that only calls `ack()`, a `reaction_added` listener that does
nothing) and `/healthz`. `--api-url` points its client at the fake Slack (Bolt calls auth.test once).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

StartResponse = Callable[..., Any]


def build_app(secret: str, api_url: str) -> App:
    app = App(signing_secret=secret, token="xoxb-bench", token_verification_enabled=False, process_before_response=True)
    # Bolt asks auth.test once, on the first request: the fake Slack answers it, as it does the bot's.
    app.client.base_url = api_url

    @app.command("/incident")
    def incident(ack: Ack) -> None:
        ack()

    @app.event("reaction_added")
    def reaction_added() -> None:
        return None

    return app


def wsgi(app: App) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    slack = SlackRequestHandler(app, path="/slack/events")

    def serve(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
            return [b"ok\n"]
        return slack(environ, start_response)

    return serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench.bare_app")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--api-url", default="http://127.0.0.1:9/api/", help="the (fake) Slack Web API")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    server = create_server(
        wsgi(build_app(args.secret, args.api_url)), host="127.0.0.1", port=args.port, threads=8, ident="bare"
    )
    print(f"bare app listening on http://127.0.0.1:{server.effective_port} (health: /healthz)", flush=True)
    server.run()


if __name__ == "__main__":
    main()
