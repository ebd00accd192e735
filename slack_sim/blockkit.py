"""Block Kit validation with Slack's limits and error wording.

Slack rejects bad blocks with ``invalid_blocks`` (messages) or
``invalid_arguments`` (views) and lists what failed in
``response_metadata.messages`` as ``"[ERROR] <what> [json-pointer:<where>]"``.
The validator below reproduces those messages for the limits the bot is likely
to hit, so a test fails here the same way production would.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
from collections.abc import Callable
from typing import Any

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100

SELECT_TYPES = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
TEXT_INPUT_TYPES = frozenset({"plain_text_input", "email_text_input", "url_text_input", "number_input"})
ACTION_ELEMENTS = frozenset(
    {"button", "checkboxes", "datepicker", "datetimepicker", "overflow", "radio_buttons", "timepicker"}
    | {"workflow_button"}
    | SELECT_TYPES
)
ACCESSORY_ELEMENTS = (ACTION_ELEMENTS - {"datetimepicker"}) | {"image"}
INPUT_ELEMENTS = (
    (ACTION_ELEMENTS - {"button", "overflow", "workflow_button"}) | TEXT_INPUT_TYPES | {"rich_text_input", "file_input"}
)
# Interactive elements get an action_id from Slack when the app leaves it out.
INTERACTIVE_ELEMENTS = ACTION_ELEMENTS | INPUT_ELEMENTS
LOOSE_BLOCKS = frozenset({"rich_text", "video", "file", "table"})

_ID_ALPHABET = string.ascii_letters + string.digits


def _pointer_join(base: str, *parts: str | int) -> str:
    return base + "".join(f"/{part}" for part in parts)


class _Checker:
    """Collects Slack-style error messages for one message or view."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, what: str, where: str) -> None:
        self.errors.append(f"[ERROR] {what} [json-pointer:{where}]")

    # -- primitives -------------------------------------------------------
    def string(self, value: Any, where: str, max_len: int, *, required: bool = True) -> None:
        if value is None:
            if required:
                self.fail(f"missing required field: {where.rsplit('/', 1)[-1]}", where.rsplit("/", 1)[0])
            return
        if not isinstance(value, str):
            self.fail("must provide a string", where)
        elif len(value) > max_len:
            self.fail(f"must be less than {max_len + 1} characters", where)

    def text(self, obj: Any, where: str, max_len: int, *, plain_only: bool = False, required: bool = True) -> None:
        """A text object; length errors point at the object like Slack's do."""
        if obj is None:
            if required:
                parent, _, field = where.rpartition("/")
                self.fail(f"missing required field: {field}", parent)
            return
        if not isinstance(obj, dict):
            self.fail("must provide an object", where)
            return
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in allowed:
            self.fail("failed to match all allowed schemas", where)
            return
        text = obj.get("text")
        if not isinstance(text, str):
            self.fail("must provide a string", _pointer_join(where, "text"))
        elif not text:
            self.fail("must be more than 0 characters", where)
        elif len(text) > max_len:
            self.fail(f"must be less than {max_len + 1} characters", where)

    def items(self, value: Any, where: str, max_items: int, *, min_items: int = 1) -> list[Any]:
        if value is None:
            parent, _, field = where.rpartition("/")
            self.fail(f"missing required field: {field}", parent)
            return []
        if not isinstance(value, list):
            self.fail("must provide an array", where)
            return []
        if len(value) < min_items:
            self.fail(f"must provide at least {min_items} items", where)
        if len(value) > max_items:
            self.fail(f"no more than {max_items} items allowed", where)
        return value

    # -- composition objects ---------------------------------------------
    def confirm(self, obj: Any, where: str) -> None:
        if obj is None:
            return
        if not isinstance(obj, dict):
            self.fail("must provide an object", where)
            return
        self.text(obj.get("title"), _pointer_join(where, "title"), 100, plain_only=True)
        self.text(obj.get("text"), _pointer_join(where, "text"), 300)
        self.text(obj.get("confirm"), _pointer_join(where, "confirm"), 30, plain_only=True)
        self.text(obj.get("deny"), _pointer_join(where, "deny"), 30, plain_only=True)

    def options(
        self, options: Any, where: str, max_items: int, *, plain_only: bool, text_max: int = 75
    ) -> list[dict[str, Any]]:
        valid: list[dict[str, Any]] = []
        for i, option in enumerate(self.items(options, where, max_items)):
            at = _pointer_join(where, i)
            if not isinstance(option, dict):
                self.fail("must provide an object", at)
                continue
            self.text(option.get("text"), _pointer_join(at, "text"), text_max, plain_only=plain_only)
            self.string(option.get("value"), _pointer_join(at, "value"), 150)
            self.text(option.get("description"), _pointer_join(at, "description"), 75, required=False)
            self.string(option.get("url"), _pointer_join(at, "url"), 3000, required=False)
            valid.append(option)
        return valid

    def initial(self, chosen: Any, options: list[dict[str, Any]], where: str) -> None:
        """Slack refuses an initial option that is not one of the options."""
        picks = chosen if isinstance(chosen, list) else [chosen]
        known = [(o.get("value"), (o.get("text") or {}).get("text")) for o in options]
        for pick in picks:
            if not isinstance(pick, dict) or (pick.get("value"), (pick.get("text") or {}).get("text")) not in known:
                self.fail("must match one of the provided options", where)
                return


