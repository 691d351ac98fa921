"""Smoke run of the quality table (`python -m bench.quality --quick`) on the session's index of the shipped corpus."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_quality_quick_prints_a_row_per_set(shipped_index) -> None:
    out = subprocess.run([sys.executable, "-m", "bench.quality", "--quick", "--runs", "1", "--index",
                          str(shipped_index)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    header, rule, row = out.stdout.strip().splitlines()
    assert header.startswith("| set |") and rule.startswith("|---")
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[0] == "dev" and cells[1] == "12 / 0"
    assert 0.5 <= float(cells[3]) <= 1.0  # recall@5 of the first dev questions on the shipped corpus


def test_quality_json_and_an_unknown_set(shipped_index) -> None:
    out = subprocess.run([sys.executable, "-m", "bench.quality", "--quick", "--runs", "1", "--json", "--index",
                          str(shipped_index)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout)
    assert rep["set"] == "dev" and rep["n"] == 12 and len(rep["p95_runs"]) == 1
    bad = subprocess.run([sys.executable, "-m", "bench.quality", "no-such-set", "--index", str(shipped_index)],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert bad.returncode != 0 and "No such question set" in bad.stderr
