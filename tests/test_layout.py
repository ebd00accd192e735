"""The Slack simulator is a package of its own: the bot uses it only for the demo, and it knows no bot."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.paths import ROOT


def imported_top_levels(path: Path) -> dict[str, set[str]]:
    """For each module under `path`, the dotted names it imports (at any depth, lazily or not)."""
    found: dict[str, set[str]] = {}
    for file in sorted(path.rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[file.relative_to(ROOT).as_posix()] = names
    return found


def test_nothing_in_bot_but_the_demo_imports_the_simulator() -> None:
    users = {
        module
        for module, names in imported_top_levels(ROOT / "bot").items()
        if any(name == "slack_sim" or name.startswith("slack_sim.") for name in names)
    }
    assert users and all(module.startswith("bot/demo/") for module in users), users


def test_the_simulator_imports_nothing_from_bot() -> None:
    offenders = {
        module: sorted(name for name in names if name == "bot" or name.startswith("bot."))
        for module, names in imported_top_levels(ROOT / "slack_sim").items()
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_the_simulator_carries_its_reference_data_and_licences() -> None:
    reference = ROOT / "slack_sim" / "reference"
    assert (reference / "methods.json").is_file()
    assert (reference / "LICENSE-slack-api-ref.md").is_file() and (reference / "LICENSE-manifest-schema").is_file()
    assert len(list((reference / "methods").glob("*.json"))) >= 30
