"""Every input is bounded before the expensive step, each refusal with its own message; metadata is data;
the checksum stored is that of the bytes parsed. Real files and real `sesam` subprocesses."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import ingest.builder
from ingest.errors import DocumentError
from ingest.loaders import load_document
from ingest.pipeline import run_ingest
from ingest.store import IndexVersion
from tests.conftest import make_settings
from tests.pdfmaker import write_pdf

LINE = "Kooperativ ekonomi och socialt företagande i kommunen. " * 4  # 220 characters


def load(path: Path, **overrides):
    return load_document(path, root=path.parent, sources={},
                         settings=make_settings(index_dir=path.parent / "index", **overrides))


def sesam(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAM_")}
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_text_file_of_form_feeds_is_refused_before_it_becomes_pages(tmp_path: Path) -> None:
    path = tmp_path / "ff.txt"
    path.write_bytes(b"x\f" * 2_000_000)  # two million pages
    started = time.perf_counter()
    with pytest.raises(DocumentError, match=r"text file has 2,000,001 pages \(form feeds\), more than the limit "
                                            r"of 5,000 \(setting max_text_pages\)"):
        load(path)
    assert time.perf_counter() - started < 5
    path.write_bytes(b"x\f" * 6000)
    with pytest.raises(DocumentError, match=r"text file has 6,001 pages"):
        load(path)
    assert len(load(path, max_text_pages=7000).pages) == 6001  # the limit is the setting's


def test_a_one_line_text_over_the_page_limit_is_refused_not_silently_cut(tmp_path: Path) -> None:
    path = tmp_path / "one-line.txt"
    path.write_text("ord " * 100_000)  # 400,000 characters on one page
    with pytest.raises(DocumentError, match=r"page 1 has 400,000 characters of text, more than the limit of "
                                            r"200,000 \(setting max_page_chars\)"):
        load(path)
    path.write_text("ord " * 10 + "\f" + "x" * 900_001)  # over four bytes a character: refused before decoding
    with pytest.raises(DocumentError, match=r"page 2 has more than 200,000 characters of text"):
        load(path)


def test_extraction_of_a_huge_pdf_page_stops_at_the_page_limit(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "huge-page.pdf", [[LINE] * 90_000])  # one page, 20 MB of text
    assert path.stat().st_size > 20_000_000
    started = time.perf_counter()
    with pytest.raises(DocumentError, match=r"page 1 has more than 200,000 characters of text \(the limit"):
        load(path)
    # full extraction of this page takes many minutes (it grows with the square of the page's length)
    assert time.perf_counter() - started < 60


def test_a_document_over_its_time_budget_is_refused(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "slow.pdf", [[LINE] * 300] * 40)  # 40 pages of 66,000 characters
    with pytest.raises(DocumentError, match=r"loading took longer than the time budget of 0.2 s "
                                            r"\(setting max_document_seconds\)"):
        load(path, max_document_seconds=0.2)
    assert len(load(path).pages) == 40


def test_each_refusal_is_reported_by_sesam_ingest_with_a_non_zero_exit(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_pdf(corpus / "good.pdf", [["Sociala företag i Jämtland."]])
    (corpus / "ff.txt").write_bytes(b"x\f" * 6000)
    (corpus / "one-line.txt").write_text("ord " * 60_000)
    run = sesam("ingest", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "--no-progress", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "ingested 1, unchanged 0, removed 0, failed 2" in run.stdout
    assert "ff.txt: text file has 6,001 pages (form feeds), more than the limit of 5,000" in run.stdout
    assert "one-line.txt: page 1 has 240,000 characters of text, more than the limit of 200,000" in run.stdout


def test_the_checksum_stored_is_that_of_the_bytes_parsed(tmp_path: Path, monkeypatch) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    doc = corpus / "plan.txt"
    doc.write_text("Gamla texten om kooperativ.\n")
    real = ingest.builder.load_document

    def edited_meanwhile(path, **kwargs):  # the file is saved again between hashing and parsing
        doc.write_text("Nya texten om sociala företag.\n")
        return real(path, **kwargs)

    monkeypatch.setattr(ingest.builder, "load_document", edited_meanwhile)
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    run_ingest(settings, progress=False)
    monkeypatch.undo()
    version = IndexVersion.open(settings.index_dir)
    meta = version.document("plan-txt")
    assert "Nya texten" in version.page("plan-txt", 1).text
    assert meta.sha256 == hashlib.sha256(doc.read_bytes()).hexdigest()
    version.close()
    assert run_ingest(settings, progress=False).version is None  # the stored version is the file's: unchanged


def test_a_title_or_file_name_cannot_forge_lines_or_reach_the_terminal(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    forged = "Rapport\nEnligt Regeringen (s. 1): \u201dAllt \u00e4r gratis.\u201d [1]\x1b[2J\x1b]0;pwn\x07"
    write_pdf(corpus / "rapport.pdf", [["Kooperativ i Jämtland drivs demokratiskt av sina medlemmar."]],
              title=forged)
    (corpus / "evil\n  ingested: fake\x1b[31m.txt").write_text("Sociala företag ger arbete i kommunen.\n")
    index = tmp_path / "index"
    ingest_run = sesam("ingest", "--corpus", str(corpus), "--index", str(index), "--no-progress", cwd=tmp_path)
    assert ingest_run.returncode == 0, ingest_run.stderr
    version = IndexVersion.open(index)
    titles = {d.doc_id: (d.title, d.path) for d in version.documents()}
    version.close()
    title, _ = titles["rapport"]
    assert "\n" not in title and "\x1b" not in title and "\x07" not in title
    assert title.startswith("Rapport Enligt Regeringen")
    assert all("\n" not in p and "\x1b" not in p for _, p in titles.values())
    status = sesam("status", "--index", str(index), cwd=tmp_path)
    ask = sesam("ask", "Hur drivs kooperativ i Jämtland?", "--index", str(index), cwd=tmp_path)
    for run in (ingest_run, status, ask):
        assert run.returncode == 0, run.stderr
        assert "\x1b" not in run.stdout + run.stderr and "\x07" not in run.stdout + run.stderr
    assert not any(line.lstrip().startswith("ingested: fake") for line in ingest_run.stdout.splitlines())
    attribution = next(line for line in ask.stdout.splitlines() if "Rapport Enligt Regeringen" in line)
    assert attribution.index("Rapport Enligt Regeringen") < attribution.index("\u201d")  # inside the attribution
