"""Pure Block Kit builders: every message and modal the bot shows."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.core.models import Incident, Severity, TimelineEntry, known_severities
from bot.core.roles import COMMANDER, DEFAULT_ROLES, Role, commander_first
from bot.core.status_updates import timeline_text
from bot.slack.text import as_mrkdwn, as_plain, clip, humanize_age, slack_date, user

Block = dict[str, Any]

# action_id / callback_id values the listeners match on.
CHANGE_SEVERITY = "incident_change_severity"
ADD_ACTION_ITEM = "incident_add_action_item"
RESOLVE = "incident_resolve"
ASSIGN_ROLE = "incident_assign_role"
DECLARE_VIEW = "declare_incident"
SEVERITY_VIEW = "change_severity"
PICK_INCIDENT_VIEW = "shortcut_pick_incident"

SECTION_LIMIT = 3000
MAX_MESSAGE_BLOCKS = 50
# Slack allows ten fields in a section; more roles than that go on in another section.
FIELDS_PER_SECTION = 10
UNASSIGNED = "_unassigned_"


def plain(text: str, limit: int = 75) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def mrkdwn_section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_LIMIT)}}
    if block_id:
        block["block_id"] = block_id
    return block


def form_modal(
    callback_id: str, title: str, submit: str, blocks: list[Block], metadata: dict[str, Any]
) -> dict[str, Any]:
    """A modal form with Cancel, its state for the submission handler in private_metadata."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(metadata),
        "title": plain(title, 24),
        "submit": plain(submit, 24),
        "close": plain("Cancel", 24),
        "blocks": blocks,
    }


def severity_label(severity: Severity) -> str:
    return f"{severity} — {severity.info.criteria}"


def severity_line(severity: Severity) -> str:
    info = severity.info
    return f"*{severity}* — {info.meaning}. Response time: {info.response_time}."


def role_sections(incident: Incident, roles: Sequence[Role]) -> list[Block]:
    """Sections naming the holder of every role but the commander's (named with the severity above them)."""
    fields = [
        {"type": "mrkdwn", "text": clip(f"*{as_mrkdwn(role.label)}*\n{_holder(incident, role)}", 2000)}
        for role in commander_first(roles)
        if role.key != COMMANDER.key
    ]
    return [
        {"type": "section", "block_id": f"incident_roles_{start}", "fields": fields[start : start + FIELDS_PER_SECTION]}
        for start in range(0, len(fields), FIELDS_PER_SECTION)
    ]


def _holder(incident: Incident, role: Role) -> str:
    holder = incident.holder(role.key)
    return user(holder) if holder else UNASSIGNED


def summary_blocks(incident: Incident, roles: Sequence[Role] = DEFAULT_ROLES) -> list[Block]:
    """The pinned-style summary message at the top of an incident channel, with every role's holder."""
    status = "Active" if incident.is_active else "Resolved"
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"{incident.severity}: {as_plain(incident.title)}", 150)},
        mrkdwn_section(f"*{as_mrkdwn(incident.title)}*"),
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": clip(f"*Severity*\n{severity_line(incident.severity)}", 2000)},
                {"type": "mrkdwn", "text": f"*Commander*\n{user(incident.commander_id)}"},
                {"type": "mrkdwn", "text": f"*Declared*\n{slack_date(incident.declared_at)}"},
                {"type": "mrkdwn", "text": f"*Status*\n{status}"},
            ],
        },
        *role_sections(incident, roles),
    ]
    if incident.summary:
        blocks.append(mrkdwn_section(f"*Summary*\n{as_mrkdwn(incident.summary)}"))
    value = str(incident.id)
    buttons = [{"type": "button", "action_id": ADD_ACTION_ITEM, "text": plain("Add action item"), "value": value}]
    if incident.is_active:
        buttons = [
            {"type": "button", "action_id": CHANGE_SEVERITY, "text": plain("Change severity"), "value": value},
            {"type": "button", "action_id": ASSIGN_ROLE, "text": plain("Assign role"), "value": value},
            *buttons,
            {"type": "button", "action_id": RESOLVE, "text": plain("Resolve"), "value": value, "style": "primary"},
        ]
    blocks.append({"type": "actions", "block_id": "incident_actions", "elements": buttons})
    return blocks


