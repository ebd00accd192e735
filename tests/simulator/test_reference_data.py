"""slack_sim/reference/methods.json must match the Slack reference it was generated from."""

from __future__ import annotations

import json
from typing import Any

from scripts import build_slack_reference
from tests.paths import SLACK_REFERENCE

SHIPPED = SLACK_REFERENCE / "methods.json"


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


def test_methods_json_matches_reference() -> None:
    rebuilt = build_slack_reference.render(build_slack_reference.build(SLACK_REFERENCE))
    assert SHIPPED.read_text(encoding="utf-8") == rebuilt, (
        "methods.json is stale: run python scripts/build_slack_reference.py"
    )
    # Independently of the generator: spot-check raw reference facts.
    raw = json.loads((SLACK_REFERENCE / "methods" / "conversations.create.json").read_text(encoding="utf-8"))
    entry = shipped()["conversations.create"]
    assert entry["required"] == [a for a in raw["args"]["required"] if a != "token"]
    assert set(entry["errors"]) == set(raw["errors"])
    assert entry["bot_scopes"] == raw["scope"]["bot"] and entry["rate_tier"] == raw["rate_limits"]
    methods_in_reference = {p.stem for p in (SLACK_REFERENCE / "methods").glob("*.json")}
    assert methods_in_reference | set(build_slack_reference.EXTRA_METHODS) == set(shipped())


def test_the_build_script_writes_the_table_where_the_simulator_reads_it() -> None:
    assert build_slack_reference.OUTPUT.resolve() == SHIPPED.resolve()
