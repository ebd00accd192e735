"""`incident-bot demo`: a newcomer's first command must work on a bare machine and tell the truth."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.rca_parse import parse_rca
from bot.demo import run_demo
from slack_sim import FakeSlack

FLEET_LINE = "- [system] **INCIDENT — SEV-2 Gateway auth outage ("


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _rca_path(day: str) -> str:
    return f"DOCS/incidents/{day}-gateway-auth-outage-rca.md"


def test_demo_command_plays_an_incident_into_a_kept_docs_repo(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    kept = tmp_path / "kept"
    # As on a newcomer's machine: no Slack credentials and no git identity anywhere.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "GIT_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), GIT_CONFIG_NOSYSTEM="1", PYTHONIOENCODING="utf-8")
    days = {_today()}
    run = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--keep", str(kept)],
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    days.add(_today())  # the run may straddle midnight UTC
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    assert "Traceback" not in out + run.stderr

    path = next((_rca_path(day) for day in days if _rca_path(day) in out), None)
    assert path is not None, out
    assert "→ /incident sev3 Gateway auth outage" in out
    assert "✓ #inc-" in out and "announced in #incidents" in out
    fleet = [line.strip() for line in out.splitlines() if line.strip().startswith(FLEET_LINE)]
    assert len(fleet) == 1 and f"Full RCA: `{path}`" in fleet[0]
    assert "\n  commit " in out and "incident-bot <" in out  # git log -1 --stat of the remote

    remote = kept / "docs.git"
    rca = subprocess.run(
        ["git", "-C", str(remote), "show", f"main:{path}"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert "## Action items" in rca
    parsed = parse_rca(rca)
    assert [(item.number, item.action, item.owner_id) for item in parsed.action_items] == [
        (1, "Page a human when 3+ agents fail", "UBOB")
    ]
    for pinned in ["Watchdog: 6/10 agents failing with 401", "Restored, gateway restarted", "All 10 agents green"]:
        assert pinned in rca
    assert "Restoring auth-profiles.json from backup" not in rca  # never pinned
    assert rca.index("Incident declared") < rca.index("Watchdog: 6/10 agents failing")
    assert (kept / "docs" / path).is_file() and (kept / "incident-bot.db").is_file()
    assert str(kept) in out


def test_run_demo_ignores_the_callers_slack_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A user trying the demo on a machine already set up for the real bot.
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-real")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-real")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    monkeypatch.setenv("DOCS_REPO_PATH", "/nonexistent")
    out = io.StringIO()
    assert run_demo(out) == 0, out.getvalue()
    assert FLEET_LINE in out.getvalue()
    assert "It all ran in a temporary directory" in out.getvalue()


def test_run_demo_refuses_a_directory_holding_an_earlier_demo(tmp_path: Path) -> None:
    (tmp_path / "docs.git").mkdir()
    out = io.StringIO()
    assert run_demo(out, keep=str(tmp_path)) == 1
    assert "already holds docs.git" in out.getvalue()


def test_a_failing_step_is_one_clear_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    start = FakeSlack.start

    def refusing_channels(self: FakeSlack) -> FakeSlack:
        started = start(self)
        self.fail_next("conversations.create", "restricted_action", times=50)
        return started

    monkeypatch.setattr(FakeSlack, "start", refusing_channels)
    out = io.StringIO()
    assert run_demo(out) == 1
    failed = [line for line in out.getvalue().splitlines() if line.startswith("  ✗ ")]
    assert len(failed) == 1, out.getvalue()
    assert "incident channel" in failed[0]
