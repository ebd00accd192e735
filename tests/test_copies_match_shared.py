"""The repo's copies of the team's fixtures and Slack's reference data, against the originals.

The originals live in a folder beside the checkout that a person cloning the repo does not have, so
these tests are only collected where it exists; everywhere else the copies are what the tests use.
"""

from __future__ import annotations

import filecmp
from pathlib import Path

import pytest

from tests.paths import FLEET_REPO, SHARED, SLACK_REFERENCE

# What the repo adds to the copied reference folder: the simulator's compact table and its own README.
OURS = {"methods.json", "README.md"}


def differences(copy: Path, original: Path, *, ours: set[str]) -> list[str]:
    found: list[str] = []
    for path in sorted(original.rglob("*")):
        if path.is_file() and path.name not in ours:
            mirrored = copy / path.relative_to(original)
            if not mirrored.is_file() or not filecmp.cmp(path, mirrored, shallow=False):
                found.append(str(path.relative_to(original)))
    return found


if SHARED.is_dir():

    @pytest.mark.parametrize(
        ("copy", "original", "ours"),
        [
            (FLEET_REPO, SHARED / "fixtures" / "fleet-repo", set()),
            (SLACK_REFERENCE, SHARED / "slack-reference", OURS),
        ],
        ids=["fleet-repo", "slack-reference"],
    )
    def test_the_copy_matches_the_original(copy: Path, original: Path, ours: set[str]) -> None:
        assert differences(copy, original, ours=ours) == [], "refresh the copy from the shared folder"
