"""`sesam ingest` progress: per document, in the plan's order, with the time left estimated by size."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from ingest.pipeline import run_ingest
from ingest.progress import EMBED_WEIGHT, SCANNED_WEIGHT, DocumentProgress, ocr_label
from tests.conftest import make_settings
from tests.pdfmaker import write_pdf


def test_bar_names_each_document_and_weighs_by_size(tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_text("x" * 100)
    big = tmp_path / "big.txt"
    big.write_text("y" * 900)
    scan = tmp_path / "scan.pdf"
    Image.new("L", (400, 560), 255).save(scan, "PDF", resolution=50)  # as a scanner writes it: an image, no fonts
    out = io.StringIO()
    bar = DocumentProgress([("small", small), ("big", big), ("scan", scan)], file=out, mininterval=0)
    assert bar.total == 100 + 900 + scan.stat().st_size * (SCANNED_WEIGHT + EMBED_WEIGHT) + EMBED_WEIGHT * 1000
    assert bar.desc == "document 1/3: small.txt"
    bar.update(1)
    assert (bar.n, bar.desc) == (100, "document 2/3: big.txt")
    bar.update(1)
    bar.set_postfix(chunks_embedded=1234)  # no document chunked yet: nothing to count
    assert (bar.n, bar.desc) == (1000, "document 3/3: scan.pdf; 1,234 chunks embedded")
    bar.ocr_page(3, 40)  # a long scan shows its pages, so it does not look stuck
    assert bar.desc == "document 3/3: scan.pdf (OCR 3/40 pages); 1,234 chunks embedded"
    bar.update(1)
    assert bar.desc == "3/3 documents read; embedding; 1,234 chunks embedded"
    bar.update(1)  # more updates than documents change nothing
    bar.close()
    shown = out.getvalue()
    assert "document 2/3: big.txt" in shown and "left]" in shown


@pytest.mark.parametrize(("done", "total", "label"), [(0, 1, "OCR, 1 page"), (1, 1, "OCR, 1 page"),
                                                       (1, 2, "OCR 1/2 pages"), (3, 40, "OCR 3/40 pages"),
                                                       (999, 1200, "OCR 999/1,200 pages")])
def test_ocr_label_says_one_page_without_a_count(done: int, total: int, label: str) -> None:
    """A scanned one-page document reads "OCR, 1 page" (not "OCR 1/1 pages"); longer scans count their pages."""
    assert ocr_label(done, total) == label


def test_the_bar_of_a_one_page_scan(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    Image.new("L", (400, 560), 255).save(scan, "PDF", resolution=50)
    bar = DocumentProgress([("scan", scan)], file=io.StringIO(), mininterval=0)
    bar.ocr_page(1, 1)
    assert bar.desc == "document 1/1: scan.pdf (OCR, 1 page)"
    bar.close()


def test_ingest_with_progress_shows_documents(tmp_path: Path, capsys) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf(corpus / "a.pdf", [["Kooperativ ägs av sina medlemmar och drivs demokratiskt."]])
    write_pdf(corpus / "b.pdf", [["Stiftelser förvaltar kapital för ett ändamål som stadgarna anger."]])
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=tmp_path / "index"), progress=True)
    assert report.ingested == ("a", "b")
    err = capsys.readouterr().err
    assert "document 1/2: a.pdf" in err and "document 2/2: b.pdf" in err


def test_ingest_shows_the_ocr_of_a_scanned_document_page_by_page(tmp_path: Path, capsys) -> None:
    from ingest.ocr import ocr_missing
    from tests import docmaker

    if ocr_missing():
        pytest.skip(f"OCR is not installed: {ocr_missing()}")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    docmaker.write_scanned_pdf(corpus / "skannad.pdf")
    report = run_ingest(make_settings(corpus_dir=corpus, index_dir=tmp_path / "index"), progress=True)
    assert report.ingested == ("skannad",)
    assert "document 1/1: skannad.pdf (OCR, 1 page)" in capsys.readouterr().err


def test_embedding_moves_the_bar_after_every_document_is_read(tmp_path: Path) -> None:
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("x" * 100)
    b.write_text("y" * 300)
    bar = DocumentProgress([("a", a), ("b", b)], file=io.StringIO(), mininterval=0)
    bar.update(1)
    bar.chunked(4)
    bar.update(1)
    bar.chunked(0)  # b failed: its embedding weight is done at once
    assert bar.n == 400 + 300 * EMBED_WEIGHT and bar.n < bar.total  # all read, a's 4 chunks still to embed
    bar.embedded(1.0)
    assert bar.n == 400 + 300 * EMBED_WEIGHT + 25 * EMBED_WEIGHT
    bar.embedded(2.5)  # part of a batch counts
    bar.embedded(4)
    assert bar.n == bar.total
    bar.close()


def test_ingest_progress_follows_each_embedder_call(tmp_path: Path, monkeypatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("a", "b"):
        write_pdf(corpus / f"{name}.pdf", [[f"Sida {i} om kooperativ {name}. " * 40] for i in range(6)])
    shares: list[float] = []
    embedded = DocumentProgress.embedded

    def record(self, chunks: float) -> None:
        embedded(self, chunks)
        shares.append(self.n / self.total)

    monkeypatch.setattr(DocumentProgress, "embedded", record)
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index", embed_batch_size=2)
    report = run_ingest(settings, progress=True)
    assert report.ingested == ("a", "b")
    texts = report.embedded_chunks + report.counts["windows"]
    # one update per embedder call (dense and latent passes), before: none until the bar was closed at 100 %
    assert len([s for s in shares if s < 0.999]) >= texts // 2
    assert shares == sorted(shares) and shares[0] < 0.5 and shares[-1] > 0.999


def test_without_a_terminal_each_document_is_one_plain_line_and_json_stays_on_stdout(tmp_path: Path,
                                                                                     capsys) -> None:
    """CI logs and systemd's journal get "[i/n] doc-id: P pages, T s" per document, no bar, no carriage return."""
    import json

    from tui.cli import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf(corpus / "a.pdf", [["Kooperativ ägs av sina medlemmar."], ["Och drivs demokratiskt."]])
    write_pdf(corpus / "b.pdf", [["Stiftelser förvaltar kapital för ett ändamål som stadgarna anger."]])
    (corpus / "c.pdf").write_bytes(b"%PDF-1.4\n" + b"x" * 200)
    code = main(["ingest", "--index", str(tmp_path / "index"), "--corpus", str(corpus), "--json"])
    out, err = capsys.readouterr()
    assert code == 1 and json.loads(out)["ingested"] == ["a", "b"]  # stdout is the JSON alone
    lines = err.splitlines()
    assert "\r" not in err and "%|" not in err
    assert lines[0].startswith("[1/3] a: 2 pages, ") and lines[0].endswith(" s")
    assert lines[1].startswith("[2/3] b: 1 page, ")
    assert lines[2].startswith("[3/3] c: failed: damaged PDF")
    code = main(["ingest", "--index", str(tmp_path / "index"), "--corpus", str(corpus), "--no-progress", "--rebuild"])
    assert "[1/" not in capsys.readouterr().err


