"""The baseline: a bare Bolt app that only acks, served by waitress with 8 threads like the bot.

`python -m bench.bare_app --port N --secret S` prints "listening on http://127.0.0.1:N" once it serves
`/slack/events` (an `/incident` command that only calls `ack()`, a `reaction_added` listener that does
nothing) and `/healthz`. `--api-url` points its client at the fake Slack (Bolt calls auth.test once).

`--store URL` makes the second baseline: the same app, except that each command and each reaction
first stores one row through SQLAlchemy Core (the bot's database layer) in a transaction of its own,
and the command answers with a line of text, as the bot does. It is the least a bot that loses no
note can do before its ack: what the bot costs beyond it is the bot's own work.
"""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress.server import create_server

StartResponse = Callable[..., Any]


def build_app(secret: str, api_url: str, store: Callable[[str], None] | None = None) -> App:
    app = App(signing_secret=secret, token="xoxb-bench", token_verification_enabled=False, process_before_response=True)
    # Bolt asks auth.test once, on the first request: the fake Slack answers it, as it does the bot's.
    app.client.base_url = api_url

    @app.command("/incident")
    def incident(ack: Ack, command: dict[str, Any]) -> None:
        if store is None:
            ack()
            return
        store(str(command.get("text", "")))
        ack(text="Added to the timeline.")

    @app.event("reaction_added")
    def reaction_added(event: dict[str, Any]) -> None:
        if store is not None:
            store(str(event.get("reaction", "")))

    return app


def row_store(url: str) -> Callable[[str], None]:
    """Store one row per call, each in its own committed transaction (SQLite: WAL, one writer at a time
    in this process, synchronous=NORMAL, as the bot runs it)."""
    from sqlalchemy import Column, Integer, MetaData, Table, Text, create_engine, event, insert

    engine = create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:

        @event.listens_for(engine, "connect")
        def pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    rows = Table("bare_rows", MetaData(), Column("id", Integer, primary_key=True), Column("text", Text))
    rows.metadata.create_all(engine)
    statement = insert(rows)
    writer = threading.Lock() if sqlite else None

    def store(text: str) -> None:
        if writer is None:
            with engine.begin() as conn:
                conn.execute(statement, {"text": text})
            return
        with writer, engine.begin() as conn:
            conn.execute(statement, {"text": text})

    return store


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
    parser.add_argument("--store", metavar="URL", help="store a row in this database before each ack")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    store = row_store(args.store) if args.store else None
    server = create_server(
        wsgi(build_app(args.secret, args.api_url, store)), host="127.0.0.1", port=args.port, threads=8, ident="bare"
    )
    print(f"bare app listening on http://127.0.0.1:{server.effective_port} (health: /healthz)", flush=True)
    server.run()


if __name__ == "__main__":
    main()
