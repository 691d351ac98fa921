"""Smoke run of the busy-machine benchmark (`python -m bench.busy --quick`): answers timed while an ingest embeds."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def test_busy_quick_times_answers_while_an_ingest_process_embeds(shipped_index: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "bench.busy", "--quick", "--load", "process", "--index",
                          str(shipped_index)], cwd=REPO, capture_output=True, text=True, timeout=300, check=True).stdout
    row = re.search(r"process: (\d+) answers, p50 ([\d.]+) ms, p95 ([\d.]+) ms, slowest ([\d.]+) ms", out)
    assert row, out
    answers, (p50, p95, slowest) = int(row[1]), map(float, row.groups()[1:])
    assert answers > 0 and 0 < p50 <= p95 <= slowest
