"""The benchmark suite keeps working: `python -m bench --quick` runs every measure and reports each figure.

No timing is asserted here (this machine is noisy and the suite runs beside other work); the numbers
are read in bench/RESULTS.md, from full runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.runner import MEASURES
from tests.paths import ROOT


def test_the_quick_benchmark_runs_every_measure_and_reports_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--json", str(out), "--cache", str(tmp_path / "cache")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    rows = json.loads(out.read_text())["rows"]
    assert {row["measure"] for row in rows} == set(MEASURES)
    for row in rows:
        assert row["bot"], row  # every figure was measured at least once
        assert not row.get("note"), row  # no measure came back incomplete (e.g. items not found)
    # The table a person reads names every figure beside its baseline.
    for name in MEASURES:
        assert name in done.stdout