def summary_fallback(incident: Incident) -> str:
    return clip(f"{incident.severity}: {as_mrkdwn(incident.title)}", 3000)


def announcement_text(incident: Incident) -> str:
    """The announce channel's post (the SEV-1 ping in front of it is added when it is sent)."""
    if incident.private:
        return (
            f":rotating_light: A private *{incident.severity}* incident was declared by "
            f"{user(incident.declared_by)}. {severity_line(incident.severity)}"
        )
    return clip(
        f":rotating_light: *{incident.severity}* declared: *{as_mrkdwn(incident.title)}*\n"
        f"{severity_line(incident.severity)} Commander: {user(incident.commander_id)}. "
        f"Join <#{incident.room_id}>.",
        3000,
    )


def severity_change_text(incident: Incident, previous: Severity) -> str:
    raised = incident.severity.outranks(previous)
    title = "a private incident" if incident.private else f"*{as_mrkdwn(incident.title)}*"
    where = "" if incident.private else f" in <#{incident.room_id}>"
    verb = "raised" if raised else "lowered"
    return clip(f"Severity of {title} {verb} from {previous} to *{incident.severity}*{where}.", 3000)


def escalation_dm_text(incident: Incident) -> str:
    return clip(
        f":rotating_light: You are on the SEV-1 escalation list. {user(incident.declared_by)} declared "
        f"*{as_mrkdwn(incident.title)}* ({severity_line(incident.severity)}) Please join <#{incident.room_id}> now.",
        3000,
    )


def _severity_options() -> list[dict[str, Any]]:
    return [{"text": plain(severity_label(sev)), "value": sev.value} for sev in known_severities()]


def declare_modal(origin_room_id: str | None, declarer: str | None = None) -> dict[str, Any]:
    """The form behind `/incident` with no text; the commander is the declarer unless they pick someone."""
    commander: dict[str, Any] = {"type": "users_select", "action_id": "value"}
    if declarer:
        commander["initial_user"] = declarer
    return form_modal(
        DECLARE_VIEW,
        "Declare an incident",
        "Declare",
        [
            {
                "type": "input",
                "block_id": "title",
                "label": plain("Title", 2000),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "value",
                    "max_length": 3000,
                    "placeholder": plain("What is broken?", 150),
                },
            },
            {
                "type": "input",
                "block_id": "severity",
                "label": plain("Severity", 2000),
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": _severity_options(),
                    "placeholder": plain("Pick a severity", 150),
                },
            },
            {
                "type": "input",
                "block_id": "summary",
                "optional": True,
                "label": plain("Summary", 2000),
                "element": {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 3000},
            },
            {
                "type": "input",
                "block_id": "commander",
                "label": plain("Commander", 2000),
                "hint": plain("Leads the response; you, unless you pick someone else", 2000),
                "element": commander,
            },
            {
                "type": "input",
                "block_id": "private",
                "optional": True,
                "label": plain("Visibility", 2000),
                "element": {
                    "type": "checkboxes",
                    "action_id": "value",
                    "options": [
                        {
                            "text": plain("Private channel"),
                            "description": plain("For security incidents and data exposure", 150),
                            "value": "private",
                        }
                    ],
                },
            },
        ],
        {"origin": origin_room_id},
    )


def severity_modal(incident: Incident) -> dict[str, Any]:
    """The form behind the summary message's "Change severity" button."""
    initial = {"text": plain(severity_label(incident.severity)), "value": incident.severity.value}
    return form_modal(
        SEVERITY_VIEW,
        "Change severity",
        "Change",
        [
            mrkdwn_section(f"*{as_mrkdwn(incident.title)}* is now *{incident.severity}*."),
            {
                "type": "input",
                "block_id": "severity",
                "label": plain("Severity", 2000),
                "element": {
                    "type": "static_select",
                    "action_id": "value",
                    "options": _severity_options(),
                    "initial_option": initial,
                },
            },
        ],
        {"incident_id": incident.id},
    )


