"""Session fixtures: the real index of the shipped corpus, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
EVAL = REPO / "eval"  # question sets live in the repository; tests never read ../shared


def make_settings(**overrides) -> Settings:
    """Settings for a test: no environment, no config file, explicit overrides only."""
    overrides.setdefault("corpus_dir", CORPUS)
    return load_settings(REPO / "tests" / "empty.toml", environ={}, **overrides)


@pytest.fixture(scope="session")
def shipped_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of corpus/ built with the default embedder; read-only for tests."""
    from ingest.pipeline import run_ingest

    index_dir = tmp_path_factory.mktemp("shipped") / "index"
    report = run_ingest(make_settings(index_dir=index_dir), progress=False)
    assert not report.failed, report.failed
    return index_dir


@pytest.fixture(scope="session")
def shipped_settings(shipped_index: Path) -> Settings:
    return make_settings(index_dir=shipped_index)

# An image-only PDF whose image holds no text: refused either way, with a reason that depends on OCR being installed.
from ingest.ocr import ocr_missing  # noqa: E402

SCANNED_NO_TEXT = ("no extractable text: scanned PDF, and OCR found no text in its images" if not ocr_missing()
                   else "no extractable text: scanned PDF, OCR needed")
