"""The checks `serve` makes before it takes requests: the doctor's checks that need no network beyond
Slack's `conversations.info`, so that what would otherwise surface only at the first resolve, in the
middle of an incident, stops the bot at once with its fix. The rest of the doctor (`bot.ops.doctor`)
is loaded by `incident-bot doctor` only.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.core.checks import Check

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.config import Settings

_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


def startup_problems(settings: Settings, client: WebClient) -> list[Check]:
    """The checks `serve` makes before it takes requests (no git network: a remote that is down for a
    while must not keep the bot from running an incident; publishing retries)."""
    found = [check for check in docs_repo_checks(settings, network=False) if not check.ok]
    if settings.templates_dir:  # the shipped template is tested; rendering it at start would load Jinja
        from bot.ops.doctor import template_check

        template = template_check(settings.templates_dir)
        if not template.ok:
            found.append(template)
    for variable, channel in channels(settings):
        check = channel_check(client, variable, channel)
        if not check.ok:
            found.append(check)
    return found


def channels(settings: Settings) -> list[tuple[str, str]]:
    """The channels the settings name, with the variable that names each."""
    pairs = [
        ("INCIDENT_ANNOUNCE_CHANNEL", settings.incident_announce_channel),
        ("BRIEFING_CHANNEL", settings.briefing_channel),
        ("DIGEST_CHANNEL", settings.digest_channel),
    ]
    return [(variable, value) for variable, value in pairs if value]


def channel_check(client: WebClient | None, variable: str, channel: str) -> Check:
    """The channel is an ID, exists, is not archived, and the bot may post there."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    if not _CHANNEL_ID.match(channel):
        return Check(
            variable,
            False,
            f"{channel!r} is not a channel ID",
            "use the channel's ID (C0123…, at the bottom of its About tab), not its name",
        )
    if client is None:
        return Check(variable, False, f"{channel}: not checked, Slack is not reachable", "fix the Slack check first")
    try:
        info = client.conversations_info(channel=channel)["channel"]
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else "no answer"
        fix = "check the ID; for a private channel, /invite the bot there"
        return Check(variable, False, f"{channel}: conversations.info said {code}", fix)
    except (SlackClientError, OSError) as error:
        return Check(variable, False, f"{channel}: {error}", "check the network")
    label = f"#{info.get('name', channel)}"
    if info.get("is_archived"):
        return Check(variable, False, f"{label} is archived", "unarchive it or pick another channel")
    if info.get("is_member"):
        return Check(variable, True, f"{label}; the bot is a member")
    if info.get("is_private") or info.get("is_im") or info.get("is_mpim"):
        return Check(variable, False, f"{label} is private and the bot is not in it", f"/invite the bot to {label}")
    return Check(variable, True, f"{label}; the bot may post there without joining (chat:write.public)")


def docs_repo_checks(settings: Settings, *, network: bool) -> list[Check]:
    """DOCS_REPO_PATH is a clone the bot can publish to (with `network`, its remote is reached too)."""
    from bot.publish import GitPublisher

    if not settings.docs_repo_path:
        return [
            Check(
                "docs repo (DOCS_REPO_PATH)",
                not network,  # fine for start-up (the bot still runs the incident), a finding for the doctor
                "not set: RCAs are not committed anywhere",
                "set DOCS_REPO_PATH to a clone of the team's docs repo",
            )
        ]
    return GitPublisher(settings.docs_repo_path).diagnose(network=network)