class BlockValidator(_Checker):
    """Validates a list of blocks; tracks ids that must be unique."""

    def __init__(self) -> None:
        super().__init__()
        self.block_ids: set[str] = set()

    def blocks(self, blocks: Any, where: str, max_blocks: int) -> None:
        for i, block in enumerate(self.items(blocks, where, max_blocks, min_items=0)):
            self.block(block, _pointer_join(where, i))

    def block(self, block: Any, where: str) -> None:
        if not isinstance(block, dict):
            self.fail("must provide an object", where)
            return
        block_id = block.get("block_id")
        if block_id is not None:
            self.string(block_id, _pointer_join(where, "block_id"), 255)
            if block_id in self.block_ids:
                self.fail(f"duplicate block_id: {block_id}", _pointer_join(where, "block_id"))
            self.block_ids.add(str(block_id))
        kind = block.get("type")
        check = _BLOCK_CHECKS.get(str(kind))
        if check is not None:
            check(self, block, where)
        elif kind not in LOOSE_BLOCKS:
            self.fail(f"unsupported type: {kind}", where)

    def element(self, element: Any, where: str, allowed: frozenset[str], action_ids: set[str]) -> None:
        if not isinstance(element, dict):
            self.fail("must provide an object", where)
            return
        kind = str(element.get("type"))
        if kind not in allowed:
            self.fail(f"unsupported type: {kind}", where)
            return
        action_id = element.get("action_id")
        if action_id is not None:
            self.string(action_id, _pointer_join(where, "action_id"), 255)
            # Slack requires action_ids to be unique within their containing block.
            if action_id in action_ids:
                self.fail(f"duplicate action_id: {action_id}", _pointer_join(where, "action_id"))
            action_ids.add(str(action_id))
        self.text(element.get("placeholder"), _pointer_join(where, "placeholder"), 150, plain_only=True, required=False)
        self.confirm(element.get("confirm"), _pointer_join(where, "confirm"))
        check = _ELEMENT_CHECKS.get(kind)
        if check is not None:
            check(self, element, where)


# -- element checks ------------------------------------------------------------
def _button(v: BlockValidator, e: dict[str, Any], at: str) -> None:
    v.text(e.get("text"), _pointer_join(at, "text"), 75, plain_only=True)
    v.string(e.get("value"), _pointer_join(at, "value"), 2000, required=False)
    v.string(e.get("url"), _pointer_join(at, "url"), 3000, required=False)
    if e.get("style") not in (None, "primary", "danger"):
        v.fail("must be a valid enum value", _pointer_join(at, "style"))


