"""Smoke run of the embedding-throughput study (`python -m bench.embed_throughput --quick`)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO


def test_embed_throughput_quick_measures_each_configuration() -> None:
    out = subprocess.run([sys.executable, "-m", "bench.embed_throughput", "--quick", "--json"], cwd=REPO,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [r["threads"] for r in rows] == [2, 1]
    for r in rows:  # passages cut to the requested length with the embedder's tokenizer, really embedded
        assert r["n"] == 8 and 230 <= r["tokens_per_text"] <= 256
        assert r["tokens_s"] > 0 and r["ms_per_text"] > 0
