"""Settings from the environment, validated once at start."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


DEFAULT_DATABASE_URL = "sqlite:///incident-bot.db"


class DatabaseSettings(BaseSettings):
    """Just the database, for `incident-bot migrate` (e.g. in an init container without Slack secrets)."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL


def load_database_url(environ: Mapping[str, str] | None = None) -> str:
    """DATABASE_URL from `environ` (default: the process environment), or the SQLite default."""
    if environ is None:
        return DatabaseSettings().database_url
    found = {key.upper(): value for key, value in environ.items()}.get("DATABASE_URL")
    return found or DEFAULT_DATABASE_URL


class Settings(BaseSettings):
    """Every knob of the bot; names are the environment variables, upper-cased."""

    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr
    slack_app_token: SecretStr | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    incident_announce_channel: str | None = None
    sev1_escalation_users: Annotated[list[str], NoDecode] = Field(default_factory=list)
    incident_admins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    timeline_emoji: str = "pushpin"
    docs_repo_path: str | None = None
    docs_repo_web_url: str | None = None
    incidents_dir: str = "DOCS/incidents"
    fleet_status_path: str = "fleet-status.md"
    runbook_path: str | None = None
    timezone: str = "UTC"
    templates_dir: str | None = None
    git_author_name: str = "incident-bot"
    git_author_email: str = "incident-bot@users.noreply.github.com"
    reminder_time: time = time(9, 0)
    briefing_time: time = time(9, 0)
    briefing_channel: str | None = None
    # The weekly digest (the week's numbers and charts): when, and where (default BRIEFING_CHANNEL).
    digest_time: str = "Monday 09:00"
    digest_channel: str | None = None
    owner_map: str | None = None
    # How often `serve` checks who is due a reminder or the briefing; 0 leaves it to cron.
    daily_check_seconds: float = Field(default=300.0, ge=0)
    # 0 makes a web-only replica; another process (or replica) runs the queued work.
    worker_threads: int = Field(default=2, ge=0, le=16)
    # Where the processes of one host keep their shared pacing of Slack calls (default: a private
    # folder in the temp dir); "off" paces each process on its own.
    pacing_dir: str | None = None
    # On SIGTERM, how long running jobs may take to finish before their leases are given back.
    stop_grace_seconds: float = Field(default=20.0, ge=0, le=600)
    # A YAML file naming, per level, who is invited, DMed, which groups are mentioned, paging, cadence.
    incident_policy: str | None = None
    # Status-update cadence per level in minutes, e.g. "SEV-1=30,SEV-2=120" (wins over INCIDENT_POLICY).
    status_update_minutes: str | None = None
    # Paging for the levels that page (SEV-1): any of these, or several at once.
    pagerduty_routing_key: SecretStr | None = None
    pagerduty_events_url: str = "https://events.pagerduty.com/v2/enqueue"
    opsgenie_api_key: SecretStr | None = None
    opsgenie_api_url: str = "https://api.opsgenie.com"
    paging_webhook_url: str | None = None
    paging_webhook_secret: SecretStr | None = None
    # Days after a resolve that the incident's channel is archived (fractions allowed); 0: never.
    archive_after_days: float = Field(default=7.0, ge=0, allow_inf_nan=False)

    @field_validator("sev1_escalation_users", "incident_admins", mode="before")
    @classmethod
    def _split_users(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("timeline_emoji")
    @classmethod
    def _bare_emoji(cls, value: str) -> str:
        name = value.strip().strip(":")
        if not name or " " in name:
            raise ValueError("must be an emoji name such as pushpin")
        return name

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin") from None
        return value

    @field_validator("digest_time")
    @classmethod
    def _weekly_time(cls, value: str) -> str:
        from bot.core.digest import parse_weekly_time

        return str(parse_weekly_time(value))  # ValueError names the expected form

    @field_validator("incidents_dir", "fleet_status_path", "runbook_path")
    @classmethod
    def _inside_repo(cls, value: str | None) -> str | None:
        if value is None:
            return None
        cleaned = value.strip().strip("/")
        if not cleaned or ".." in cleaned.split("/") or "\\" in cleaned:
            raise ValueError("must be a path inside the docs repo, such as DOCS/incidents")
        return cleaned

    @field_validator(
        "incident_announce_channel",
        "slack_app_token",
        "docs_repo_path",
        "docs_repo_web_url",
        "runbook_path",
        "templates_dir",
        "pacing_dir",
        "pagerduty_routing_key",
        "opsgenie_api_key",
        "incident_policy",
        "status_update_minutes",
        "paging_webhook_url",
        "paging_webhook_secret",
        "digest_channel",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value


def read_owner_map(path: str | None) -> dict[str, str]:
    """OWNER_MAP: a YAML mapping of owner names (as written in RCAs) to Slack user IDs."""
    if not path:
        return {}
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except OSError as error:
        raise ConfigError(f"Invalid configuration: OWNER_MAP cannot be read ({error})") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"Invalid configuration: OWNER_MAP is not valid YAML ({error})") from None
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError("Invalid configuration: OWNER_MAP must map names to Slack user IDs, e.g. `matt: U0123`")
    return {str(key): value for key, value in data.items()}


def read_update_minutes(text: str | None) -> dict[str, float]:
    """STATUS_UPDATE_MINUTES as minutes per level."""
    from bot.core.policy import parse_update_minutes

    try:
        return parse_update_minutes(text) if text else {}
    except ValueError as error:
        raise ConfigError(f"Invalid configuration: STATUS_UPDATE_MINUTES {error}") from None


class _ExplicitSettings(Settings):
    """Settings from an explicit mapping only: the process environment is not consulted."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class ConfigError(Exception):
    """Configuration that cannot start the bot; the message names each bad variable."""


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Build Settings from `environ` (default: the process environment) plus explicit overrides."""
    try:
        if environ is None:
            return Settings(**overrides)  # type: ignore[arg-type]
        lowered = {key.lower(): value for key, value in environ.items() if key.lower() in Settings.model_fields}
        return _ExplicitSettings(**{**lowered, **overrides})  # type: ignore[arg-type]
    except ValidationError as error:
        problems = []
        for issue in error.errors():
            name = str(issue["loc"][0]).upper() if issue["loc"] else "configuration"
            reason = "is required but not set" if issue["type"] == "missing" else issue["msg"]
            problems.append(f"{name} {reason}")
        raise ConfigError("Invalid configuration: " + "; ".join(problems)) from None