def _select(v: BlockValidator, e: dict[str, Any], at: str) -> None:
    kind = e["type"]
    if kind not in ("static_select", "multi_static_select"):
        return
    options: list[dict[str, Any]] = []
    if "option_groups" in e:
        for g, group in enumerate(v.items(e.get("option_groups"), _pointer_join(at, "option_groups"), 100)):
            gat = _pointer_join(at, "option_groups", g)
            if isinstance(group, dict):
                v.text(group.get("label"), _pointer_join(gat, "label"), 75, plain_only=True)
                options += v.options(group.get("options"), _pointer_join(gat, "options"), 100, plain_only=True)
    else:
        options = v.options(e.get("options"), _pointer_join(at, "options"), 100, plain_only=True)
    if e.get("initial_option") is not None:
        v.initial(e["initial_option"], options, _pointer_join(at, "initial_option"))
    if e.get("initial_options") is not None:
        v.initial(e["initial_options"], options, _pointer_join(at, "initial_options"))


def _choice(limit: int, *, plain_only: bool) -> Callable[[BlockValidator, dict[str, Any], str], None]:
    def check(v: BlockValidator, e: dict[str, Any], at: str) -> None:
        options = v.options(e.get("options"), _pointer_join(at, "options"), limit, plain_only=plain_only)
        for key in ("initial_option", "initial_options"):
            if e.get(key) is not None:
                v.initial(e[key], options, _pointer_join(at, key))

    return check


def _text_input(v: BlockValidator, e: dict[str, Any], at: str) -> None:
    max_length = e.get("max_length")
    min_length = e.get("min_length")
    if max_length is not None and (not isinstance(max_length, int) or not 1 <= max_length <= 3000):
        v.fail("must be between 1 and 3000", _pointer_join(at, "max_length"))
        max_length = None
    if min_length is not None and (not isinstance(min_length, int) or not 0 <= min_length <= 3000):
        v.fail("must be between 0 and 3000", _pointer_join(at, "min_length"))
    initial = e.get("initial_value")
    if initial is not None:
        v.string(initial, _pointer_join(at, "initial_value"), max_length or 3000)


def _image(v: BlockValidator, e: dict[str, Any], at: str) -> None:
    if e.get("slack_file") is None:
        v.string(e.get("image_url"), _pointer_join(at, "image_url"), 3000)
    v.string(e.get("alt_text"), _pointer_join(at, "alt_text"), 2000)


_ELEMENT_CHECKS: dict[str, Callable[[BlockValidator, dict[str, Any], str], None]] = {
    "button": _button,
    "overflow": _choice(5, plain_only=True),
    "checkboxes": _choice(10, plain_only=False),
    "radio_buttons": _choice(10, plain_only=False),
    "plain_text_input": _text_input,
    "image": _image,
    **{kind: _select for kind in SELECT_TYPES},
}


# -- block checks ---------------------------------------------------------------
def _section(v: BlockValidator, b: dict[str, Any], at: str) -> None:
    if b.get("text") is None and b.get("fields") is None:
        v.fail("must provide either text or fields", at)
    v.text(b.get("text"), _pointer_join(at, "text"), 3000, required=False)
    if b.get("fields") is not None:
        for i, field in enumerate(v.items(b.get("fields"), _pointer_join(at, "fields"), 10)):
            v.text(field, _pointer_join(at, "fields", i), 2000)
    if b.get("accessory") is not None:
        v.element(b["accessory"], _pointer_join(at, "accessory"), ACCESSORY_ELEMENTS, set())


def _header(v: BlockValidator, b: dict[str, Any], at: str) -> None:
    v.text(b.get("text"), _pointer_join(at, "text"), 150, plain_only=True)


def _context(v: BlockValidator, b: dict[str, Any], at: str) -> None:
    for i, element in enumerate(v.items(b.get("elements"), _pointer_join(at, "elements"), 10)):
        where = _pointer_join(at, "elements", i)
        if isinstance(element, dict) and element.get("type") == "image":
            _image(v, element, where)
        else:
            v.text(element, where, 3000)


def _actions(v: BlockValidator, b: dict[str, Any], at: str) -> None:
    action_ids: set[str] = set()
    for i, element in enumerate(v.items(b.get("elements"), _pointer_join(at, "elements"), 25)):
        v.element(element, _pointer_join(at, "elements", i), ACTION_ELEMENTS, action_ids)


