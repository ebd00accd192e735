"""What the listeners read from Slack's payloads, as typed models checked on the way in.

A payload of a shape Slack never sends (a missing `user`, a view without `state`, an id that is not
a number or is absurdly large, a wrong type) is a `MalformedRequest`: it is refused with a 4xx and
changes nothing. Text is bounded by Slack's own message limit, with a sentence saying so.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.core.errors import InvalidInput, MalformedRequest

# Slack's limit on a message's text; nothing a person types into the bot may be longer.
MAX_TEXT = 40_000
# Incident ids are database integers (32-bit on PostgreSQL).
MAX_ID = 2**31 - 1

SlackId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,40}$")]
Token = Annotated[str, StringConstraints(max_length=5000)]
IncidentId = Annotated[int, Field(ge=1, le=MAX_ID)]


class Payload(BaseModel):
    """A part of a Slack payload: unknown fields are ignored, known ones are checked."""

    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class SlashCommand(Payload):
    user_id: SlackId
    channel_id: SlackId | None = None
    text: str = ""
    trigger_id: Token | None = None
    response_url: Token | None = None


class SlackUser(Payload):
    id: SlackId


class SlackChannel(Payload):
    id: SlackId


class ButtonAction(Payload):
    action_id: Token
    value: Annotated[str, StringConstraints(max_length=2000)] = ""


class BlockActions(Payload):
    user: SlackUser
    trigger_id: Token | None = None
    channel: SlackChannel | None = None
    response_url: Token | None = None
    actions: Annotated[list[ButtonAction], Field(min_length=1)]

    @property
    def action(self) -> ButtonAction:
        return self.actions[0]


class Option(Payload):
    value: Token


class InputValue(Payload):
    type: Token
    value: str | None = None
    selected_option: Option | None = None
    selected_user: SlackId | None = None
    selected_options: list[Option] = Field(default_factory=list)


class ViewState(Payload):
    values: dict[Token, dict[Token, InputValue]] = Field(default_factory=dict)


class View(Payload):
    id: Token
    hash: Token = ""
    private_metadata: Annotated[str, StringConstraints(max_length=3000)] = ""
    state: ViewState


class ViewSubmission(Payload):
    user: SlackUser
    view: View

    def value(self, block_id: str) -> Any:
        """The submitted value of an input block's single element (a string, a list of choices, a user)."""
        element = self.view.state.values.get(block_id, {}).get("value")
        if element is None:
            return None
        if element.type == "static_select":
            return element.selected_option.value if element.selected_option else None
        if element.type == "users_select":
            return element.selected_user
        if element.type == "checkboxes":
            return [option.value for option in element.selected_options]
        return element.value

    def text(self, block_id: str, *, limit: int = 3000) -> str:
        """A text input's value, refused with a field error past `limit` characters."""
        value = self.value(block_id)
        if value is not None and not isinstance(value, str):
            raise MalformedRequest(f"the {block_id} field is not text")
        text = value or ""
        if len(text) > limit:
            raise InvalidInput(f"At most {limit:,} characters here (this has {len(text):,}).", field=block_id)
        return text

    def choices(self, block_id: str) -> list[str]:
        value = self.value(block_id) or []
        if not isinstance(value, list):
            raise MalformedRequest(f"the {block_id} field is not a list of choices")
        return [str(choice) for choice in value]

    @property
    def once_key(self) -> str:
        """Names this submission of this form: a double click sends the same view and hash twice."""
        return f"view:{self.view.id}:{self.view.hash}"


class IncidentMetadata(Payload):
    incident_id: IncidentId


class PickMetadata(Payload):
    room_id: SlackId
    message_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}\.[0-9]{1,8}$")]


class DeclareMetadata(Payload):
    origin: SlackId | None = None


class ShortcutMessage(Payload):
    ts: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}\.[0-9]{1,8}$")]


class MessageShortcut(Payload):
    user: SlackUser
    channel: SlackChannel
    message: ShortcutMessage
    trigger_id: Token
    response_url: Token | None = None


class ItemButton(Payload):
    """The value of a Mark done / In progress button: which item (the server looks it up again)."""

    n: IncidentId
    i: IncidentId | None = None
    p: Annotated[str, StringConstraints(max_length=500)] | None = None


Model = TypeVar("Model", bound=Payload)


def parse(model: type[Model], data: Any) -> Model:
    """`data` as `model`, or a MalformedRequest naming the first problem."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or model.__name__
        raise MalformedRequest(f"{model.__name__}: {where}: {first['msg']}") from None


def parse_json(model: type[Model], text: str) -> Model:
    """A JSON string (private_metadata, a button value) as `model`, or a MalformedRequest."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        raise MalformedRequest(f"{model.__name__}: not JSON") from None
    return parse(model, data)


def trigger(trigger_id: str | None) -> str:
    """The trigger a form needs; Slack sends one with every command, button and shortcut."""
    if not trigger_id:
        raise MalformedRequest("no trigger_id")
    return trigger_id


def incident_id(value: str) -> int:
    """A button value naming an incident."""
    if not value.isdigit() or len(value) > 10 or not 1 <= int(value) <= MAX_ID:
        raise MalformedRequest("a button value is not an incident id")
    return int(value)


def bounded(text: str) -> str:
    """Text a person typed, refused with a clear sentence when it is longer than Slack allows."""
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"That is {len(text):,} characters; Slack messages, and so the incident's records, take at most "
            f"{MAX_TEXT:,}. Shorten it, or put the long part in a file and link it."
        )
    return text
