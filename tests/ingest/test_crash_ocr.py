"""kill -9 during a `sesam ingest` that runs OCR: the served version stays whole, the next run completes."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.ocr import ocr_missing
from ingest.pipeline import run_ingest
from ingest.store import IndexVersion
from tests import docmaker
from tests.conftest import REPO, make_settings
from tests.ingest.test_crash import _text

pytestmark = pytest.mark.skipif(bool(ocr_missing()), reason=f"OCR is not installed: {ocr_missing()}")


def _trial(tmp: Path, delay: float) -> None:
    corpus = tmp / "corpus"
    corpus.mkdir()
    (corpus / "old.txt").write_text(_text(1, 60), encoding="utf-8")
    settings = make_settings(corpus_dir=corpus, index_dir=tmp / "index")
    run_ingest(settings, progress=False)
    old = IndexVersion.open(settings.index_dir).manifest["documents"]
    docmaker.write_scanned_pdf(corpus / "skannad.pdf")  # OCR: several seconds of Tesseract
    (corpus / "new.txt").write_text(_text(2, 800), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "ingest", "--index", str(settings.index_dir),
                             "--corpus", str(corpus), "--config", str(REPO / "tests" / "empty.toml"), "--no-progress"],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL, "the run ended before the kill: the trial tested nothing"
    version = IndexVersion.open(settings.index_dir, verify=True)
    assert set(version.manifest["documents"]) in ({"old-txt"}, {"old-txt", "new-txt", "skannad"})
    assert version.manifest["documents"]["old-txt"] == old["old-txt"]
    report = run_ingest(settings, progress=False)
    assert not report.failed
    version = IndexVersion.open(settings.index_dir, verify=True)
    assert set(version.manifest["documents"]) == {"old-txt", "new-txt", "skannad"}
    assert version.page("skannad", 1).ocr is True
    assert not list(settings.index_dir.glob("tmp-*"))


@pytest.mark.parametrize("delay", [1.0, 4.0])
def test_kill_during_ingest_with_ocr_keeps_a_whole_version(tmp_path: Path, delay: float) -> None:
    _trial(tmp_path, delay)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8))
def test_kill_at_random_moments_with_ocr(tmp_path: Path, seed: int) -> None:
    _trial(tmp_path, random.Random(100 + seed).uniform(0.2, 12.0))
