"""Logging for a person's terminal or a log pipeline: `LOG_LEVEL`, and `LOG_FORMAT=json` for one JSON
object per line (time, level, logger, message, and where there is one the job being run and its
incident, or the Slack request being answered)."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from datetime import UTC, datetime

from bot.core.jobs import current_job
from bot.core.requests import current_request

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that narrate what the bot already says in its own words, at the default level.
_CHATTY = {"alembic": logging.WARNING, "slack_sdk.web.base_client": logging.CRITICAL}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        job = current_job.get()
        if job is not None:
            entry["job_id"] = job.id
            if job.incident_id is not None:
                entry["incident_id"] = job.incident_id
        elif (request := current_request.get()) is not None:
            entry["request_id"] = request
        for key in ("incident_id", "request_id"):
            if (value := getattr(record, key, None)) is not None:
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _DropUnusedTokenWarning(logging.Filter):
    """Bolt warns that SLACK_BOT_TOKEN "will be unused" because the bot hands it a client built from it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be unused" not in record.getMessage()


def configure_logging(environ: Mapping[str, str] | None = None) -> str | None:
    """Set up the root logger from LOG_LEVEL and LOG_FORMAT; returns a problem to report, if any."""
    env = os.environ if environ is None else environ
    found = {key.upper(): value for key, value in env.items()}
    problem = None
    level_name = (found.get("LOG_LEVEL") or "INFO").strip().upper()
    level = logging.getLevelNamesMapping().get(level_name)
    if level is None:
        problem = f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level_name!r}; using INFO"
        level = logging.INFO
    style = (found.get("LOG_FORMAT") or "text").strip().lower()
    if style not in ("text", "json"):
        problem = f"LOG_FORMAT must be text or json, not {style!r}; using text"
        style = "text"
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if style == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    if level > logging.DEBUG:
        for name, quiet in _CHATTY.items():
            logging.getLogger(name).setLevel(quiet)
    logging.getLogger("bot.bolt").addFilter(_DropUnusedTokenWarning())
    return problem
