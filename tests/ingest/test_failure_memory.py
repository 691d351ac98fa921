"""A file that keeps failing is not loaded again by each run: its failure is remembered by the SHA-256 of its bytes
and the loading settings (``<index>/failures.json``), and reported again as it was.

Real files, real ingests; ``load_document`` is wrapped only to count the files the runs open. Before: every run
that changed nothing loaded (and OCR'd) each failing file again."""

from __future__ import annotations

from pathlib import Path

import pytest

import ingest.builder
from ingest.pipeline import run_ingest
from tests.conftest import make_settings
from tests.pdfmaker import write_image_only_pdf
from tui.cli import main


@pytest.fixture()
def loads(monkeypatch) -> list[str]:
    """The names of the files the runs load, in order."""
    opened: list[str] = []
    real = ingest.builder.load_document

    def counted(path, **kwargs):
        opened.append(path.name)
        return real(path, **kwargs)

    monkeypatch.setattr(ingest.builder, "load_document", counted)
    return opened


def test_a_failing_file_is_not_loaded_again_while_its_bytes_and_settings_stay(tmp_path: Path, loads, capsys) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    (corpus / "kort.txt").write_text("Ett kooperativ ägs av sina medlemmar och drivs demokratiskt.\n",
                                     encoding="utf-8")
    (corpus / "lang.txt").write_text("Social ekonomi är föreningar, kooperativ och stiftelser i Jämtland.\n",
                                     encoding="utf-8")
    write_image_only_pdf(corpus / "skannad.pdf", n_pages=2)  # OCR finds no text: it fails on every run
    settings = make_settings(corpus_dir=corpus, index_dir=index)
    first = run_ingest(settings, progress=False)
    assert sorted(loads) == ["kort.txt", "lang.txt", "skannad.pdf"] and first.version is not None
    loads.clear()
    again = run_ingest(settings, progress=False)
    assert loads == [] and again.version is None  # before: skannad.pdf was loaded and OCR'd again
    assert again.failed == first.failed and again.unchanged == ("kort-txt", "lang-txt")
    code = main(["ingest", "--index", str(index), "--corpus", str(corpus), "--no-progress"])
    out = capsys.readouterr().out
    assert code == 1 and "failed: " in out and "OCR found no text" in out and "nothing changed" in out
    assert loads == []
    # An indexed document whose new bytes fail: remembered too, its indexed version still kept and said so.
    (corpus / "lang.txt").write_bytes(b"\x00\x01binary")
    kept = run_ingest(settings, progress=False)
    assert loads == ["lang.txt"]  # its new bytes; skannad.pdf is still remembered
    loads.clear()
    remembered = run_ingest(settings, progress=False)
    assert loads == [] and remembered.failed == kept.failed and remembered.version is None
    assert any(r.startswith("not a text file") and r.endswith("its indexed version is kept") for _, r in kept.failed)
    assert remembered.unchanged == ("kort-txt",)
    # Other bytes are loaded again; so is every failing file under a setting that decides loading, or --rebuild.
    write_image_only_pdf(corpus / "skannad.pdf", n_pages=3)
    run_ingest(settings, progress=False)
    assert loads == ["skannad.pdf"]
    loads.clear()
    run_ingest(make_settings(corpus_dir=corpus, index_dir=index, max_page_chars=150_000), progress=False)
    assert sorted(loads) == ["lang.txt", "skannad.pdf"]
    loads.clear()
    run_ingest(settings, progress=False, rebuild=True)
    assert sorted(loads) == ["kort.txt", "lang.txt", "skannad.pdf"]


def _with_a_web_page(tmp_path: Path, name: str):
    """A corpus of a text file and a web page saved as ``name``, and the settings that index it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "kort.txt").write_text("Ett kooperativ ägs av sina medlemmar.\n", encoding="utf-8")
    (corpus / name).write_text("<html><body><p>IOP är ett idéburet offentligt partnerskap.</p></body></html>",
                               encoding="utf-8")
    return corpus, make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")


def test_a_file_renamed_to_its_real_type_as_advised_is_loaded(tmp_path: Path, loads) -> None:
    """"not a PDF: the file starts like HTML; rename it with its real extension": renamed so, the same bytes were
    reported with the old reason and never loaded, since the failure was remembered by its bytes alone."""
    corpus, settings = _with_a_web_page(tmp_path, "iop.pdf")
    first = run_ingest(settings, progress=False)
    assert [r for _, r in first.failed][0].startswith("not a PDF: the file starts like HTML")
    (corpus / "iop.pdf").rename(corpus / "iop.html")
    loads.clear()
    renamed = run_ingest(settings, progress=False)
    assert loads == ["iop.html"] and renamed.failed == () and renamed.ingested == ("iop-html",)


def test_the_same_bytes_under_another_type_are_another_document(tmp_path: Path) -> None:
    """An indexed web page renamed "rapport.pdf" kept being served (and cited as rapport.pdf) as a rename, though as
    a PDF it does not load; it is loaded as what its name says, and fails."""
    corpus, settings = _with_a_web_page(tmp_path, "rapport.html")
    assert "rapport-html" in run_ingest(settings, progress=False).ingested
    (corpus / "rapport.html").rename(corpus / "rapport.pdf")
    report = run_ingest(settings, progress=False, allow_removal=True)
    assert report.renamed == () and "rapport-html" in report.removed
    assert [r for _, r in report.failed][0].startswith("not a PDF: the file starts like HTML")
