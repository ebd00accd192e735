"""Rows of the result table: a figure's median over rounds beside its baseline, the ratio and the goal."""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

Number = float | int


def median(values: list[float]) -> float:
    clean = [v for v in values if not math.isnan(v)]
    return statistics.median(clean) if clean else math.nan


@dataclass
class Row:
    measure: str
    figure: str
    unit: str
    db: str
    tree: str
    bot: list[float]  # one value per round
    baseline: list[float] = field(default_factory=list)  # one value per round, or none
    baseline_text: str = ""  # a baseline that is not measured (e.g. Slack's published limit)
    goal: str = ""
    met: bool | None = None
    note: str = ""
    # How the rounds are summed up: "median", or "max" (the worst round, for figures like the slowest ack).
    aggregate: str = "median"

    def _sum_up(self, values: list[float]) -> float:
        clean = [v for v in values if not math.isnan(v)]
        if self.aggregate == "max":
            return max(clean) if clean else math.nan
        return median(values)

    @property
    def bot_median(self) -> float:
        return self._sum_up(self.bot)

    @property
    def baseline_median(self) -> float | None:
        return self._sum_up(self.baseline) if self.baseline else None

    @property
    def ratio(self) -> float | None:
        base = self.baseline_median
        if base is None or base == 0 or math.isnan(base) or math.isnan(self.bot_median):
            return None
        return self.bot_median / base

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data.update(bot_median=self.bot_median, baseline_median=self.baseline_median, ratio=self.ratio)
        return data


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if math.isnan(value):
        return "n/a"
    if unit in ("count", "scans", "git"):
        return f"{value:.0f}"
    if unit == "s":
        return f"{value:.3f} s" if value < 1 else f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "MB":
        return f"{value:.1f} MB"
    if unit == "/s":
        return f"{value:.1f}/s"
    return f"{value:.3g}"


HEADER = ("measure", "figure", "db", "tree", "bot (median)", "baseline (median)", "ratio", "goal", "met?")


def cells(row: Row) -> tuple[str, ...]:
    baseline = row.baseline_text or fmt(row.baseline_median, row.unit)
    ratio = f"{row.ratio:.2f}x" if row.ratio is not None else "—"
    met = "—" if row.met is None else ("yes" if row.met else "NO")
    bot = fmt(row.bot_median, row.unit)
    if row.note:
        bot += f" ({row.note})"
    return (row.measure, row.figure, row.db, row.tree, bot, baseline, ratio, row.goal, met)


def print_table(rows: list[Row], out: TextIO, *, markdown: bool = False) -> None:
    table = [HEADER, *(cells(r) for r in rows)]
    if markdown:
        for index, line in enumerate(table):
            print("| " + " | ".join(c.replace("|", "\\|") for c in line) + " |", file=out)
            if index == 0:
                print("|" + "|".join("---" for _ in line) + "|", file=out)
        return
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    for index, line in enumerate(table):
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip(), file=out)
        if index == 0:
            print("  ".join("-" * w for w in widths), file=out)


def write_json(path: Path, rows: list[Row], meta: dict[str, object]) -> None:
    path.write_text(json.dumps({"meta": meta, "rows": [r.to_json() for r in rows]}, indent=2, default=str))
