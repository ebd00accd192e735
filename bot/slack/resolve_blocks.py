"""Block Kit for the resolve form and the messages about resolving and the RCA."""

from __future__ import annotations

from typing import Any

from bot.core.models import Incident
from bot.slack.blocks import Block, form_modal, mrkdwn_section, plain
from bot.slack.text import as_mrkdwn, clip, humanize_age, unescape, user

RESOLVE_VIEW = "resolve_incident"
CODE_CHUNK = 2900


def _text_input(block_id: str, label: str, initial: str, *, hint: str, optional: bool = True) -> Block:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "multiline": True, "max_length": 3000}
    if initial:
        element["initial_value"] = clip(unescape(initial), 3000)
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain(label, 2000),
        "hint": plain(hint, 2000),
        "element": element,
    }


def resolve_modal(incident: Incident) -> dict[str, Any]:
    """The resolve form: the RCA's sections, pre-filled from what the incident already knows."""
    blocks: list[Block] = []
    if not incident.severity.info.rca_required:
        blocks.append(
            mrkdwn_section(
                f"This is a *{incident.severity}*: the runbook requires no RCA, only a note in fleet-status. "
                "Tick the box below to write an RCA anyway."
            )
        )
    blocks += [
        _text_input(
            "summary",
            "Summary",
            incident.summary,
            hint="1–2 sentences; this goes into fleet-status.md.",
            optional=False,
        ),
        _text_input("root_causes", "Root cause(s)", incident.root_causes, hint="Why it happened."),
        _text_input("resolution", "Resolution", incident.resolution, hint="What fixed it."),
        _text_input("lessons", "Lessons learned", incident.lessons, hint="What we now know."),
    ]
    if not incident.severity.info.rca_required:
        option = {"text": plain("Write an RCA anyway"), "value": "rca"}
        element: dict[str, Any] = {"type": "checkboxes", "action_id": "value", "options": [option]}
        if incident.rca_wanted:
            element["initial_options"] = [option]
        blocks.append(
            {"type": "input", "block_id": "rca", "optional": True, "label": plain("RCA", 2000), "element": element}
        )
    return form_modal(
        RESOLVE_VIEW,
        "Resolve incident",
        "Resolve",
        blocks,
        {"incident_id": incident.id},
    )


def resolved_text(incident: Incident, by: str) -> str:
    assert incident.resolved_at is not None
    took = humanize_age(incident.age(incident.resolved_at).total_seconds())
    name = "a private incident" if incident.private else f"*{as_mrkdwn(clip(incident.title, 500))}*"
    return f":white_check_mark: {user(by)} resolved {name} ({incident.severity}) after {took}."


def rca_published_text(
    *, path: str | None, fleet_status_path: str, web_link: str | None, commit: str | None, pushed: bool
) -> str:
    where = "pushed to the docs repo" if pushed else "committed in the docs repo (no upstream to push to)"
    short = f" in `{commit[:10]}`" if commit else ""
    if path is None:
        return f":memo: Noted in `{fleet_status_path}`{short}, {where}. (No RCA: the runbook requires none.)"
    link = f" — <{web_link}|view it>" if web_link else ""
    return f":page_facing_up: RCA `{path}` and the `{fleet_status_path}` entry {where}{short}{link}."


def draft_blocks(incident: Incident, markdown: str) -> list[Block]:
    """The RCA draft as code blocks, split to Slack's section size."""
    chunks = [markdown[i : i + CODE_CHUNK] for i in range(0, len(markdown), CODE_CHUNK)] or [""]
    blocks: list[Block] = [
        mrkdwn_section(f"*RCA draft for {as_mrkdwn(clip(incident.title, 300))}* (only you see this)")
    ]
    for chunk in chunks[:48]:
        blocks.append(mrkdwn_section(f"```{chunk.replace('```', 'ʼʼʼ')}```"))
    if len(chunks) > 48:
        blocks.append(mrkdwn_section("_…the draft is longer; the committed file has all of it._"))
    return blocks
