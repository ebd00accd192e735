"""manifest.yml must be valid, match the listeners, and ask for exactly the scopes the code uses."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import slack_sdk
import yaml

from bot.slack.listeners import BOT_EVENTS, MESSAGE_SHORTCUTS, SLASH_COMMAND
from tests.paths import SLACK_REFERENCE

REPO_ROOT = Path(__file__).resolve().parent.parent
MANIFEST_PATH = REPO_ROOT / "manifest.yml"
MANIFEST_SCHEMA = SLACK_REFERENCE / "manifest.schema.1.0.0.json"
METHODS_DIR = SLACK_REFERENCE / "methods"

# The reference lists every scope that grants a method for *some* conversation type, so "any one of
# them" would let a wrong manifest pass. For such methods, and for methods the reference lacks, this
# table says which scopes this bot needs, all of them. A call to any other multi-scope method fails
# until someone decides here.
CHOSEN_SCOPES: dict[str, frozenset[str]] = {
    # Incident rooms are public or private, so each room operation needs both the channels:* and
    # the groups:* grant; channels:manage/groups:write already cover invite and topic.
    "conversations.create": frozenset({"channels:manage", "groups:write"}),
    "conversations.invite": frozenset({"channels:manage", "groups:write"}),
    "conversations.setTopic": frozenset({"channels:manage", "groups:write"}),
    # Resolved incident rooms are archived (ARCHIVE_AFTER_DAYS), and unarchived when reopened.
    "conversations.archive": frozenset({"channels:manage", "groups:write"}),
    "conversations.unarchive": frozenset({"channels:manage", "groups:write"}),
    "conversations.info": frozenset({"channels:read", "groups:read"}),
    # Who may change an action item: membership of public and private incident channels.
    "conversations.members": frozenset({"channels:read", "groups:read"}),
    # A retried job looks for its own earlier post in channels and in DMs (message metadata).
    "conversations.history": frozenset({"channels:history", "groups:history", "im:history"}),
    # Finding the incident channel an interrupted attempt created.
    "conversations.list": frozenset({"channels:read", "groups:read"}),
    "conversations.replies": frozenset({"channels:history", "groups:history"}),
    # Only ever used to open a DM with one person (reminders), never a group DM or channel.
    "conversations.open": frozenset({"im:write"}),
    # The announcement channel is configured, and the bot is not necessarily a member of it.
    "chat.postMessage": frozenset({"chat:write", "chat:write.public"}),
    # Absent from the reference; Slack documents it with the same scope as reactions.add.
    "reactions.remove": frozenset({"reactions:write"}),
    # slack_sdk's files_upload_v2: files.getUploadURLExternal and files.completeUploadExternal, both files:write.
    "files.upload.v2": frozenset({"files:write"}),
}

# Scopes Slack requires before it will deliver each event to the app.
EVENT_SCOPES: dict[str, frozenset[str]] = {
    "reaction_added": frozenset({"reactions:read"}),
    "reaction_removed": frozenset({"reactions:read"}),
    "message.channels": frozenset({"channels:history"}),
    "message.groups": frozenset({"groups:history"}),
    "message.im": frozenset({"im:history"}),
    "message.mpim": frozenset({"mpim:history"}),
    "app_home_opened": frozenset(),
}

COMMANDS_SCOPE = "commands"

# Every public method of WebClient, so a call to one the reference does not describe fails loudly
# instead of being skipped by the scan.
WEB_CLIENT_METHODS = frozenset(
    name for name, value in vars(slack_sdk.WebClient).items() if callable(value) and not name.startswith("_")
)


@dataclass(frozen=True)
class SlackCall:
    method: str
    path: str
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def load_manifest() -> dict[str, Any]:
    loaded = yaml.safe_load(MANIFEST_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), "manifest.yml must be a YAML mapping"
    return loaded


def load_method_reference(methods_dir: Path) -> dict[str, list[str]]:
    """API method name -> the bot scopes the reference lists for it (empty when none is needed)."""
    reference: dict[str, list[str]] = {}
    for path in sorted(methods_dir.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        reference[path.stem] = list(data.get("scope", {}).get("bot", []))
    return reference


def python_names(api_methods: Iterable[str]) -> dict[str, str]:
    """WebClient's Python name for each API method: chat.postMessage -> chat_postMessage."""
    return {method.replace(".", "_"): method for method in api_methods}


def _api_call_method(call: ast.Call) -> str | None:
    candidates = list(call.args[:1]) + [kw.value for kw in call.keywords if kw.arg == "api_method"]
    for node in candidates:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
    return None


def _web_api_method(node: ast.AST, known: Mapping[str, str]) -> str | None:
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "api_call":
        return _api_call_method(node)
    # Any `x.chat_postMessage` counts, called on the spot or handed over as a bound method
    # (bot/slack wraps calls as `_call(self._client.chat_postMessage, ...)` for error mapping).
    if not isinstance(node, ast.Attribute):
        return None
    if node.attr in known:
        return known[node.attr]
    if node.attr in WEB_CLIENT_METHODS:
        # A real Web API method the reference does not cover; keep it so the check complains.
        return node.attr.replace("_", ".")
    return None


