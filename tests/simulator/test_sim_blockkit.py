"""Block Kit validation limits and Slack-style error messages."""

from __future__ import annotations

from typing import Any

from slack_sim.blockkit import normalize_blocks, valid_emoji_name, validate_message_blocks, validate_view


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def button(text: str, action_id: str, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain(text), "action_id": action_id, **extra}


def test_valid_message_passes() -> None:
    blocks = [
        {"type": "header", "text": plain("SEV1: Database down")},
        {"type": "section", "text": {"type": "mrkdwn", "text": "*Status*"}, "fields": [plain("a")] * 10},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "x"}] * 10},
        {"type": "divider"},
        {"type": "actions", "elements": [button("Ack", "ack"), button("Resolve", "resolve", style="danger")]},
    ]
    assert validate_message_blocks(blocks) == []


def test_limits_produce_json_pointers() -> None:
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}},
        {"type": "section", "fields": [plain("f")] * 11},
        {"type": "actions", "elements": [button("x" * 76, "a"), button("ok", "a")]},
        {"type": "context", "elements": []},
        {"type": "fancy"},
    ]
    assert validate_message_blocks(blocks) == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text]",
        "[ERROR] no more than 10 items allowed [json-pointer:/blocks/1/fields]",
        "[ERROR] must be less than 76 characters [json-pointer:/blocks/2/elements/0/text]",
        "[ERROR] duplicate action_id: a [json-pointer:/blocks/2/elements/1/action_id]",
        "[ERROR] must provide at least 1 items [json-pointer:/blocks/3/elements]",
        "[ERROR] unsupported type: fancy [json-pointer:/blocks/4]",
    ]


def test_message_block_count_and_ids() -> None:
    assert validate_message_blocks([{"type": "divider"}] * 50) == []
    assert validate_message_blocks([{"type": "divider"}] * 51) == [
        "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"
    ]
    dup = [{"type": "divider", "block_id": "a"}, {"type": "divider", "block_id": "a"}]
    assert validate_message_blocks(dup) == ["[ERROR] duplicate block_id: a [json-pointer:/blocks/1/block_id]"]
    assert validate_message_blocks([{"type": "header", "text": {"type": "mrkdwn", "text": "x"}}]) == [
        "[ERROR] failed to match all allowed schemas [json-pointer:/blocks/0/text]"
    ]
    assert validate_message_blocks([{"type": "section", "text": plain("")}]) == [
        "[ERROR] must be more than 0 characters [json-pointer:/blocks/0/text]"
    ]


def test_select_and_input_limits() -> None:
    option = {"text": plain("one"), "value": "1"}
    select = {"type": "static_select", "action_id": "s", "placeholder": plain("Pick"), "options": [option] * 101}
    assert validate_message_blocks([{"type": "actions", "elements": [select]}]) == [
        "[ERROR] no more than 100 items allowed [json-pointer:/blocks/0/elements/0/options]"
    ]
    select["options"] = [option]
    select["initial_option"] = {"text": plain("two"), "value": "2"}
    assert validate_message_blocks([{"type": "actions", "elements": [select]}]) == [
        "[ERROR] must match one of the provided options [json-pointer:/blocks/0/elements/0/initial_option]"
    ]
    text_input = {"type": "plain_text_input", "action_id": "t", "max_length": 5, "initial_value": "toolong"}
    block = {"type": "input", "label": plain("x" * 2001), "element": text_input}
    assert validate_message_blocks([block]) == [
        "[ERROR] must be less than 2001 characters [json-pointer:/blocks/0/label]",
        "[ERROR] must be less than 6 characters [json-pointer:/blocks/0/element/initial_value]",
    ]
    boxes = {"type": "checkboxes", "action_id": "c", "options": [option] * 11}
    assert validate_message_blocks([{"type": "input", "label": plain("x"), "element": boxes}]) == [
        "[ERROR] no more than 10 items allowed [json-pointer:/blocks/0/element/options]"
    ]


def test_view_rules() -> None:
    view: dict[str, Any] = {
        "type": "modal",
        "title": plain("x" * 25),
        "submit": plain("Go"),
        "callback_id": "c" * 256,
        "private_metadata": "m" * 3001,
        "blocks": [{"type": "input", "label": plain("L"), "element": {"type": "plain_text_input"}}],
    }
    assert validate_view(view) == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title]",
        "[ERROR] must be less than 256 characters [json-pointer:/view/callback_id]",
        "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]",
    ]
    del view["submit"]
    view.update(title=plain("ok"), callback_id="c", private_metadata="")
    assert validate_view(view) == [
        "[ERROR] must provide submit when the view contains input blocks [json-pointer:/view]"
    ]
    assert validate_view({"type": "home", "blocks": [{"type": "divider"}] * 100}) == []
    assert validate_view({"type": "home", "blocks": [{"type": "divider"}] * 101}) == [
        "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"
    ]


def test_normalize_assigns_ids_without_touching_input() -> None:
    blocks = [{"type": "actions", "elements": [{"type": "button", "text": plain("Go")}]}]
    normalized = normalize_blocks(blocks)
    assert "block_id" not in blocks[0]
    assert normalized[0]["block_id"] and normalized[0]["elements"][0]["action_id"]


def test_emoji_names() -> None:
    assert valid_emoji_name("white_check_mark") and valid_emoji_name("+1")
    assert valid_emoji_name("thumbsup::skin-tone-2")
    assert not valid_emoji_name(":eyes:") and not valid_emoji_name("two words") and not valid_emoji_name("")
