"""Smoke run of the soak benchmark: clients keep asking while a re-ingest swaps the index; nothing fails."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_soak_quick_has_no_failed_requests(shipped_index) -> None:
    proc = subprocess.run([sys.executable, "-m", "bench.soak", "--quick", "--index", str(shipped_index)], cwd=REPO,
                          capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 failed" in proc.stdout and "1 re-ingest swaps (2 index versions served)" in proc.stdout