def scan_slack_calls(repo_root: Path, known: Mapping[str, str]) -> list[SlackCall]:
    """Every `x.<web_api_method>` and `x.api_call("a.b")` in bot/, except the simulator."""
    calls: list[SlackCall] = []
    bot_dir = repo_root / "bot"
    simulator = bot_dir / "simulator"
    for path in sorted(bot_dir.rglob("*.py")):
        if simulator in path.parents:
            continue
        relative = path.relative_to(repo_root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
        for node in ast.walk(tree):
            method = _web_api_method(node, known)
            if method is not None:
                calls.append(SlackCall(method, relative, getattr(node, "lineno", 0)))
    return sorted(calls, key=lambda call: (call.path, call.line, call.method))


def needed_scopes(
    *,
    calls: Iterable[SlackCall],
    bot_events: Iterable[str],
    has_commands: bool,
    reference: Mapping[str, list[str]],
) -> tuple[dict[str, list[str]], list[str]]:
    """(scope -> why it is needed, problems that stop a decision) for the given calls and events."""
    reasons: dict[str, list[str]] = {}
    problems: list[str] = []

    def need(scopes: Iterable[str], why: str) -> None:
        for scope in scopes:
            reasons.setdefault(scope, []).append(why)

    for call in calls:
        listed = reference.get(call.method)
        if call.method in CHOSEN_SCOPES:
            chosen = CHOSEN_SCOPES[call.method]
            if listed and not chosen & set(listed):
                problems.append(
                    f"CHOSEN_SCOPES[{call.method!r}] = {sorted(chosen)} shares no scope with the "
                    f"reference's {sorted(listed)}"
                )
            need(chosen, f"{call.method} ({call.where()})")
        elif listed is None:
            problems.append(f"{call.method} ({call.where()}) is not in the Slack reference: add it to CHOSEN_SCOPES")
        elif len(listed) == 1:
            need(listed, f"{call.method} ({call.where()})")
        elif listed:
            problems.append(
                f"{call.method} ({call.where()}) can use any of {sorted(listed)}: "
                "add the ones this bot needs to CHOSEN_SCOPES"
            )
    for event in bot_events:
        if event not in EVENT_SCOPES:
            problems.append(f"event {event!r} has no entry in EVENT_SCOPES")
            continue
        need(EVENT_SCOPES[event], f"event {event}")
    if has_commands:
        need([COMMANDS_SCOPE], "slash command / shortcuts")
    return reasons, problems


def scope_problems(
    *,
    manifest_scopes: Iterable[str],
    calls: list[SlackCall],
    bot_events: Iterable[str],
    has_commands: bool,
    reference: Mapping[str, list[str]],
) -> list[str]:
    """Human-readable reasons the manifest's bot scopes are not exactly what the code needs."""
    granted = set(manifest_scopes)
    reasons, problems = needed_scopes(
        calls=calls, bot_events=bot_events, has_commands=has_commands, reference=reference
    )
    for call in calls:
        listed = reference.get(call.method)
        if listed and not granted & set(listed):
            problems.append(f"{call.method} ({call.where()}) needs one of {sorted(listed)}; none is granted")
    for scope in sorted(set(reasons) - granted):
        problems.append(f"missing bot scope {scope!r}, needed by: {', '.join(sorted(set(reasons[scope])))}")
    for scope in sorted(granted - set(reasons)):
        problems.append(
            f"unjustified bot scope {scope!r}: no scanned Slack call, event or command needs it "
            "(least privilege: remove it, or extend CHOSEN_SCOPES/EVENT_SCOPES with the reason)"
        )
    return problems


def manifest_bot_scopes(manifest: Mapping[str, Any]) -> list[str]:
    return list(manifest.get("oauth_config", {}).get("scopes", {}).get("bot", []))


def manifest_bot_events(manifest: Mapping[str, Any]) -> list[str]:
    return list(manifest.get("settings", {}).get("event_subscriptions", {}).get("bot_events", []))


def has_interactive_entrypoints(manifest: Mapping[str, Any]) -> bool:
    features = manifest.get("features", {})
    return bool(features.get("slash_commands") or features.get("shortcuts"))


def require_reference() -> dict[str, list[str]]:
    return load_method_reference(METHODS_DIR)


def test_manifest_matches_the_json_schema() -> None:
    schema = json.loads(MANIFEST_SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(load_manifest()), key=lambda error: list(error.path))
    assert not errors, "manifest.yml does not match the Slack schema:\n" + "\n".join(
        f"  at {'/'.join(map(str, error.path)) or '(root)'}: {error.message}" for error in errors
    )


def test_manifest_declares_exactly_the_registered_listeners() -> None:
    manifest = load_manifest()
    features = manifest["features"]

    assert [command["command"] for command in features["slash_commands"]] == [SLASH_COMMAND]
    # Mentions arrive as <@U123|name> only when Slack escapes them, and the command parser relies on it.
    assert features["slash_commands"][0]["should_escape"] is True

    shortcuts = {shortcut["callback_id"]: shortcut for shortcut in features.get("shortcuts", [])}
    assert {callback_id: shortcut["name"] for callback_id, shortcut in shortcuts.items()} == MESSAGE_SHORTCUTS
    assert all(shortcut["type"] == "message" for shortcut in shortcuts.values())

    assert manifest_bot_events(manifest) == list(BOT_EVENTS)


def test_manifest_settings_suit_socket_mode() -> None:
    manifest = load_manifest()
    settings = manifest["settings"]
    assert "_metadata" not in manifest, "a version 1 manifest has no _metadata"
    assert manifest["features"]["bot_user"] == {"display_name": "incident-bot", "always_online": True}
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_bot_scopes_are_exactly_what_the_code_uses() -> None:
    reference = require_reference()
    known = python_names([*reference, *CHOSEN_SCOPES])
    calls = scan_slack_calls(REPO_ROOT, known)
    assert calls, (
        "found no Slack Web API calls in bot/ (outside bot/simulator/); the scope check would pass "
        "vacuously, so the scanner or the code layout has changed"
    )
    manifest = load_manifest()
    problems = scope_problems(
        manifest_scopes=manifest_bot_scopes(manifest),
        calls=calls,
        bot_events=manifest_bot_events(manifest),
        has_commands=has_interactive_entrypoints(manifest),
        reference=reference,
    )
    assert not problems, "manifest.yml bot scopes do not match the code:\n" + "\n".join(
        f"  - {problem}" for problem in problems
    )


def test_the_doctor_checks_the_scopes_the_manifest_asks_for() -> None:
    from bot.slack.scopes import BOT_SCOPES

    assert sorted(BOT_SCOPES) == sorted(manifest_bot_scopes(load_manifest()))


# The checker itself, on a small synthetic bot/ tree, so a bug in it cannot hide a bad manifest.

# The Slack calls planned for bot/slack; the manifest is written against these until that code lands.
EXPECTED_CALLS = (
    "conversations_create",
    "conversations_invite",
    "conversations_setTopic",
    "conversations_info",
    "conversations_history",
    "conversations_replies",
    "conversations_open",
    "chat_postMessage",
    "chat_update",
    "chat_postEphemeral",
    "chat_getPermalink",
    "reactions_add",
    "reactions_remove",
    "users_info",
    "users_list",
    "views_open",
    "views_update",
    "views_push",
    "auth_test",
)


def write_bot(root: Path, files: Mapping[str, str]) -> Path:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return root


def problems_for(root: Path, reference: Mapping[str, list[str]]) -> list[str]:
    manifest = load_manifest()
    return scope_problems(
        manifest_scopes=manifest_bot_scopes(manifest),
        calls=scan_slack_calls(root, python_names([*reference, *CHOSEN_SCOPES])),
        bot_events=manifest_bot_events(manifest),
        has_commands=has_interactive_entrypoints(manifest),
        reference=reference,
    )


def test_scope_check_reports_missing_unjustified_and_undecided_scopes(tmp_path: Path) -> None:
    reference = require_reference()
    planned = [name for name in EXPECTED_CALLS if name != "conversations_open"]
    source = "\n".join(f"client.{name}()" for name in planned)
    extra = 'client.api_call("team.info")\n_call(client.conversations_rename, channel="C1")\n'
    root = write_bot(
        tmp_path,
        {
            "bot/slack/notifier.py": source + "\n" + extra,
            # The simulator talks to Slack on its own terms and must not justify scopes.
            "bot/simulator/driver.py": "client.conversations_open(users='U1')\n",
            "bot/slack/comments.py": '"""client.bookmarks_add() in a docstring is not a call."""\n',
        },
    )
    problems = "\n".join(problems_for(root, reference))
    assert "unjustified bot scope 'im:write'" in problems
    assert "missing bot scope 'team:read', needed by: team.info (bot/slack/notifier.py:" in problems
    assert "conversations.rename (bot/slack/notifier.py:" in problems
    assert "CHOSEN_SCOPES" in problems
    # The manifest's bookmark scopes are unjustified here, but no call to bookmarks.add was found.
    assert "bookmarks.add (" not in problems


def test_scan_flags_web_client_methods_missing_from_the_reference(tmp_path: Path) -> None:
    reference = require_reference()
    root = write_bot(tmp_path, {"bot/slack/files.py": "client.files_remote_add(title='x')\n"})
    calls = scan_slack_calls(root, python_names([*reference, *CHOSEN_SCOPES]))
    assert calls == [SlackCall("files.remote.add", "bot/slack/files.py", 1)]
    reasons, problems = needed_scopes(calls=calls, bot_events=[], has_commands=False, reference=reference)
    assert reasons == {}
    assert problems == [
        "files.remote.add (bot/slack/files.py:1) is not in the Slack reference: add it to CHOSEN_SCOPES"
    ]
