"""The charts: each has a title, labelled axes and a legend, names no incident, and loads matplotlib only
when drawn."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

from matplotlib.patches import Rectangle
from matplotlib.text import Text

from bot.charts import chart_figures, render_charts
from bot.core.stats import compute_stats
from tests.core.test_stats import LEVELS, NOW, known_incidents


def test_every_chart_has_a_title_labelled_axes_and_a_legend() -> None:
    report = compute_stats(known_incidents(), now=NOW, tz="UTC", levels=LEVELS)
    figures = dict(chart_figures(report))
    assert sorted(figures) == ["incidents-per-week.png", "open-action-items.png", "time-to-resolve.png"]
    for name, figure in figures.items():
        axes = figure.axes[0]
        assert axes.get_title() and axes.get_xlabel() and axes.get_ylabel(), name
        legend = axes.get_legend()
        assert legend is not None and [t.get_text() for t in legend.get_texts()], name
        words = " ".join(text.get_text() for text in figure.findobj(match=Text) if isinstance(text, Text))
        for title in ("Payments down", "Leaked key", "DNS outage", "Database failover", "Disk full"):
            assert title not in words, (name, title)
    per_week = figures["incidents-per-week.png"].axes[0].get_legend()
    assert per_week is not None
    levels = [t.get_text() for t in per_week.get_texts()]
    assert levels == ["SEV-1", "SEV-2", "SEV-3"]
    bars = figures["incidents-per-week.png"].axes[0].patches
    assert sum(bar.get_height() for bar in bars if isinstance(bar, Rectangle)) == 5  # each incident in one bar


def test_charts_of_an_empty_period_still_render() -> None:
    report = compute_stats([], now=NOW, tz="UTC", since=date(2026, 11, 1), until=date(2026, 11, 18), levels=LEVELS)
    charts = render_charts(report)
    assert [chart.title for chart in charts] == [
        "Incidents per week, by level (2026-11-01 – 2026-11-18)",
        "Time to resolve by level, monthly median (2026-11-01 – 2026-11-18)",
        "Open action items over time (2026-11-01 – 2026-11-18)",
    ]
    assert all(chart.png.startswith(b"\x89PNG\r\n\x1a\n") for chart in charts)


def test_matplotlib_is_loaded_only_when_a_chart_is_drawn() -> None:
    probe = (
        "import sys, bot.charts, bot.cli, bot.cli.stats, bot.services.stats, bot.core.stats\n"
        "print(any(name.split('.')[0] == 'matplotlib' for name in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
