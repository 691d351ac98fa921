"""Smoke run of the scale benchmark (`python -m bench.scale --quick`): it builds, loads and queries 10k chunks."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_scale_quick_prints_a_full_row() -> None:
    out = subprocess.run([sys.executable, "-m", "bench.scale", "--quick"], cwd=REPO, capture_output=True, text=True,
                         timeout=300, check=True).stdout
    row = next(line for line in out.splitlines() if line.startswith("| 10,000 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3] == "flat" and float(cells[8]) == 1.0  # exact search below the threshold
    assert float(cells[10]) >= 0.95  # lexical top 10 against exhaustive BM25
    assert all(cells[i] for i in range(len(cells)))
