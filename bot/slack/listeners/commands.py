"""`/incident`: parse the text, call one service, answer within Slack's three seconds."""

from __future__ import annotations

from typing import Any, assert_never

from slack_bolt import Ack, App

from bot.core import commands as grammar
from bot.core.errors import InvalidInput
from bot.core.models import ActionStatus, Reply
from bot.core.roles import require_role
from bot.services import action_status, actions, incidents, resolve, roles, timeline
from bot.services.incidents import require_id
from bot.slack import blocks, resolve_blocks
from bot.slack.listener_context import ListenerContext
from bot.slack.listeners import SLASH_COMMAND, status_updates
from bot.slack.listeners.actions import status_answer
from bot.slack.payloads import SlashCommand, bounded, parse, trigger
from bot.slack.text import as_mrkdwn, mentioned_user


def register(app: App, context: ListenerContext) -> None:
    ctx = context.services

    @app.command(SLASH_COMMAND)
    def incident_command(ack: Ack, command: dict[str, Any]) -> None:
        request = parse(SlashCommand, command)
        parsed = grammar.parse_command(bounded(request.text))
        user_id = request.user_id
        room_id = request.channel_id
        reply = Reply(user_id=user_id, room_id=room_id, response_url=request.response_url)
        match parsed:
            case grammar.OpenDeclareForm():
                context.chat.open_view(trigger(request.trigger_id), blocks.declare_modal(room_id, declarer=user_id))
                ack()
            case grammar.SeverityCommand(severity=severity, title=str() as title):
                incident = incidents.declare_incident(
                    ctx, title=title, severity=severity, declared_by=user_id, reply=reply
                )
                ack(
                    response_type="ephemeral",
                    text=f":rotating_light: Declaring *{incident.severity}* *{as_mrkdwn(incident.title)}* — "
                    "I'm opening its channel and will link it here in a moment.",
                )
            case grammar.SeverityCommand(severity=severity):  # no title: a change of severity
                incident = incidents.change_severity(ctx, room_id=room_id, severity=severity, by=user_id, reply=reply)
                ack(
                    response_type="in_channel",
                    text=f"Severity is now *{incident.severity}* — {incident.severity.info.meaning}.",
                )
            case grammar.AddNote(text=text):
                timeline.add_note(ctx, room_id=room_id, text=text, by=user_id)
                ack(response_type="in_channel", text=f":memo: Added to the timeline: {as_mrkdwn(text)}")
            case grammar.ShowTimeline():
                incident, entries = timeline.timeline_of(ctx, room_id=room_id, by=user_id)
                ack(
                    response_type="ephemeral",
                    text=f"Timeline of {as_mrkdwn(incident.title)}",
                    blocks=blocks.timeline_blocks(incident, entries),
                )
            case grammar.ShowStatus():
                view = incidents.incident_status(ctx, room_id=room_id, by=user_id)
                ack(
                    response_type="ephemeral",
                    text=blocks.status_text(view.incident, view.timeline_count, ctx.clock.now(), ctx.policy.roles),
                )
            case grammar.ShowHelp():
                ack(response_type="ephemeral", text=grammar.help_text(ctx.policy.roles))
            case grammar.AddActionItem(owner=owner, action=action):
                owner_id = mentioned_user(owner) or context.chat.find_user(owner)
                if owner_id is None:
                    raise InvalidInput(
                        f"I can't find a Slack user called {as_mrkdwn(owner)}. Mention them with @ so Slack links "
                        "the name, e.g. `/incident action @alice Add a startup check`."
                    )
                _, item = actions.add_action_item(
                    ctx, room_id=room_id, action=action, owner_id=owner_id, owner_label=owner, by=user_id
                )
                ack(response_type="ephemeral", text=f"Added action item #{item.number}.")
            case grammar.Resolve():
                incident = resolve.incident_to_resolve(ctx, room_id=room_id, by=user_id)
                context.chat.open_view(trigger(request.trigger_id), resolve_blocks.resolve_modal(incident))
                ack()
                context.resolve_form_opened(require_id(incident))
            case grammar.PreviewRca():
                resolve.request_rca_preview(ctx, room_id=room_id, reply=reply)
                ack(response_type="ephemeral", text="Rendering the RCA draft…")
            case grammar.Reopen(room_id=named):
                # Named from elsewhere (`/incident reopen #its-channel`): its channel may be archived.
                incident = resolve.reopen_incident(
                    ctx, room_id=named or room_id, by=user_id, reply=reply, named=named is not None
                )
                if named is None:
                    ack(response_type="in_channel", text=f"Reopened *{as_mrkdwn(incident.title)}*.")
                else:
                    ack(
                        response_type="ephemeral",
                        text=f"Reopened *{as_mrkdwn(incident.title)}*. I'm bringing its channel back "
                        "(or opening a new one, if Slack won't) and will post there.",
                    )
            case grammar.ListIncidents():
                ack(
                    response_type="ephemeral",
                    text=blocks.incident_list_text(incidents.visible_incidents(ctx, to=user_id), ctx.clock.now()),
                )
            case grammar.ChangeCommander(who=who):
                new_lead = mentioned_user(who) or context.chat.find_user(who)
                if new_lead is None:
                    raise InvalidInput(f"I can't find a Slack user called {as_mrkdwn(who)}.")
                incidents.change_commander(ctx, room_id=room_id, commander_id=new_lead, by=user_id)
                ack(response_type="in_channel", text=f"<@{new_lead}> is now the incident commander.")
            case grammar.AssignRole(role=role, who=who):
                require_role(ctx.policy.roles, role)  # before looking the person up, which may ask Slack
                holder = mentioned_user(who) or context.chat.find_user(who)
                if holder is None:
                    raise InvalidInput(
                        f"I can't find a Slack user called {as_mrkdwn(who)}. Mention them with @ so Slack links "
                        "the name, e.g. `/incident role comms @bob`."
                    )
                assigned = roles.assign_role(ctx, room_id=room_id, role=role, user_id=holder, by=user_id)
                ack(response_type="ephemeral", text=f"<@{holder}> is now the {as_mrkdwn(assigned.role.label)}.")
            case grammar.UnassignRole(role=role):
                cleared = roles.unassign_role(ctx, room_id=room_id, role=role, by=user_id)
                ack(response_type="ephemeral", text=f"Nobody is the {as_mrkdwn(cleared.role.label)} now.")
            case grammar.MarkDone(number=number):
                ref = action_status.item_in_room(ctx, room_id=room_id, number=number)
                change = action_status.change_status(
                    ctx, ref=ref, status=ActionStatus.DONE, by=user_id, hand_written_owner=context.hand_written_owner
                )
                ack(response_type="ephemeral", text=status_answer(change))
            case grammar.PostUpdate(text=text):
                ack(**status_updates.post_from_command(context, text=text, reply=reply))
            case grammar.OpenUpdateForm():
                status_updates.open_form(context, trigger_id=request.trigger_id, reply=reply)
                ack()
            case _:
                assert_never(parsed)
