"""Start-up checks that fail fast: each problem is one line naming the variable, what was tried and the fix."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.error import URLError

from sqlalchemy import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError

from bot.config import ConfigError
from bot.storage import create_engine_for, migrate

if TYPE_CHECKING:
    from slack_sdk import WebClient

DATABASE_EXAMPLES = "sqlite:///incident-bot.db or postgresql+psycopg://user:password@host:5432/incidents"


def open_database(url: str) -> Engine:
    """An engine for DATABASE_URL with its schema migrated, or a ConfigError naming what is wrong."""
    try:
        engine = create_engine_for(url)
    except (ArgumentError, NoSuchModuleError, ImportError, ValueError):
        raise ConfigError(
            f"Invalid configuration: DATABASE_URL is not a database URL the bot knows; use {DATABASE_EXAMPLES}"
        ) from None
    where = database_where(url)
    try:
        migrate(engine)
    except OperationalError as error:
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise ConfigError(
            f"Cannot use the database at DATABASE_URL ({where}): {reason}. "
            "Check that it is running and reachable from here, and the user, password and database name."
        ) from None
    except DBAPIError as error:
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise ConfigError(f"The database at DATABASE_URL ({where}) refused the bot: {reason}.") from None
    return engine


def bot_user_id(client: WebClient, api_url: str) -> str:
    """Who the bot is (auth.test), or a ConfigError that tells an unreachable Slack from a refused token."""
    from slack_sdk.errors import SlackApiError, SlackClientError  # not for the commands without Slack

    try:
        answer = client.auth_test()
    except SlackApiError as error:
        status = error.response.status_code if error.response is not None else 0
        code = error.response.get("error") if error.response is not None else None
        if status not in (0, 200) or not isinstance(code, str) or code.startswith("Received a response in a non-JSON"):
            code = None
        if code in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"):
            raise ConfigError(
                f"Slack refused SLACK_BOT_TOKEN ({code}): copy the Bot User OAuth Token (xoxb-…) "
                "from the app's OAuth & Permissions page."
            ) from None
        if code is None:
            raise ConfigError(
                f"SLACK_API_URL ({api_url}) did not answer like Slack's Web API (HTTP {status}, not Slack's JSON): "
                "leave it unset for Slack itself, or point it at an address ending in /api/."
            ) from None
        raise ConfigError(f"Slack refused auth.test at SLACK_API_URL ({api_url}): {code}.") from None
    except (URLError, SlackClientError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise ConfigError(
            f"Cannot reach Slack at SLACK_API_URL ({api_url}): {reason}. "
            "Check the network (and any proxy) from here, or SLACK_API_URL if it is set."
        ) from None
    user_id = answer.get("user_id")
    if not isinstance(user_id, str):
        raise ConfigError(f"SLACK_API_URL ({api_url}) answered auth.test without a user id: is it Slack?")
    return user_id


def database_where(url: str) -> str:
    """The database's address without its password."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "?"
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or "in memory"
    return parsed.render_as_string(hide_password=True)
