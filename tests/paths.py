"""Where the tests' data lives: everything inside the repo, and the team's shared folder when present."""

from __future__ import annotations

from pathlib import Path

import slack_sim

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
FLEET_REPO = FIXTURES / "fleet-repo"
HAND_WRITTEN_RCA = "DOCS/incidents/2026-02-23-gateway-auth-outage-rca.md"
SLACK_REFERENCE = Path(slack_sim.__file__).resolve().parent / "reference"
# The folder the copies above were taken from; a checkout usually does not have it beside it.
SHARED = ROOT.parent / "shared"
