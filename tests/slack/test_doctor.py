"""`incident-bot doctor` on a good configuration and on each bad one, against the fake Slack, a real
database and a real docs repo (a clone of a bare remote)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bot.demo.docs_repo import DocsRepo
from bot.slack.scopes import BOT_SCOPES
from slack_sim import FakeSlack
from tests.slack.conftest import CliRun, run_cli


@pytest.fixture
def good(bot_env: dict[str, Any], fake_slack: FakeSlack, tmp_path: Path) -> dict[str, Any]:
    fake_slack.scopes = sorted(BOT_SCOPES)
    fake_slack.add_channel("briefing", members=["UALICE"], channel_id="CBRIEF", is_private=True)
    fake_slack.add_channel("ops", members=["UALICE"], channel_id="COPS", bot_is_member=False)
    owners = tmp_path / "owners.yml"
    owners.write_text("matt: UALICE\n", encoding="utf-8")
    # a public announce channel the bot has not joined: chat:write.public lets it post there
    env = {**bot_env, "INCIDENT_ANNOUNCE_CHANNEL": "COPS", "BRIEFING_CHANNEL": "CBRIEF", "OWNER_MAP": str(owners)}
    assert run_cli(env, "migrate").status == 0
    return env


def doctor(env: dict[str, Any]) -> CliRun:
    return run_cli(env, "doctor")


def failing(result: CliRun, name: str) -> str:
    """The ✗ line of check `name`; the doctor exits non-zero when there is one."""
    assert result.status == 1, result.out + result.err
    lines = [line for line in result.out.splitlines() if line.startswith("✗") and name in line]
    assert lines, result.out
    return lines[0]


def test_a_good_configuration_passes_every_check(good: dict[str, Any]) -> None:
    result = doctor(good)
    assert result.status == 0, result.out
    lines = result.out.strip().splitlines()
    assert lines and all(line.startswith("✓") for line in lines), result.out
    for name in ("Slack (SLACK_BOT_TOKEN)", "scopes", "INCIDENT_ANNOUNCE_CHANNEL", "BRIEFING_CHANNEL", "database"):
        assert any(name in line for line in lines), name
    assert any("dry-run push" in line for line in lines) and any("schema current" in line for line in lines)
    assert "xoxb-test" not in result.out


def test_missing_scopes_are_named_with_what_needs_them(good: dict[str, Any], fake_slack: FakeSlack) -> None:
    fake_slack.scopes = sorted(set(BOT_SCOPES) - {"pins:write", "im:write"})
    line = failing(doctor(good), "scopes")
    assert "pins:write" in line and "im:write" in line and "reinstall" in line


def test_a_refused_token_fails_the_slack_check(good: dict[str, Any]) -> None:
    assert "invalid_auth" in failing(doctor({**good, "SLACK_BOT_TOKEN": "xoxb-wrong"}), "SLACK_BOT_TOKEN")


def test_a_socket_mode_token_slack_refuses(good: dict[str, Any], fake_slack: FakeSlack) -> None:
    fake_slack.set_app_token("xapp-right")
    fake_slack.socket_mode_url = "ws://127.0.0.1:9/socket"
    line = failing(doctor({**good, "SLACK_APP_TOKEN": "xapp-wrong"}), "SLACK_APP_TOKEN")
    assert "connections:write" in line
    assert doctor({**good, "SLACK_APP_TOKEN": "xapp-right"}).status == 0


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("INCIDENT_ANNOUNCE_CHANNEL", "#incidents", "not a channel ID"),
        ("BRIEFING_CHANNEL", "CSECRET", "/invite the bot"),
        ("BRIEFING_CHANNEL", "CNOWHERE", "channel_not_found"),
    ],
)
def test_channels_the_bot_cannot_post_to(
    good: dict[str, Any], fake_slack: FakeSlack, variable: str, value: str, said: str
) -> None:
    fake_slack.add_channel("secret", members=["UALICE"], channel_id="CSECRET", is_private=True, bot_is_member=False)
    assert said in failing(doctor({**good, variable: value}), variable)


def test_a_database_behind_or_unreachable(good: dict[str, Any], tmp_path: Path) -> None:
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert "incident-bot migrate" in failing(doctor({**good, "DATABASE_URL": fresh}), "DATABASE_URL")
    assert "not a database URL" in failing(doctor({**good, "DATABASE_URL": "notaurl"}), "DATABASE_URL")


def test_docs_repo_problems(good: dict[str, Any], docs_repo: DocsRepo, tmp_path: Path) -> None:
    assert "does not exist" in failing(doctor({**good, "DOCS_REPO_PATH": str(tmp_path / "nope")}), "DOCS_REPO_PATH")
    plain = tmp_path / "plain"
    plain.mkdir()
    assert "not a git repository" in failing(doctor({**good, "DOCS_REPO_PATH": str(plain)}), "DOCS_REPO_PATH")
    assert "not set" in failing(doctor({k: v for k, v in good.items() if k != "DOCS_REPO_PATH"}), "DOCS_REPO_PATH")
    docs_repo.remote.rename(tmp_path / "remote-gone.git")
    assert "unreachable" in failing(doctor(good), "docs repo remote")


def test_a_docs_clone_without_upstream(good: dict[str, Any], docs_repo: DocsRepo) -> None:
    import git

    git.Repo(docs_repo.clone).git.branch("--unset-upstream")
    assert "no upstream" in failing(doctor(good), "DOCS_REPO_PATH")


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("# {{ title }\n", "rca.md.j2:1"),
        ("# {{ title }}\n\n{{ no_such_thing.field }}\n", "rca.md.j2:3"),
    ],
    ids=["syntax", "undefined"],
)
def test_a_template_that_does_not_render_is_named_with_its_line(
    good: dict[str, Any], tmp_path: Path, template: str, said: str
) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "rca.md.j2").write_text(template, encoding="utf-8")
    assert said in failing(doctor({**good, "TEMPLATES_DIR": str(folder)}), "TEMPLATES_DIR")
    shutil.rmtree(folder)
    assert "not a folder" in failing(doctor({**good, "TEMPLATES_DIR": str(folder)}), "TEMPLATES_DIR")


def test_an_owner_map_with_unknown_users(good: dict[str, Any], tmp_path: Path) -> None:
    owners = tmp_path / "bad-owners.yml"
    owners.write_text("matt: UNOBODY1\nkim: kim\n", encoding="utf-8")
    assert "not Slack user IDs: kim" in failing(doctor({**good, "OWNER_MAP": str(owners)}), "OWNER_MAP")
    owners.write_text("matt: UNOBODY1\n", encoding="utf-8")
    assert "no such Slack users: UNOBODY1" in failing(doctor({**good, "OWNER_MAP": str(owners)}), "OWNER_MAP")
