"""The container and its neighbours: the Dockerfile passes hadolint and has the shape operators rely
on, the entry point clones the docs repo and wires git's credentials, compose.yaml runs PostgreSQL
and two replicas, and .env.example lists every variable."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.config import Settings
from bot.demo.docs_repo import create_docs_repo

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
# Read by the entry point or the image, not by the bot's Settings.
CONTAINER_VARIABLES = {"DOCS_REPO_URL", "GIT_SSH_KEY_FILE", "GIT_TOKEN_FILE", "GIT_TOKEN_USERNAME", "PORT"}
LOGGING_VARIABLES = {"LOG_LEVEL", "LOG_FORMAT"}


def hadolint() -> str:
    found = Path(sys.executable).with_name("hadolint")
    return str(found) if found.exists() else shutil.which("hadolint") or "hadolint"


def test_hadolint_passes() -> None:
    result = subprocess.run(
        [hadolint(), "--failure-threshold", "info", "-"], input=DOCKERFILE, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_builds_in_stages_and_runs_as_a_numeric_user_with_a_healthcheck() -> None:
    stages = re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE)
    assert len(stages) >= 2 and all(
        re.fullmatch(r"python:3\.\d+-slim(?: AS \w+)?", s) or s.endswith("-slim") for s in stages
    )
    assert re.search(r"^USER \d+:\d+$", DOCKERFILE, flags=re.MULTILINE)
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz.*PORT", DOCKERFILE, flags=re.MULTILINE)
    assert "VOLUME /data" in DOCKERFILE
    for package in ("bot", "slack_sim"):  # what pyproject.toml packages (the demo needs slack_sim)
        assert f"COPY {package} ./{package}" in DOCKERFILE, package
    # the dependencies' layer comes before the code, so a code change does not reinstall them
    assert DOCKERFILE.index("COPY pyproject.toml") < DOCKERFILE.index("--requirement") < DOCKERFILE.index("COPY bot")


def test_env_example_lists_every_variable_with_its_default() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    listed = dict(re.findall(r"^([A-Z_][A-Z0-9_]*)=(.*)$", example, flags=re.MULTILINE))
    wanted = {name.upper() for name in Settings.model_fields} | CONTAINER_VARIABLES | LOGGING_VARIABLES
    assert wanted <= set(listed), wanted - set(listed)
    for name, field in Settings.model_fields.items():
        if isinstance(field.default, (str, int, float)) and name not in ("database_url",):
            assert listed[name.upper()] in (
                str(field.default),
                f"{field.default:g}" if isinstance(field.default, float) else "",
            ), name


def test_compose_runs_postgres_and_two_replicas_one_of_them_web_only() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"postgres", "bot", "bot-web"} <= set(services)
    assert services["bot-web"]["environment"]["WORKER_THREADS"] == "0"
    assert services["bot"]["environment"]["WORKER_THREADS"] != "0"
    for name in ("bot", "bot-web"):
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgresql+psycopg://")
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


@pytest.fixture
def stub_bot(tmp_path: Path) -> Path:
    """An `incident-bot` on PATH that says how it was started (the entry point ends by exec'ing it)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    stub = folder / "incident-bot"
    stub.write_text('#!/bin/sh\necho "args: $*"\necho "docs: ${DOCS_REPO_PATH:-unset}"\n', encoding="utf-8")
    stub.chmod(0o755)
    return folder


def entrypoint(env: dict[str, str], stub_bot: Path, *args: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "DOCS_"))}
    return subprocess.run(
        ["sh", str(ENTRYPOINT), *args],
        env={**base, "PATH": f"{stub_bot}:{os.environ['PATH']}", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_entrypoint_clones_the_docs_repo_once_and_starts_serve(stub_bot: Path, tmp_path: Path) -> None:
    remote = create_docs_repo(tmp_path / "seed").remote
    docs = tmp_path / "data" / "docs"
    env = {"HOME": str(tmp_path / "home"), "DOCS_REPO_URL": str(remote), "DOCS_REPO_PATH": str(docs), "PORT": "3123"}
    first = entrypoint(env, stub_bot)
    assert first.returncode == 0, first.stderr
    assert "args: serve --port 3123" in first.stdout and f"docs: {docs}" in first.stdout
    assert (docs / ".git").is_dir() and "cloning DOCS_REPO_URL" in first.stderr
    again = entrypoint(env, stub_bot, "doctor")
    assert again.returncode == 0 and "args: doctor" in again.stdout and "cloning" not in again.stderr
    name = subprocess.run(
        ["git", "config", "--global", "user.name"],
        env={**os.environ, "HOME": env["HOME"]},
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert name == "incident-bot"


def test_the_entrypoint_gives_git_a_token_from_the_mounted_secret(stub_bot: Path, tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("s3cret-token\n", encoding="utf-8")
    home = str(tmp_path / "home")
    assert entrypoint({"HOME": home, "GIT_TOKEN_FILE": str(token)}, stub_bot).returncode == 0
    asked = subprocess.run(
        ["git", "credential", "fill"],
        input="protocol=https\nhost=git.example.com\n\n",
        env={**os.environ, "HOME": home, "GIT_TERMINAL_PROMPT": "0"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "username=x-access-token" in asked.stdout and "password=s3cret-token" in asked.stdout
    config = (tmp_path / "home" / ".gitconfig").read_text(encoding="utf-8")
    assert "s3cret-token" not in config  # read from the secret each time, never copied


def test_an_unreadable_key_file_stops_the_container(stub_bot: Path, tmp_path: Path) -> None:
    result = entrypoint({"HOME": str(tmp_path / "home"), "GIT_SSH_KEY_FILE": str(tmp_path / "missing")}, stub_bot)
    assert result.returncode == 2 and "GIT_SSH_KEY_FILE" in result.stderr and "args:" not in result.stdout
