"""The README's first two commands are the ones a newcomer runs; CI runs the second one verbatim."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.cli import parser

ROOT = Path(__file__).resolve().parents[1]


def first_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("```sh", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_readme_starts_with_install_and_run_then_install_and_test() -> None:
    run, test = first_commands()
    assert "pip install ." in run and run.endswith("incident-bot demo")
    assert "pip install -e '.[test]'" in test and test.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, test = first_commands()
    assert test in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_every_cli_command_the_readme_names_exists() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    subcommands = next(a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    named = {word.split()[0].rstrip("`") for word in readme.split("`incident-bot ")[1:]}
    assert named <= set(subcommands.choices), named - set(subcommands.choices)
