"""Finding interactive elements in blocks and building the payload pieces
Slack sends for them (actions, state values, message/view shapes)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from slack_sim.blockkit import TEXT_INPUT_TYPES

# Keys FakeSlack keeps on views/messages for tests that Slack never sends.
_VIEW_PRIVATE = ("user", "trigger_id", "is_open")
CHOICE_TYPES = frozenset(
    {"static_select", "multi_static_select", "overflow", "radio_buttons", "checkboxes", "external_select"}
)
MULTI_CHOICE = frozenset({"multi_static_select", "checkboxes"})


def action_ts(now: float) -> str:
    """A timestamp for an action or event at `now` (seconds since the epoch)."""
    return f"{now:.6f}"


def is_view(surface: dict[str, Any]) -> bool:
    return "root_view_id" in surface


def text_of(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def iter_elements(blocks: list[Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(block, element) for every element in actions blocks, accessories and inputs."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        elements = list(block.get("elements") or []) if block.get("type") == "actions" else []
        elements += [block[key] for key in ("accessory", "element") if isinstance(block.get(key), dict)]
        for element in elements:
            if isinstance(element, dict):
                yield block, element


def find_button(surface: dict[str, Any], label: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The button whose visible text is ``label`` (exact, else case-insensitive, else prefix)."""
    buttons = [(b, e) for b, e in iter_elements(surface.get("blocks") or []) if e.get("type") == "button"]
    texts = [text_of(e.get("text")) for _, e in buttons]
    wanted = label.lower()
    checks: list[Callable[[str], bool]] = [
        lambda text: text == label,
        lambda text: text.lower() == wanted,
        lambda text: text.lower().startswith(wanted),
    ]
    for check in checks:
        for pair, text in zip(buttons, texts, strict=True):
            if check(text):
                return pair
    raise KeyError(f"no button {label!r}; available buttons: {texts}")


def find_choice(surface: dict[str, Any], key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A select/overflow/radio/checkbox element by placeholder text or action_id."""
    found = [(b, e) for b, e in iter_elements(surface.get("blocks") or []) if e.get("type") in CHOICE_TYPES]
    names = [text_of(e.get("placeholder")) or str(e.get("action_id")) for _, e in found]
    matches = [(b, e) for b, e in found if key in (text_of(e.get("placeholder")), e.get("action_id"))]
    if not matches:
        raise KeyError(f"no menu {key!r}; available menus: {names}")
    return matches[0]


def options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options += group.get("options") or []
    return options


def pick_option(element: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The first option whose text starts with ``prefix`` (or whose value equals it)."""
    options = options_of(element)
    for option in options:
        if text_of(option.get("text")).startswith(prefix):
            return _option_payload(option)
    for option in options:
        if option.get("value") == prefix:
            return _option_payload(option)
    raise KeyError(f"no option starting with {prefix!r}; options: {[text_of(o.get('text')) for o in options]}")


def _option_payload(option: dict[str, Any]) -> dict[str, Any]:
    chosen = {"text": copy.deepcopy(option.get("text")), "value": option.get("value")}
    if option.get("description") is not None:
        chosen["description"] = copy.deepcopy(option["description"])
    return chosen


_SELECTED_KEY = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}
_INITIAL_KEY = {
    "selected_user": "initial_user",
    "selected_users": "initial_users",
    "selected_conversation": "initial_conversation",
    "selected_conversations": "initial_conversations",
    "selected_channel": "initial_channel",
    "selected_channels": "initial_channels",
    "selected_date": "initial_date",
    "selected_time": "initial_time",
    "selected_date_time": "initial_date_time",
}


def state_entry(element: dict[str, Any], value: Any, *, given: bool) -> dict[str, Any]:
    """One ``state.values[block_id][action_id]`` entry; without ``given`` it holds
    the element's initial value, as Slack reports untouched inputs."""
    kind = str(element.get("type"))
    entry: dict[str, Any] = {"type": kind}
    if kind in TEXT_INPUT_TYPES:
        entry["value"] = (None if value is None else str(value)) if given else element.get("initial_value")
    elif kind in MULTI_CHOICE:
        prefixes = value if isinstance(value, (list, tuple)) else [value]
        entry["selected_options"] = (
            [pick_option(element, str(p)) for p in prefixes if p is not None]
            if given
            else copy.deepcopy(element.get("initial_options") or [])
        )
    elif kind in CHOICE_TYPES:
        if given:
            entry["selected_option"] = None if value is None else pick_option(element, str(value))
        else:
            entry["selected_option"] = copy.deepcopy(element.get("initial_option"))
    elif kind in _SELECTED_KEY:
        key = _SELECTED_KEY[kind]
        plural = key.endswith("s") and not key.endswith("time")
        if given:
            entry[key] = list(value) if plural and isinstance(value, (list, tuple)) else value
        else:
            entry[key] = copy.deepcopy(element.get(_INITIAL_KEY[key], [] if plural else None))
    elif kind == "rich_text_input":
        text = str(value) if given and value is not None else ""
        section = {"type": "rich_text_section", "elements": [{"type": "text", "text": text}] if text else []}
        entry["rich_text_value"] = {"type": "rich_text", "elements": [section]}
    else:
        entry["value"] = value if given else None
    return entry


def _is_empty(entry: dict[str, Any]) -> bool:
    payload = [v for k, v in entry.items() if k != "type"]
    return all(v in (None, "", []) for v in payload)


def submission_values(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """``view.state.values`` for a submission; ``values`` is keyed by input label (or block_id)."""
    inputs = [b for b in view.get("blocks") or [] if isinstance(b, dict) and b.get("type") == "input"]
    labels = [text_of(b.get("label")) for b in inputs]
    by_label: dict[str, Any] = {}
    for key, value in values.items():
        index = next(
            (i for i, label in enumerate(labels) if label == key or inputs[i].get("block_id") == key),
            next((i for i, label in enumerate(labels) if label.lower() == key.lower()), None),
        )
        if index is None:
            raise KeyError(f"no input labelled {key!r}; available labels: {labels}")
        by_label[str(inputs[index]["block_id"])] = value
    state: dict[str, Any] = {}
    missing: list[str] = []
    for block, label in zip(inputs, labels, strict=True):
        element = block.get("element") or {}
        given = block["block_id"] in by_label
        entry = state_entry(element, by_label.get(block["block_id"]), given=given)
        if not block.get("optional") and _is_empty(entry):
            missing.append(label)
        state[block["block_id"]] = {element.get("action_id", ""): entry}
    if missing:
        # Slack's client refuses to submit while a required input is empty.
        raise ValueError(f"required inputs left empty (Slack would not submit): {missing}")
    return state


def view_payload(view: dict[str, Any], state_values: dict[str, Any] | None = None) -> dict[str, Any]:
    shaped = {k: copy.deepcopy(v) for k, v in view.items() if k not in _VIEW_PRIVATE}
    if state_values is not None:
        shaped["state"] = {"values": copy.deepcopy(state_values)}
    return shaped


def event_message(message: dict[str, Any]) -> dict[str, Any]:
    """A stored message in the shape events and interaction payloads carry it."""
    out: dict[str, Any] = {"type": "message", "user": message.get("user"), "text": message.get("text", "")}
    out["ts"] = message.get("ts")
    if message.get("team"):
        out["team"] = message["team"]
    for key in ("bot_id", "app_id", "thread_ts", "edited", "subtype"):
        if message.get(key):
            out[key] = copy.deepcopy(message[key])
    for key in ("blocks", "attachments", "reactions"):
        if message.get(key):
            out[key] = copy.deepcopy(message[key])
    return out
