"""The benchmark harness end to end: `python -m bench --quick` runs every figure and writes JSON.

No timing is asserted (the machine may be busy); only that every figure was
measured and is a number. The PostgreSQL figure needs the server: without it
the figure must say why it was not measured (and under CI the test fails, as
every PostgreSQL test does).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import postgres_available

ROOT = Path(__file__).parents[2]
FIGURES = (
    "cli-version", "cli-help", "import", "postgres-import", "memory", "rebuild", "history", "history-scaling", "verify",
)  # fmt: skip


@pytest.mark.slow
def test_quick_benchmark_measures_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DB", "NO_COLOR")}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--backend", "sqlite", "--json", str(out),
         "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(out.read_text())
    figures = {f["key"]: f for f in document["figures"]}
    assert set(figures) == set(FIGURES)
    pg_problem = postgres_available()
    for key, figure in figures.items():
        if key == "postgres-import" and pg_problem and not os.environ.get("CI"):
            assert figure["status"] == "not measured" and figure["notes"], figure
            continue
        for field in ("measured", "baseline", "ratio"):
            value = figure[field]
            assert isinstance(value, (int, float)) and not isinstance(value, bool), (key, field, value)
            assert math.isfinite(value) and value > 0, (key, field, value)
        assert figure["status"] == "measured", (key, figure["status"], figure["notes"])
        assert isinstance(figure["met"], bool)
    assert "both print the same history" in figures["history-scaling"]["notes"]
    assert document["meta"]["quick"] is True
    # The table went to stdout, one row per figure.
    assert "import throughput" in done.stdout and "history" in done.stdout


@pytest.mark.slow
def test_quick_benchmark_on_postgresql_measures_its_figures(tmp_path: Path) -> None:
    """The figures a `--backend postgres` run reports, verify included, on the test server."""
    problem = postgres_available()
    if problem and not os.environ.get("CI"):
        pytest.skip(problem)
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_DB", "NO_COLOR")}
    keys = ("memory", "rebuild", "history", "history-scaling", "verify")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--backend", "postgres", "--only", ",".join(keys),
         "--json", str(out), "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    figures = {f["key"]: f for f in json.loads(out.read_text())["figures"]}
    assert set(figures) == set(keys)
    for key, figure in figures.items():
        assert figure["status"] == "measured", (key, figure["status"], figure["notes"])
        assert math.isfinite(figure["ratio"]) and figure["ratio"] > 0, (key, figure["ratio"])
