"""Loaders on real files: page numbering, encodings, and a specific reason for every unusable file."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest

from ingest.errors import DocumentError
from ingest.loaders import load_document
from ingest.sources import SourceEntry, discover, doc_id_for, load_sources
from tests.conftest import CORPUS, SCANNED_NO_TEXT, make_settings
from tests.pdfmaker import (write_bomb_pdf, write_encrypted_pdf, write_image_only_pdf, write_pdf,
                            write_truncated_pdf)

SETTINGS = make_settings(index_dir=Path("/nonexistent"), max_decompressed_bytes=8 * 2**20)


def load(path: Path, **overrides):
    settings = make_settings(index_dir=Path("/nonexistent"), **overrides) if overrides else SETTINGS
    return load_document(path, root=path.parent, sources={}, settings=settings)


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.pdf")))
def test_shipped_pdf_pages_are_numbered_as_in_the_pdf(name: str) -> None:
    doc = load_document(CORPUS / name, root=CORPUS, sources=load_sources(CORPUS / "sources.toml"), settings=SETTINGS)
    assert [p.number for p in doc.pages] == list(range(1, len(pypdf.PdfReader(CORPUS / name).pages) + 1))
    assert doc.meta.language == "sv"
    assert doc.meta.publisher  # from corpus/sources.toml


def test_empty_pages_keep_their_numbers_and_text_is_normalised(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "doc.pdf", [["Den sociala ekono-", "min växer i Jämtland."], None,
                                            ["Tredje sidan om kooperativ."]], title="Ett test")
    doc = load(path)
    assert [p.number for p in doc.pages] == [1, 2, 3]
    assert doc.pages[0].text == "Den sociala ekonomin växer i Jämtland."
    assert doc.pages[1].text == ""
    assert doc.meta.title == "Ett test" and doc.meta.kind == "pdf"


@pytest.mark.parametrize(("maker", "reason"), [
    (lambda p: write_encrypted_pdf(p, [["hemlig text"]]), "encrypted PDF: a password is needed"),
    (lambda p: write_image_only_pdf(p), SCANNED_NO_TEXT),
    (lambda p: write_truncated_pdf(p, [["rad"] * 30] * 4), "damaged PDF: cannot be read"),
    (lambda p: write_bomb_pdf(p, 40), "PDF stream too large when decompressed (> 8 MB); possibly a decompression bomb"),
    (lambda p: p.write_text("<!DOCTYPE html><html><body>Hej</body></html>"), "not a PDF: the file starts like HTML"),
    (lambda p: p.write_bytes(b"PK\x03\x04" + b"\x00" * 100), "not a PDF: the file starts like a ZIP archive"),
    (lambda p: p.write_bytes(bytes(range(256)) * 8), "not a PDF: the file starts like binary data"),
    (lambda p: p.write_bytes(b""), "empty file"),
    (lambda p: write_pdf(p, [None, None]), "no extractable text: the PDF has no text layer"),
], ids=["encrypted", "image-only", "truncated", "bomb", "html", "zip", "binary", "empty", "no-text"])
def test_unusable_pdfs_get_a_specific_reason(tmp_path: Path, maker, reason: str) -> None:
    path = tmp_path / "bad.pdf"
    maker(path)
    with pytest.raises(DocumentError) as info:
        load(path)
    assert info.value.reason.startswith(reason)


def test_page_and_size_limits(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "long.pdf", [["sida"]] * 5)
    with pytest.raises(DocumentError, match="PDF has 5 pages, more than the limit of 3"):
        load(path, max_pdf_pages=3)
    with pytest.raises(DocumentError, match="file too large"):
        load(path, max_file_bytes=1024)


def test_text_files_utf8_cp1252_and_binary(tmp_path: Path) -> None:
    utf8 = tmp_path / "notes.md"
    utf8.write_text("# Rubrik\n\nSociala företag återinvesterar överskottet.\fAndra sidan.", encoding="utf-8")
    doc = load(utf8)
    assert [p.number for p in doc.pages] == [1, 2]
    assert doc.pages[0].text.startswith("Rubrik")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("Kooperativ i Västernorrland och Jämtland.".encode("cp1252"))
    assert "Västernorrland" in load(latin).pages[0].text
    binary = tmp_path / "junk.txt"
    binary.write_bytes(b"\x00\x01\x02\x03" * 50)
    with pytest.raises(DocumentError, match="not a text file"):
        load(binary)
    blank = tmp_path / "blank.txt"
    blank.write_text("   \n\n  ")
    with pytest.raises(DocumentError, match="only whitespace"):
        load(blank)


def test_discovery_names_ids_and_outside_symlinks(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    outside = write_pdf(tmp_path / "outside.pdf", [["utanför"]])
    for name in ("Rapport Å 2023.pdf", "-dash.txt", "a b.md", "skip.pptx", ".hidden.pdf"):
        (corpus / name).write_text("text")
    (corpus / "sources.toml").write_text("")
    (corpus / "link.pdf").symlink_to(outside)
    files, errors = discover([corpus], corpus)
    assert sorted(f.name for f in files) == ["-dash.txt", "Rapport Å 2023.pdf", "a b.md"]
    assert [(Path(e.path).name, e.reason) for e in errors] == [
        ("link.pdf", "symbolic link points outside the corpus directory; not followed: copy the file into the "
                     "corpus folder to index it")]
    ids = {doc_id_for(f, corpus) for f in files}
    assert len(ids) == 3 and all(i.isascii() and " " not in i for i in ids)
    _, errors = discover([corpus / "missing.pdf", corpus / "skip.pptx"], corpus)
    assert [e.reason.split(";")[0] for e in errors] == ["no such file or directory", "unsupported file type .pptx"]
    assert errors[1].reason.endswith("convert it to one of them, or leave it out of the command")  # what to do


def test_sources_metadata_overrides_pdf_metadata(tmp_path: Path) -> None:
    path = write_pdf(tmp_path / "plan.pdf", [["Handlingsplan för den sociala ekonomin."]], title="PDF-titel")
    doc = load_document(path, root=tmp_path, sources={"plan.pdf": SourceEntry(title="Rätt titel", publisher="EU")},
                        settings=SETTINGS)
    assert (doc.meta.title, doc.meta.publisher) == ("Rätt titel", "EU")
    (tmp_path / "sources.toml").write_text('["plan.pdf"]\ntitel = "fel nyckel"\n')
    with pytest.raises(Exception, match="unknown keys"):
        load_sources(tmp_path / "sources.toml")