def _input(v: BlockValidator, b: dict[str, Any], at: str) -> None:
    v.text(b.get("label"), _pointer_join(at, "label"), 2000, plain_only=True)
    v.text(b.get("hint"), _pointer_join(at, "hint"), 2000, plain_only=True, required=False)
    if b.get("element") is None:
        v.fail("missing required field: element", at)
    else:
        v.element(b["element"], _pointer_join(at, "element"), INPUT_ELEMENTS, set())


def _image_block(v: BlockValidator, b: dict[str, Any], at: str) -> None:
    _image(v, b, at)
    v.text(b.get("title"), _pointer_join(at, "title"), 2000, plain_only=True, required=False)


def _markdown(v: BlockValidator, b: dict[str, Any], at: str) -> None:
    v.string(b.get("text"), _pointer_join(at, "text"), 12000)


def _divider(v: BlockValidator, b: dict[str, Any], at: str) -> None:
    return None


_BLOCK_CHECKS: dict[str, Callable[[BlockValidator, dict[str, Any], str], None]] = {
    "section": _section,
    "header": _header,
    "context": _context,
    "actions": _actions,
    "input": _input,
    "image": _image_block,
    "markdown": _markdown,
    "divider": _divider,
}


# -- public API ----------------------------------------------------------------
def validate_message_blocks(blocks: Any) -> list[str]:
    """Slack's ``response_metadata.messages`` for a message's blocks ([] when valid)."""
    validator = BlockValidator()
    validator.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    return validator.errors


def validate_view(view: Any) -> list[str]:
    """Slack's ``response_metadata.messages`` for a view payload ([] when valid)."""
    validator = BlockValidator()
    if not isinstance(view, dict):
        validator.fail("must provide an object", "/view")
        return validator.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        validator.fail("must be a valid enum value", "/view/type")
        return validator.errors
    if kind == "modal":
        validator.text(view.get("title"), "/view/title", 24, plain_only=True)
    for key in ("submit", "close"):
        validator.text(view.get(key), f"/view/{key}", 24, plain_only=True, required=False)
    validator.blocks(view.get("blocks"), "/view/blocks", MAX_VIEW_BLOCKS)
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
    if kind == "modal" and has_input and view.get("submit") is None:
        validator.fail("must provide submit when the view contains input blocks", "/view")
    validator.string(view.get("callback_id"), "/view/callback_id", 255, required=False)
    validator.string(view.get("private_metadata"), "/view/private_metadata", 3000, required=False)
    validator.string(view.get("external_id"), "/view/external_id", 255, required=False)
    return validator.errors


def _random_id(taken: set[str]) -> str:
    while True:
        candidate = "".join(secrets.choice(_ID_ALPHABET) for _ in range(5))
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def normalize_blocks(blocks: list[Any]) -> list[Any]:
    """Copy blocks the way Slack stores them: every block gets a block_id and
    every interactive element an action_id, so interaction payloads carry both."""
    result = copy.deepcopy(blocks)
    taken = {b["block_id"] for b in result if isinstance(b, dict) and isinstance(b.get("block_id"), str)}
    for block in result:
        if not isinstance(block, dict):
            continue
        if not block.get("block_id"):
            block["block_id"] = _random_id(taken)
        elements: list[Any] = list(block.get("elements") or []) if block.get("type") == "actions" else []
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict):
                elements.append(block[key])
        action_ids = {e["action_id"] for e in elements if isinstance(e, dict) and e.get("action_id")}
        for element in elements:
            interactive = isinstance(element, dict) and element.get("type") in INTERACTIVE_ELEMENTS
            if interactive and not element.get("action_id"):
                element["action_id"] = _random_id(action_ids)
    return result


_EMOJI_NAME = re.compile(r"^[a-z0-9_+'\-]+(::skin-tone-[2-6])?$")


def valid_emoji_name(name: str) -> bool:
    """Reaction names are bare emoji names: no surrounding colons or spaces."""
    return bool(_EMOJI_NAME.match(name))
