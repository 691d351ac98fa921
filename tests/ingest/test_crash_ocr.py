"""kill -9 during a `sesam ingest` that runs OCR: the served version stays whole, the next run completes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from ingest.ocr import ocr_missing
from ingest.store import IndexVersion
from tests import docmaker
from tests.ingest.test_crash import _text
from tests.ingest.test_crash import _trial as trial

pytestmark = pytest.mark.skipif(bool(ocr_missing()), reason=f"OCR is not installed: {ocr_missing()}")


def _add_scan(corpus: Path) -> set[str]:
    docmaker.write_scanned_pdf(corpus / "skannad.pdf")  # OCR: several seconds of Tesseract
    (corpus / "new.txt").write_text(_text(2, 3000), encoding="utf-8")  # then seconds of embedding
    return {"skannad", "new-txt"}


def _trial(tmp: Path, delay: float) -> None:
    index = trial(tmp, delay, _add_scan, must_kill=delay <= 5.0)
    version = IndexVersion.open(index)
    assert version.page("skannad", 1).ocr is True
    version.close()


@pytest.mark.parametrize("delay", [2.5, 5.0])
def test_kill_during_ingest_with_ocr_keeps_a_whole_version(tmp_path: Path, delay: float) -> None:
    _trial(tmp_path, delay)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(8))
def test_kill_at_random_moments_with_ocr(tmp_path: Path, seed: int) -> None:
    _trial(tmp_path, random.Random(100 + seed).uniform(0.2, 12.0))
