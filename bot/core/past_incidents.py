"""Past incidents like a new one, as the incident's channel is shown them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class PastIncident:
    """One RCA from the docs repo: what it was, when, and why it came up (`reason`: one line, maybe empty)."""

    title: str
    severity: str | None
    happened_on: date | None
    path: str
    link: str | None
    reason: str = ""
