"""Regenerate ``slack_sim/reference/methods.json`` from the Slack reference data.

Run from the repository root when the reference changes::

    python scripts/build_slack_reference.py [PATH/TO/slack-reference]

The default source is the copy in ``slack_sim/reference/``. The fake Slack server reads the
compact table this writes (one small file instead of a folder of method documents).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).resolve().parents[1] / "slack_sim" / "reference"
OUTPUT = REFERENCE / "methods.json"

# Methods the bot calls that the reference data does not cover, listed from
# Slack's public documentation.
EXTRA_METHODS: dict[str, dict[str, Any]] = {
    "conversations.list": {
        "required": [],
        "errors": ["invalid_cursor", "invalid_limit", "invalid_types", "missing_scope"],
        "bot_scopes": ["channels:read", "groups:read", "im:read", "mpim:read"],
        "rate_tier": "t2",
    },
    # The two Web API calls of slack_sdk's files_upload_v2 (the bytes go to the URL the first returns).
    "files.getUploadURLExternal": {
        "required": ["filename", "length"],
        "errors": [
            "alt_txt_too_large",
            "file_upload_size_restricted",
            "file_uploads_disabled",
            "missing_argument",
            "snippet_too_large",
            "storage_limit_reached",
            "unknown_snippet_type",
        ],
        "bot_scopes": ["files:write"],
        "rate_tier": "t4",
    },
    "files.completeUploadExternal": {
        "required": ["files"],
        "errors": [
            "access_denied",
            "file_not_found",
            "file_update_failed",
            "invalid_arguments",
            "invalid_channel",
            "not_in_channel",
            "posting_to_channel_denied",
        ],
        "bot_scopes": ["files:write"],
        "rate_tier": "t4",
    },
    "reactions.remove": {
        "required": ["channel", "timestamp", "name"],
        "errors": ["channel_not_found", "message_not_found", "no_reaction"],
        "bot_scopes": ["reactions:write"],
        "rate_tier": "t2",
    },
}


def summarise(spec: dict[str, Any]) -> dict[str, Any]:
    """Reduce one reference method file to what the fake needs."""
    args = spec.get("args") or {}
    required = [name for name in args.get("required", []) if name != "token"]
    scope = spec.get("scope") or {}
    return {
        "required": required,
        "errors": sorted((spec.get("errors") or {}).keys()),
        "bot_scopes": list(scope.get("bot") or []),
        "rate_tier": spec.get("rate_limits") or "",
    }


def build(reference_dir: Path) -> dict[str, dict[str, Any]]:
    """Return the compact method table for every method file in ``reference_dir``."""
    methods: dict[str, dict[str, Any]] = {}
    for path in sorted((reference_dir / "methods").glob("*.json")):
        methods[path.stem] = summarise(json.loads(path.read_text(encoding="utf-8")))
    for name, entry in EXTRA_METHODS.items():
        methods.setdefault(name, entry)
    return dict(sorted(methods.items()))


def render(methods: dict[str, dict[str, Any]]) -> str:
    """Serialise deterministically so regenerating gives a clean diff."""
    return json.dumps(methods, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) > 1:
        sys.stderr.write("usage: python scripts/build_slack_reference.py [PATH/TO/slack-reference]\n")
        return 2
    reference_dir = Path(argv[0]) if argv else REFERENCE
    if not (reference_dir / "methods").is_dir():
        sys.stderr.write(f"{reference_dir} has no methods/ folder\n")
        return 1
    OUTPUT.write_text(render(build(reference_dir)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