def test_without_a_terminal_embedding_has_lines_of_its_own_and_document_times_leave_it_out(tmp_path: Path, capsys,
                                                                                           monkeypatch) -> None:
    """Before: a document's line held the embedding of whichever batch it filled, and the last batch was embedded
    after the last line without a word (87 s of silence on the shipped corpus), while the docs said each line's time
    included the embedding. Now each batch has a line before and after, and a document's time is its reading."""
    import re

    import ingest.sink
    from ingest.progress import LINES

    monkeypatch.setattr(ingest.sink, "SINK_BATCH", 1)  # a batch per document, as a large corpus has mid-run
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf(corpus / "a.pdf", [["Kooperativ ägs av sina medlemmar."], ["Och drivs demokratiskt."]])
    write_pdf(corpus / "b.pdf", [["Stiftelser förvaltar kapital för ett ändamål som stadgarna anger."]])
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index", embed_batch_size=1)
    report = run_ingest(settings, progress=LINES)  # what `sesam ingest` passes when stderr is not a terminal
    err = capsys.readouterr().err
    assert report.ingested == ("a", "b"), err
    lines = err.splitlines()
    shapes = [re.sub(r"\d+(\.\d)?", "N", re.sub(r"(chunk|page)s\b", r"\1", line)) for line in lines]
    assert shapes == ["[N/N] a: N page, N s", "embedding N chunk...", "embedded N chunk, N s",
                      "[N/N] b: N page, N s", "embedding N chunk...", "embedded N chunk, N s"], lines
    batches = [(int(m[1]), float(m[2])) for m in (re.fullmatch(r"embedded (\d+) chunks?, ([\d.]+) s", x)
                                                  for x in lines) if m]
    assert [int(re.search(r"\d+", x)[0]) for x in lines if x.startswith("embedding ")] == [n for n, _ in batches]
    assert sum(n for n, _ in batches) == report.embedded_chunks
    timings = report.timings_s
    assert sum(s for _, s in batches) >= timings["embed"] - 0.1  # the embedding is on these lines
    read = [float(x.rsplit(", ", 1)[1][:-2]) for x in lines if x.startswith("[")]
    assert sum(read) <= timings["load"] + timings["chunk"] + 0.2  # and not on the documents' lines
