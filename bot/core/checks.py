"""One finding of a configuration check (`incident-bot doctor`, and the checks made at start-up)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        tail = f" — {self.fix}" if self.fix and not self.ok else ""
        return f"{mark} {self.name}: {self.detail}{tail}"
