"""Smoke run of the OCR benchmark (`python -m bench.ocr_bench --quick`): one scanned page, its speed and CER."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ingest.ocr import ocr_missing
from tests.conftest import REPO


@pytest.mark.skipif(bool(ocr_missing()), reason=f"OCR is not installed: {ocr_missing()}")
def test_ocr_bench_quick_prints_speed_and_error_rate() -> None:
    out = subprocess.run([sys.executable, "-m", "bench.ocr_bench", "--quick"], cwd=REPO, capture_output=True,
                         text=True, timeout=300, check=True).stdout
    row = next(line for line in out.splitlines() if line.startswith("| clean |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "1" and float(cells[4]) > 0
    assert float(cells[5].rstrip(" %")) <= 5.0  # the target: CER ≤ 5 % on a clean scan
