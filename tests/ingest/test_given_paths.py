"""Paths given to `sesam ingest`: a folder mirrors its own subtree only, and a file from outside the corpus folder
is indexed with a warning that the next ingest of the corpus removes it. Real PDFs, real index folders."""

from __future__ import annotations

from pathlib import Path

from ingest.pipeline import run_ingest
from tests.conftest import make_settings
from tests.ingest.test_removal_guard import indexed, served  # noqa: F401 - indexed is a fixture
from tests.pdfmaker import write_pdf

DELTA = [["Föreningar", "En ideell förening har stadgar, styrelse och årsmöte."]]


def test_a_subfolder_mirrors_its_own_subtree_and_keeps_the_documents_elsewhere(indexed) -> None:  # noqa: F811
    corpus, index = indexed
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    write_pdf(corpus / "sub" / "delta.pdf", DELTA, title="Delta")
    (corpus / "sub" / "gamma.pdf").unlink()
    (corpus / "beta.pdf").unlink()  # outside corpus/sub: not this run's business
    report = run_ingest(settings, [corpus / "sub"], progress=False)
    assert report.ingested == ("sub/delta",) and report.removed == ("sub/gamma",), report
    assert sorted(report.unchanged) == ["alpha", "beta"] and not report.failed
    assert served(index)[1] == {"alpha", "beta", "sub/delta"}
    report = run_ingest(settings, progress=False)  # the whole corpus: beta's file is gone
    assert report.removed == ("beta",)
    assert served(index)[1] == {"alpha", "sub/delta"}
