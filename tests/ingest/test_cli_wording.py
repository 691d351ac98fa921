"""The wording of `sesam ingest` and `sesam status`, through the real command on a real index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

CONFIG = str(REPO / "tests" / "empty.toml")


def _sesam(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", *argv, "--config", CONFIG], cwd=REPO, capture_output=True,
                          text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(REPO)})


def test_one_page_is_singular_and_an_empty_index_has_no_empty_parentheses(tmp_path: Path) -> None:
    """Before: "1 pages" in `sesam status`'s document list and "documents 0 ()" for an empty index."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "kort.txt").write_text("Social ekonomi är föreningar, kooperativ och stiftelser.", encoding="utf-8")
    ingest = _sesam("ingest", "--no-progress", "--index", str(index), "--corpus", str(corpus))
    assert ingest.returncode == 0, ingest.stderr
    assert "; 1 document, 1 page, 1 chunk" in ingest.stdout, ingest.stdout
    status = _sesam("status", "--index", str(index))
    assert "(kort.txt, 1 page, sv)" in status.stdout and "1 pages" not in status.stdout, status.stdout
    (corpus / "kort.txt").unlink()
    emptied = _sesam("ingest", "--no-progress", "--allow-removal", "--index", str(index), "--corpus", str(corpus))
    assert "; 0 documents, 0 pages, 0 chunks" in emptied.stdout, emptied.stdout + emptied.stderr
    status = _sesam("status", "--index", str(index))
    assert "documents   0; pages 0; chunks 0" in status.stdout and "()" not in status.stdout, status.stdout
