"""The numbers as PNG charts: incidents per week stacked by level, time to resolve by level over time, and
open action items over time.

matplotlib is imported inside these functions and drawn through its Agg canvas (no display, no pyplot
state shared between threads), so neither `serve` nor the core load it until a chart is drawn. The
charts show counts and durations only: no incident's title is ever drawn.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.digest import ChartFile
from bot.core.stats_report import StatsReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

WIDTH_INCHES, HEIGHT_INCHES, DPI = 10.0, 5.0, 100
# Most severe first, in colours that read on white and in grey scale alike.
_EPOCH = date(1970, 1, 1).toordinal()
_COLOURS = ("#c0392b", "#e67e22", "#f1c40f", "#7f8c8d", "#2980b9", "#8e44ad")


def chart_figures(report: StatsReport) -> list[tuple[str, Figure]]:
    """The three charts as matplotlib figures, each with a title, labelled axes and a legend."""
    return [
        ("incidents-per-week.png", _incidents_per_week(report)),
        ("time-to-resolve.png", _time_to_resolve(report)),
        ("open-action-items.png", _open_items(report)),
    ]


def render_charts(report: StatsReport) -> list[ChartFile]:
    """The charts as PNG files in memory."""
    charts = []
    for name, figure in chart_figures(report):
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DPI)
        axes = figure.axes[0]
        charts.append(ChartFile(name=name, title=axes.get_title(), png=buffer.getvalue()))
    return charts


def write_charts(report: StatsReport, folder: Path) -> list[Path]:
    """Write the charts as PNG files into `folder` (made if missing); returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for chart in render_charts(report):
        path = folder / chart.name
        path.write_bytes(chart.png)
        written.append(path)
    return written


def _figure(title: str, xlabel: str, ylabel: str) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI, layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.grid(axis="y", alpha=0.3)
    return figure, axes


def _colour(index: int) -> str:
    return _COLOURS[index % len(_COLOURS)]


def _window(report: StatsReport) -> str:
    if report.since and report.until:
        return f" ({report.since} – {report.until})"
    if report.since:
        return f" (since {report.since})"
    if report.until:
        return f" (until {report.until})"
    return ""


def _empty(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", color="#7f8c8d")


def _incidents_per_week(report: StatsReport) -> Figure:
    figure, axes = _figure(f"Incidents per week, by level{_window(report)}", "Week (starting Monday)", "Incidents")
    starts = [week.start for week in report.by_week]
    x = _numbers(starts)
    bottom = [0] * len(starts)
    for index, level in enumerate(report.levels):
        counts = [week.levels.get(level, 0) for week in report.by_week]
        axes.bar(x, counts, width=6, bottom=bottom, label=level, color=_colour(index), align="edge")
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    if not starts:
        _empty(axes, "No incidents in this period")
    _whole_numbers(axes)
    _legend(axes, report.levels)
    _date_axis(axes, starts, report, period_days=7)
    return figure


def _time_to_resolve(report: StatsReport) -> Figure:
    figure, axes = _figure(
        f"Time to resolve by level, monthly median{_window(report)}", "Month declared", "Median time to resolve (hours)"
    )
    months = [month.start for month in report.resolve_by_month]
    any_value = False
    for index, level in enumerate(report.levels):
        hours = [
            value / 60 if (value := month.resolve_minutes_median.get(level)) is not None else float("nan")
            for month in report.resolve_by_month
        ]
        any_value = any_value or any(h == h for h in hours)
        axes.plot(_numbers(months), hours, marker="o", label=level, color=_colour(index))
    if not any_value:
        _empty(axes, "No resolve times known in this period")
    axes.set_ylim(bottom=0)
    _legend(axes, report.levels)
    _date_axis(axes, months, report, period_days=30)
    return figure


def _open_items(report: StatsReport) -> Figure:
    figure, axes = _figure(
        f"Open action items over time{_window(report)}", "Week (starting Monday)", "Open action items"
    )
    starts = [point.start for point in report.open_items_by_week]
    counts = [point.open for point in report.open_items_by_week]
    x = _numbers(starts)
    axes.step(x, counts, where="post", label="Open at the end of the week", color=_COLOURS[4])
    axes.fill_between(x, counts, step="post", alpha=0.2, color=_COLOURS[4])
    if not starts:
        _empty(axes, "No action items in this period")
    axes.set_ylim(bottom=0)
    _whole_numbers(axes)
    axes.legend(loc="upper left")
    _date_axis(axes, starts, report, period_days=7)
    return figure


def _legend(axes: Axes, levels: Sequence[str]) -> None:
    if not levels:
        axes.plot([], [], label="No levels")  # a legend even when there is nothing to tell apart
    axes.legend(title="Level", loc="upper left")


def _date_axis(axes: Axes, starts: Sequence[date], report: StatsReport, *, period_days: int) -> None:
    """Dates on the x axis, over at least a few periods (one bar alone would fill the chart)."""
    first = min(starts, default=report.since)
    last = max(starts, default=report.until)
    if first is None or last is None:
        axes.set_xticks([])  # nothing dated to show
        return
    low, high = first - timedelta(days=period_days // 2), last + timedelta(days=period_days * 3 // 2)
    axes.set_xlim(_number(low), _number(high))
    ticks = _ticks(low, high)
    axes.set_xticks([_number(day) for day, _ in ticks], [label for _, label in ticks])


def _ticks(low: date, high: date, most: int = 12) -> list[tuple[date, str]]:
    """Mondays, first days of months or of years between `low` and `high`, at most `most` of them."""
    span = (high - low).days
    if span <= 7 * most:
        days = [low + timedelta(days=(7 - low.weekday()) % 7 + 7 * n) for n in range(span // 7 + 1)]
        found = [(day, f"{day:%d %b}") for day in days if day <= high]
    elif span <= 31 * most * 3:
        months = [date(year, month, 1) for year in range(low.year, high.year + 1) for month in range(1, 13)]
        found = [(day, f"{day:%b %Y}") for day in months if low <= day <= high]
    else:
        found = [(date(year, 1, 1), str(year)) for year in range(low.year + 1, high.year + 1)]
    step = max(1, -(-len(found) // most))
    return found[::step]


def _number(day: date) -> float:
    """A day as matplotlib's date number (days since 1970-01-01, its default epoch)."""
    return float(day.toordinal() - _EPOCH)


def _numbers(days: Sequence[date]) -> list[float]:
    return [_number(day) for day in days]


def _whole_numbers(axes: Axes) -> None:
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
