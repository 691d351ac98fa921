"""A document whose text is too short to make a chunk is a failure, not a document that can never be found.

Real files through the real pipeline. Before: a file holding only "x" was reported as ingested, stored in
``documents`` with its page and no chunk, so no question could ever find it.
"""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import run_ingest
from ingest.store import IndexVersion
from tests.conftest import make_settings

GOOD = "Ett kooperativ ägs av sina medlemmar och drivs demokratiskt av dem som arbetar där.\n"


def _documents(index: Path) -> set[str]:
    version = IndexVersion.open(index)
    try:
        return {d.doc_id for d in version.documents()}
    finally:
        version.close()


def test_a_file_too_short_for_a_chunk_fails_and_the_others_are_ingested(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD, encoding="utf-8")
    (corpus / "line\nbreak.txt").write_text("x\n", encoding="utf-8")
    index = tmp_path / "index"
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=index), progress=False)
    assert report.ingested == ("good-txt",)
    [(path, reason)] = report.failed
    assert path == str(corpus / "line\nbreak.txt")
    assert reason.startswith("no text to index: the file holds too little text to make a passage")
    assert reason.endswith("or remove it from the corpus folder")
    assert report.counts["documents"] == 1 and report.counts["chunks"] >= 1
    assert _documents(index) == {"good-txt"}


def test_an_indexed_document_whose_file_is_cut_to_one_letter_keeps_its_indexed_version(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD, encoding="utf-8")
    (corpus / "other.txt").write_text(GOOD.replace("kooperativ", "stiftelse"), encoding="utf-8")
    index = tmp_path / "index"
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    assert len(run_ingest(settings, progress=False).ingested) == 2
    (corpus / "other.txt").write_text("x", encoding="utf-8")
    report = run_ingest(settings, progress=False)
    assert report.ingested == () and not report.removed
    [(_, reason)] = report.failed
    assert reason.startswith("no text to index") and reason.endswith("its indexed version is kept")
    assert _documents(index) == {"good-txt", "other-txt"}
