"""bot/simulator/methods.json must match the Slack reference it was generated from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.simulator import _build_reference

REFERENCE = Path(__file__).resolve().parents[2].parent / "shared" / "slack-reference"
SHIPPED = Path(_build_reference.__file__).with_name("methods.json")


def shipped() -> dict[str, dict[str, Any]]:
    data: dict[str, dict[str, Any]] = json.loads(SHIPPED.read_text(encoding="utf-8"))
    return data


def test_shipped_table_is_well_formed() -> None:
    table = shipped()
    assert {"chat.postMessage", "views.open", "conversations.create", "reactions.remove"} <= set(table)
    for method, entry in table.items():
        assert set(entry) == {"required", "errors", "bot_scopes", "rate_tier"}, method
        assert "token" not in entry["required"], method
    assert table["reactions.remove"] == {
        "required": ["channel", "timestamp", "name"],
        "errors": ["channel_not_found", "message_not_found", "no_reaction"],
        "bot_scopes": ["reactions:write"],
        "rate_tier": "t2",
    }


@pytest.mark.skipif(not REFERENCE.is_dir(), reason="slack-reference checkout not available")
def test_methods_json_matches_reference() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == _build_reference.render(_build_reference.build(REFERENCE)), (
        "methods.json is stale: run python -m bot.simulator._build_reference " + str(REFERENCE)
    )
    # Independently of the generator: spot-check raw reference facts.
    raw = json.loads((REFERENCE / "methods" / "conversations.create.json").read_text(encoding="utf-8"))
    entry = shipped()["conversations.create"]
    assert entry["required"] == [a for a in raw["args"]["required"] if a != "token"]
    assert set(entry["errors"]) == set(raw["errors"])
    assert entry["bot_scopes"] == raw["scope"]["bot"] and entry["rate_tier"] == raw["rate_limits"]
    methods_in_reference = {p.stem for p in (REFERENCE / "methods").glob("*.json")}
    assert methods_in_reference | set(_build_reference.EXTRA_METHODS) == set(shipped())
