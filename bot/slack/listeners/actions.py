"""Buttons: on the incident summary message, and Mark done / In progress in reminder DMs."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.core.models import ActionStatus, Incident
from bot.services import action_status, home, incidents, resolve
from bot.services.incidents import require_id
from bot.slack import action_blocks, blocks, home_blocks, reminder_blocks, resolve_blocks, role_blocks
from bot.slack.listener_context import ListenerContext
from bot.slack.payloads import BlockActions, ItemButton, incident_id, parse, parse_json, trigger

View = dict[str, Any]


def register(app: App, context: ListenerContext) -> None:
    ctx = context.services

    def open_form(body: dict[str, Any], *, doing: str, form: Callable[[Incident], View]) -> None:
        """A summary button that opens a form about its incident, for those the access rule lets change it."""
        clicked = parse(BlockActions, body)
        chosen = incident_id(clicked.action.value)
        incident = incidents.incident_for_change(ctx, by=clicked.user.id, doing=doing, incident_id=chosen)
        context.chat.open_view(trigger(clicked.trigger_id), form(incident))

    @app.action(blocks.CHANGE_SEVERITY)
    def change_severity_button(ack: Ack, body: dict[str, Any]) -> None:
        open_form(body, doing="change this incident's severity", form=blocks.severity_modal)
        ack()

    @app.action(blocks.ADD_ACTION_ITEM)
    def add_action_item_button(ack: Ack, body: dict[str, Any]) -> None:
        open_form(body, doing="add action items to this incident", form=action_blocks.action_modal)
        ack()

    @app.action(blocks.ASSIGN_ROLE)
    def assign_role_button(ack: Ack, body: dict[str, Any]) -> None:
        open_form(
            body,
            doing="assign roles in this incident",
            form=lambda incident: role_blocks.role_modal(incident, ctx.policy.roles),
        )
        ack()

    @app.action(blocks.RESOLVE)
    def resolve_button(ack: Ack, body: dict[str, Any]) -> None:
        clicked = parse(BlockActions, body)
        incident = resolve.incident_to_resolve(ctx, by=clicked.user.id, incident_id=incident_id(clicked.action.value))
        context.chat.open_view(trigger(clicked.trigger_id), resolve_blocks.resolve_modal(incident))
        ack()
        context.resolve_form_opened(require_id(incident))

    def change_from_button(ack: Ack, body: dict[str, Any], respond: Respond, status: ActionStatus) -> None:
        clicked = parse(BlockActions, body)
        item = parse_json(ItemButton, clicked.action.value)
        change = action_status.change_status(
            ctx,
            ref=action_status.ItemRef(number=item.n, incident_id=item.i, rca_path=item.p),
            status=status,
            by=clicked.user.id,
            hand_written_owner=context.hand_written_owner,
        )
        ack()
        if clicked.response_url:
            respond(text=status_answer(change), response_type="ephemeral", replace_original=False)
        else:  # clicked on the Home tab: the tab itself shows the change once it is published again
            home.publish_again(ctx, user_id=clicked.user.id)

    @app.action(re.compile(f"^{home_blocks.HOME_PAGE}_(newer|older)$"))
    def home_page(ack: Ack, body: dict[str, Any]) -> None:
        clicked = parse(BlockActions, body)
        page = int(clicked.action.value) if (clicked.action.value or "").isdigit() else 0
        home.show_page(ctx, user_id=clicked.user.id, page=page)
        ack()

    @app.action(reminder_blocks.MARK_DONE)
    def mark_done(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        change_from_button(ack, body, respond, ActionStatus.DONE)

    @app.action(reminder_blocks.MARK_IN_PROGRESS)
    def mark_in_progress(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        change_from_button(ack, body, respond, ActionStatus.IN_PROGRESS)


def status_answer(change: action_status.StatusChange) -> str:
    if change.unchanged:
        return f"Action item #{change.number} is already {change.status.value}."
    return f"Action item #{change.number} is now {change.status.value}; the RCA will say so in a moment."