def pick_incident_modal(incidents: Sequence[Incident], room_id: str, message_id: str) -> dict[str, Any]:
    """The message shortcut outside an incident channel: which incident should get the message?"""
    options = [
        {"text": plain(f"{inc.severity} · {as_plain(inc.title)}"), "value": str(inc.id)} for inc in incidents[:100]
    ]
    return form_modal(
        PICK_INCIDENT_VIEW,
        "Add to timeline",
        "Add",
        [
            {
                "type": "input",
                "block_id": "incident",
                "label": plain("Incident", 2000),
                "element": {"type": "static_select", "action_id": "value", "options": options},
            }
        ],
        {"room_id": room_id, "message_id": message_id},
    )


def timeline_line(entry: TimelineEntry) -> str:
    link = f" (<{entry.permalink}|link>)" if entry.permalink else ""
    text = as_mrkdwn(" ".join(timeline_text(entry).split()))
    return f"• {slack_date(entry.occurred_at)} — {user(entry.author_id)}: {clip(text, 1500)}{link}"


def timeline_blocks(incident: Incident, entries: Sequence[TimelineEntry]) -> list[Block]:
    """The timeline, oldest first, packed into as few sections as Slack allows."""
    head = mrkdwn_section(f"*Timeline of {as_mrkdwn(clip(incident.title, 200))}* ({len(entries)} entries)")
    blocks: list[Block] = [head]
    chunk = ""
    shown = 0
    for entry in entries:
        line = timeline_line(entry)
        if len(chunk) + len(line) + 1 > SECTION_LIMIT:
            if len(blocks) == MAX_MESSAGE_BLOCKS - 1:
                break
            blocks.append(mrkdwn_section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
        shown += 1
    if chunk:
        blocks.append(mrkdwn_section(chunk))
    if shown < len(entries):
        blocks[-1] = mrkdwn_section(blocks[-1]["text"]["text"][:2900] + f"\n…and {len(entries) - shown} more.")
    if not entries:
        blocks.append(mrkdwn_section("_Nothing on the timeline yet._"))
    return blocks


def status_text(incident: Incident, timeline_count: int, now: datetime, roles: Sequence[Role] = DEFAULT_ROLES) -> str:
    state = "Active" if incident.is_active else "Resolved"
    others = " · ".join(
        f"{as_mrkdwn(role.label)}: {_holder(incident, role)}"
        for role in commander_first(roles)
        if role.key != COMMANDER.key
    )
    return (
        f"*{as_mrkdwn(clip(incident.title, 2000))}*\n"
        f"{severity_line(incident.severity)}\n"
        f"Status: {state} · Commander: {user(incident.commander_id)} · "
        f"Age: {humanize_age(incident.age(now).total_seconds())} · "
        f"Declared {slack_date(incident.declared_at)} · Timeline: {timeline_count} entries"
        + (f"\n{others}" if others else "")
    )


def incident_list_text(incidents: Sequence[Incident], now: datetime) -> str:
    """`/incident list`: the open incidents, most severe first."""
    if not incidents:
        return ":white_check_mark: No open incidents."
    lines = [f"*Open incidents ({len(incidents)})*"]
    for incident in sorted(incidents, key=lambda i: (i.severity.level, i.declared_at)):
        where = f"<#{incident.room_id}>" if incident.room_id else "_channel being created_"
        lines.append(
            f"• *{incident.severity}* {as_mrkdwn(clip(incident.title, 200))} — {where} · commander "
            f"{user(incident.commander_id)} · open {humanize_age(incident.age(now).total_seconds())}"
        )
    return clip("\n".join(lines), 3000)
