"""Smoke run of the embedding-throughput study (`python -m bench.embed_throughput --quick`)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO


def test_embed_throughput_quick_measures_each_configuration() -> None:
    out = subprocess.run([sys.executable, "-m", "bench.embed_throughput", "--quick", "--json"], cwd=REPO,
                         capture_output=True, text=True, timeout=300, check=True).stdout
    rows = [json.loads(line) for line in out.splitlines()]  # JSON lines only (a "machine:" line came first)
    assert [r["threads"] for r in rows] == [2, 1] and all("cores" in r["machine"] for r in rows)
    for r in rows:  # passages cut to the requested length with the embedder's tokenizer, really embedded
        assert r["n"] == 8 and 230 <= r["tokens_per_text"] <= 256
        assert r["tokens_s"] > 0 and r["ms_per_text"] > 0


def test_processes_rows_time_embedding_only() -> None:
    """F14: a "2 processes" row timed the children's start-up, model load and passage building too; every row now
    times embedding alone, from the first child's start to the last child's end (the children start together)."""
    from bench.embed_throughput import measure

    r = measure({"threads": 1, "batch": 4, "tokens": 32, "n": 4}, 2)
    assert len(r["child_seconds"]) == 2 and max(r["child_seconds"]) <= r["seconds"] < max(r["child_seconds"]) + 1.0
    one = measure({"threads": 1, "batch": 4, "tokens": 32, "n": 2}, 1)
    assert one["seconds"] == one["child_seconds"][0]
