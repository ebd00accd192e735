"""`incident-bot doctor`: a configuration checked against the live workspace, one line per check.

The checks that need no network beyond Slack's `conversations.info` also run when `serve` starts;
they live in `bot.ops.startup_checks`, so that `serve` does not load this module.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import ConfigError, Settings, read_owner_map
from bot.core.checks import Check
from bot.core.models import ActionItem, Incident, IncidentStatus, Severity, TimelineEntry, TimelineKind
from bot.ops.startup_checks import channel_check, channels, docs_repo_checks
from bot.slack.scopes import BOT_SCOPES

if TYPE_CHECKING:
    import jinja2

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def run_doctor(settings: Settings) -> list[Check]:
    """Every check, in the order a person fixes them: Slack, the database, the docs repo, the rest."""
    client = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url)
    checks = _slack(client, settings)
    if settings.slack_app_token is not None:
        checks.append(_socket_mode(settings))
    else:
        checks.append(Check("Socket Mode (SLACK_APP_TOKEN)", True, "not set: Slack reaches the bot over HTTP"))
    slack_ok = checks[0].ok
    for variable, channel in channels(settings):
        checks.append(channel_check(client if slack_ok else None, variable, channel))
    checks.append(_database(settings.database_url))
    checks += _docs_repo(settings)
    checks.append(incident_policy_check(settings.incident_policy, _level_names(settings)))
    checks.append(template_check(settings.templates_dir))
    checks.append(_owner_map(settings, client if slack_ok else None))
    return checks


def _slack(client: WebClient, settings: Settings) -> list[Check]:
    name = "Slack (SLACK_BOT_TOKEN)"
    try:
        answer = client.auth_test()
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else "no answer"
        return [Check(name, False, f"auth.test failed: {code}", "copy the Bot User OAuth Token (xoxb-…) again")]
    except (SlackClientError, OSError) as error:
        return [
            Check(name, False, f"cannot reach {settings.slack_api_url}: {error}", "check the network or SLACK_API_URL")
        ]
    found = [Check(name, True, f"the bot is @{answer.get('user')} in {answer.get('team')}")]
    header = next((v for k, v in (answer.headers or {}).items() if k.lower() == "x-oauth-scopes"), None)
    if header is None:
        found.append(Check("scopes", False, "Slack did not say which scopes the token has", "reinstall the app"))
        return found
    granted = {scope.strip() for scope in str(header).split(",") if scope.strip()}
    missing = sorted(set(BOT_SCOPES) - granted)
    if missing:
        why = "; ".join(f"{scope} ({BOT_SCOPES[scope]})" for scope in missing)
        fix = "add them under OAuth & Permissions (or from manifest.yml) and reinstall the app"
        found.append(Check("scopes", False, f"missing {why}", fix))
    else:
        found.append(Check("scopes", True, f"all {len(BOT_SCOPES)} the features need"))
    return found


def _socket_mode(settings: Settings) -> Check:
    name = "Socket Mode (SLACK_APP_TOKEN)"
    assert settings.slack_app_token is not None
    client = WebClient(base_url=settings.slack_api_url)
    try:
        client.apps_connections_open(app_token=settings.slack_app_token.get_secret_value())
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else "no answer"
        return Check(
            name, False, f"apps.connections.open failed: {code}", "make an app-level token with connections:write"
        )
    except (SlackClientError, OSError) as error:
        return Check(name, False, f"cannot reach Slack: {error}", "check the network")
    return Check(name, True, "the app-level token may open a connection (connections:write)")


def _database(url: str) -> Check:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.startup import database_where
    from bot.storage import create_engine_for
    from bot.storage.migrate import current_revision, head_revision

    name = "database (DATABASE_URL)"
    try:
        engine = create_engine_for(url)
    except Exception:  # noqa: BLE001 - any reason the URL is unusable is this one finding
        return Check(name, False, "not a database URL the bot knows", "e.g. sqlite:///incident-bot.db")
    try:
        current, head = current_revision(engine), head_revision()
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return Check(
            name, False, f"cannot connect to {database_where(url)}: {reason}", "check that it runs and the URL"
        )
    finally:
        engine.dispose()
    if current != head:
        return Check(
            name, False, f"{database_where(url)} is at {current or 'no schema'}, not {head}", "incident-bot migrate"
        )
    return Check(name, True, f"{database_where(url)}, schema current ({head})")


def _docs_repo(settings: Settings) -> list[Check]:
    """The docs repo with its remote, then the runbook in it and its Severity Guide."""
    from bot.publish import GitPublisher

    found = docs_repo_checks(settings, network=True)
    if found[0].ok and settings.docs_repo_path and settings.runbook_path:
        text = GitPublisher(settings.docs_repo_path).read(settings.runbook_path)
        found.append(
            Check("runbook (RUNBOOK_PATH)", True, f"{settings.runbook_path} is in the repo")
            if text is not None
            else Check("runbook (RUNBOOK_PATH)", False, f"{settings.runbook_path} is not in the repo", "fix the path")
        )
        if text is not None:
            found.append(severity_guide_check(text, settings.runbook_path))
    return found


def severity_guide_check(text: str, path: str) -> Check:
    """The runbook's Severity Guide table reads as levels (else the bot keeps its last good ones)."""
    from bot.core.policy import PolicyError, parse_severity_guide

    name = "severity guide (RUNBOOK_PATH)"
    try:
        levels = parse_severity_guide(text=text, path=path)
    except PolicyError as error:
        where = "; ".join(str(problem) for problem in error.problems)
        return Check(name, False, where, "fix the `## Severity Guide` table; the bot keeps its last good levels")
    return Check(name, True, "levels " + ", ".join(level.name for level in levels))


def incident_policy_check(path: str | None, level_names: Sequence[str]) -> Check:
    """INCIDENT_POLICY reads, and every level it escalates is a level of the severity guide."""
    from bot.core.policy import normalise_level
    from bot.policy_file import load_incident_policy_file

    name = "incident policy (INCIDENT_POLICY)"
    if not path:
        return Check(name, True, "not set: the built-in escalation (and SEV1_ESCALATION_USERS)")
    try:
        policy = load_incident_policy_file(path)
    except ConfigError as error:
        return Check(name, False, str(error), "fix the file; `serve` refuses to start with it")
    unknown = sorted(level for level in policy.escalation if (normalise_level(level) or level) not in level_names)
    if unknown:
        return Check(
            name,
            False,
            f"{', '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} not in the severity guide "
            f"({', '.join(level_names)}), so {'its' if len(unknown) == 1 else 'their'} escalation is never used",
            "add the level to the runbook's `## Severity Guide` table, or remove it from the file",
        )
    return Check(name, True, f"{path}: escalation for " + (", ".join(policy.escalation) or "no levels"))


def _level_names(settings: Settings) -> list[str]:
    """The severity guide's levels in force: the runbook's when it reads, else the built-in ones."""
    from bot.core.policy import BUILT_IN_LEVELS, PolicyError, parse_severity_guide
    from bot.core.ports import PublishError
    from bot.publish import GitPublisher

    if settings.docs_repo_path and settings.runbook_path and Path(settings.docs_repo_path).is_dir():
        try:
            text = GitPublisher(settings.docs_repo_path).read(settings.runbook_path)
            if text is not None:
                return [level.name for level in parse_severity_guide(text=text, path=settings.runbook_path)]
        except (PolicyError, PublishError):
            pass  # reported by the severity guide's own check; the built-in levels stand in
    return [level.name for level in BUILT_IN_LEVELS]


def template_check(templates_dir: str | None) -> Check:
    """TEMPLATES_DIR exists, and its rca.md.j2 (or the shipped one) renders a sample incident."""
    from bot.container import rca_templates
    from bot.core.rca import RCA_TEMPLATE

    name = "RCA template (TEMPLATES_DIR)"
    if templates_dir and not Path(templates_dir).is_dir():
        return Check(name, False, f"{templates_dir} is not a folder", "create it, or unset TEMPLATES_DIR")
    environment = rca_templates(templates_dir)
    import jinja2

    try:
        _render_sample(environment)
    except jinja2.TemplateSyntaxError as error:
        where = f"{error.filename or error.name}:{error.lineno}"
        return Check(name, False, f"{where}: {error.message}", "fix the template's syntax there")
    except Exception as error:  # noqa: BLE001 - whatever the template does wrong, it is named with its line
        return Check(name, False, f"{_template_line(error)}: {error}", "fix the template there")
    source = environment.get_template(RCA_TEMPLATE).filename
    return Check(name, True, f"{source} renders a sample incident")


def _template_line(error: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.endswith(".j2")]
    return f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "the template"


def _render_sample(environment: jinja2.Environment) -> str:
    from bot.core.rca import render_rca

    declared = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    incident = Incident(
        id=1,
        title="Sample incident",
        severity=Severity.SEV1,
        status=IncidentStatus.RESOLVED,
        commander_id="U0SAMPLE",
        declared_by="U0SAMPLE",
        declared_at=declared,
        resolved_at=declared + timedelta(hours=1),
        summary="What happened.",
    )
    entry = TimelineEntry(
        id=1,
        incident_id=1,
        kind=TimelineKind.NOTE,
        occurred_at=declared + timedelta(minutes=5),
        author_id="U0SAMPLE",
        text="A note",
    )
    item = ActionItem(
        id=1,
        incident_id=1,
        number=1,
        action="Do the thing",
        owner_id="U0SAMPLE",
        created_at=declared,
        updated_at=declared,
    )
    return render_rca(
        incident=incident,
        timeline=[entry],
        action_items=[item],
        names={"U0SAMPLE": "sample"},
        summary="What happened.",
        root_causes="Why.",
        resolution="How it was fixed.",
        lessons="What we learned.",
        templates=environment,
    )


def _owner_map(settings: Settings, client: WebClient | None) -> Check:
    name = "owner map (OWNER_MAP)"
    if not settings.owner_map:
        return Check(name, True, "not set: owners are matched by their Slack names")
    try:
        owners = read_owner_map(settings.owner_map)
    except ConfigError as error:
        return Check(name, False, str(error).removeprefix("Invalid configuration: "), "fix the file")
    bad = sorted(user for user in owners.values() if not _USER_ID.match(user))
    if bad:
        return Check(name, False, f"not Slack user IDs: {', '.join(bad)}", "map each name to an ID such as U0123")
    if client is not None:
        unknown = []
        for user in sorted(set(owners.values())):
            try:
                client.users_info(user=user)
            except SlackApiError:
                unknown.append(user)
            except (SlackClientError, OSError):
                break
        if unknown:
            return Check(name, False, f"no such Slack users: {', '.join(unknown)}", "fix the IDs")
    return Check(name, True, f"{len(owners)} name(s) mapped to Slack users")
