"""Documents as municipalities have them, made in the tests: a long two-column report, a scanned page,
a Word file and a web page. Extracted text, headings, page labels and the OCR flag are asserted exactly
(OCR text by its character error rate)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.types import Citation, Hit
from ingest.chunking import chunk_document
from ingest.errors import NO_TEXT_ACTION, WRONG_TYPE_ACTION, DocumentError
from ingest.loaders import load_document
from ingest.ocr import character_error_rate, ocr_missing
from ingest.types import Section
from tests.conftest import make_settings
from tests import docmaker

SETTINGS = make_settings(index_dir=Path("/nonexistent"))
needs_ocr = pytest.mark.skipif(bool(ocr_missing()), reason=f"OCR is not installed: {ocr_missing()}")


def load(path: Path, settings=SETTINGS):
    return load_document(path, root=path.parent, sources={}, settings=settings)


def words(text: str) -> int:
    return len(text.split())


def test_long_report_reading_order_furniture_hyphens_footnotes_labels_and_outline(tmp_path: Path) -> None:
    doc = load(docmaker.write_report_pdf(tmp_path / "rapport.pdf"))
    assert [p.label for p in doc.pages] == ["i", "ii", "1", "2", "3"]
    assert [p.number for p in doc.pages] == [1, 2, 3, 4, 5]
    assert not any(p.ocr for p in doc.pages)
    assert doc.sections == (Section("Förord", 1, 1), Section("1 Inledning", 3, 1),
                            Section("2 Reserverade kontrakt", 4, 1), Section("2.1 Partnerskap", 5, 2))
    assert [p.text for p in doc.pages] == [
        "Förord\nRapporten beskriver hur kommuner arbetar med den sociala ekonomin.\n"
        "Den riktar sig till politiker och tjänstepersoner.",
        "Innehållet bygger på intervjuer med tolv kommuner under året.\nTack till alla som har medverkat i arbetet.",
        # the left column, then the right one; "upphand-|ling" joined; the footnote its own paragraph at the end
        "1 Inledning\nKommunen köper varje år tjänster för stora belopp. Genom reserverad upphandling kan sociala "
        "företag lämna anbud på egna villkor.¹\nIdéburna organisationer samverkar med kommunen genom partnerskap "
        "som bygger på ömsesidigt förtroende och gemensamma mål för invånarna.\n"
        "1 Lag (2016:1145) om offentlig upphandling.",
        # two columns, then a heading and text across the page
        "Arbetsintegrerande sociala företag ger människor långt från arbetsmarknaden en väg till anställning och "
        "gemenskap i arbetslivet på lika villkor.\n2 Reserverade kontrakt\n"
        "Reserverade kontrakt får bara tilldelas leverantörer vars syfte är social integrering.",
        "2.1 Partnerskap\nEtt idéburet offentligt partnerskap är ett avtal mellan en kommun och en ideell aktör.\n"
        "Partnerskapet kräver ingen upphandling när verksamheten inte är ekonomisk.",
    ]
    chunks = chunk_document(doc, words, max_tokens=300, overlap_tokens=0)
    assert [(c.page_start, c.heading, c.text.split("\n")[0][:24]) for c in chunks] == [
        (1, "Förord", "Förord"),
        (2, "Förord", "Innehållet bygger på int"),  # the section goes on over the page break
        (3, "1 Inledning", "1 Inledning"),
        (4, "1 Inledning", "Arbetsintegrerande socia"),
        (4, "2 Reserverade kontrakt", "2 Reserverade kontrakt"),  # a section starting mid-page starts a chunk
        (5, "2.1 Partnerskap", "2.1 Partnerskap"),
    ]
    for c in chunks:
        assert doc.pages[c.page_start - 1].text[c.char_start:c.char_end] == c.text


def test_word_document_has_sections_instead_of_pages(tmp_path: Path) -> None:
    doc = load(docmaker.write_docx(tmp_path / "handbok.docx"))
    assert doc.meta.kind == "docx" and doc.meta.doc_id == "handbok-docx"
    assert doc.meta.title == "Handbok för social upphandling" and doc.meta.publisher == "Kommunförbundet"
    assert [p.text for p in doc.pages] == [
        "Den här handboken vänder sig till upphandlare.",
        "Reserverade kontrakt\nEn kommun får reservera kontrakt för sociala företag.\n"
        "Villkoren står i lagen om offentlig upphandling.",
        "Sociala hänsyn\npraktikplatser för unga\nanställning av långtidsarbetslösa",
        "Partnerskap\nForm | Kräver upphandling\nIOP | Nej",
    ]
    assert doc.sections == (Section("Reserverade kontrakt", 2, 1), Section("Sociala hänsyn", 3, 2),
                            Section("Partnerskap", 4, 1))
    chunks = chunk_document(doc, words, max_tokens=300, overlap_tokens=0)
    assert [c.heading for c in chunks] == ["", "Reserverade kontrakt", "Sociala hänsyn", "Partnerskap"]
    assert all(p.label == "" and not p.ocr for p in doc.pages)


def test_web_page_keeps_headings_and_drops_navigation_scripts_and_footer(tmp_path: Path) -> None:
    doc = load(docmaker.write_html(tmp_path / "sida.html"))
    assert doc.meta.kind == "html" and doc.meta.title == "Social ekonomi – Region Jämtland"
    assert doc.meta.publisher == "Region Jämtland Härjedalen"
    assert [p.text for p in doc.pages] == [
        "Social ekonomi\nRegionen stödjer sociala företag och föreningar.",
        "Stöd till sociala företag\nFöretagen kan få rådgivning och lokaler.\nRådgivning i affärsutveckling\n"
        "Nätverk för kooperativ",
        "Kontakt\nSkriv till regionens kontaktcenter.",
    ]
    assert [(s.title, s.page, s.level) for s in doc.sections] == [
        ("Social ekonomi", 1, 1), ("Stöd till sociala företag", 2, 2), ("Kontakt", 3, 2)]


def test_a_section_longer_than_a_page_goes_on_over_pages_and_loses_nothing(tmp_path: Path) -> None:
    """A Word or HTML section is one "page"; one over max_page_chars was cut to it, losing the rest of its text. Its
    paragraphs alike but for a number were then taken for running headers on those pages and dropped: a section has
    none."""
    paragraphs = [f"Steg {i}: kommunen bjuder in sociala företag till dialog om upphandlingen." for i in range(40)]
    long_one = " ".join(f"ord{i}" for i in range(500))  # one paragraph of 3,390 characters
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    path = tmp_path / "lang.html"
    path.write_text(f"<html><body><h1>Upphandling</h1>{body}<p>{long_one}</p><h2>Kontakt</h2><p>Ring oss.</p>"
                    "</body></html>", encoding="utf-8")
    doc = load(path, make_settings(index_dir=Path("/nonexistent"), max_page_chars=1000))
    assert len(doc.pages) > 5 and all(len(p.text) <= 1000 for p in doc.pages)
    text = " ".join(" ".join(p.text.split()) for p in doc.pages)
    assert all(p in text for p in paragraphs) and long_one in text and text.endswith("Kontakt Ring oss.")
    assert [(s.title, s.page) for s in doc.sections] == [("Upphandling", 1), ("Kontakt", len(doc.pages))]
    chunks = chunk_document(doc, words, max_tokens=300, overlap_tokens=0)
    assert {c.heading for c in chunks if c.page_start < len(doc.pages)} == {"Upphandling"}


@pytest.mark.parametrize(("name", "content", "reason"), [
    ("fel.docx", b"%PDF-1.4 not a word file", "not a Word document: the file starts like PDF"),
    ("trasig.docx", b"PK\x03\x04" + b"\x00" * 64, "damaged Word document: cannot be read"),
    ("tom.html", b"<html><body><nav>Meny</nav></body></html>", "no text: the document holds no paragraphs"),
    ("bild.html", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not a web page: the file looks like a PNG image"),
])
def test_broken_word_and_html_files_get_a_reason(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError) as info:
        load(path)
    assert info.value.reason.startswith(reason)


def test_citations_name_the_printed_page_the_ocr_and_the_section() -> None:
    base = dict(chunk_id=1, doc_id="d", title="T", file="d.pdf", publisher="", page=3, page_end=3, char_start=0,
                char_end=4, text="text", language="sv", score=0.5)
    labelled = Hit(**base, heading="1 Inledning", page_label="1")
    scanned = Hit(**base, ocr=True)
    word = Hit(**base, heading="Partnerskap", kind="docx")
    assert (labelled.place("sv"), labelled.place("en")) == ("s. 1", "p. 1")
    assert scanned.place("sv") == "s. 3, OCR"
    assert (word.place("sv"), word.place("en")) == ("avsnitt ”Partnerskap”", "section ”Partnerskap”")
    public = Citation.from_hit(1, labelled, "text").to_public()
    assert (public["page"], public["page_label"], public["section"], public["ocr"]) == (3, "1", "1 Inledning", False)
    assert Citation.from_hit(2, scanned).to_public()["page_label"] is None
    assert Citation.from_hit(2, scanned).to_public()["ocr"] is True


# --- OCR -------------------------------------------------------------------------------------------------

@needs_ocr
def test_scanned_page_is_read_by_ocr_in_swedish_and_english(tmp_path: Path) -> None:
    doc = load(docmaker.write_scanned_pdf(tmp_path / "skannad.pdf"))
    [page] = doc.pages
    assert page.ocr is True and page.number == 1 and page.label == ""
    expected = " ".join(docmaker.SCANNED_SV + docmaker.SCANNED_EN)
    cer = character_error_rate(expected, page.text)
    assert cer <= 0.05, (cer, page.text)
    assert "Jämtland" in page.text and "rådgivning" in page.text  # Swedish letters survive
    assert doc.meta.language == "sv"


@needs_ocr
def test_only_the_scanned_page_of_a_mixed_pdf_is_read_by_ocr(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.add_page(PdfReader(docmaker.write_report_pdf(tmp_path / "r.pdf")).pages[0])
    writer.add_page(PdfReader(docmaker.write_scanned_pdf(tmp_path / "s.pdf")).pages[0])
    with (tmp_path / "blandad.pdf").open("wb") as fh:
        writer.write(fh)
    doc = load(tmp_path / "blandad.pdf")
    assert [p.ocr for p in doc.pages] == [False, True]
    assert doc.pages[0].text.startswith(docmaker.HEADER + "\nFörord\nRapporten beskriver")  # 2 pages: no furniture removal
    assert character_error_rate(" ".join(docmaker.SCANNED_SV + docmaker.SCANNED_EN), doc.pages[1].text) <= 0.05


def test_without_ocr_a_scanned_pdf_says_exactly_what_to_install(tmp_path: Path, monkeypatch) -> None:
    path = docmaker.write_report_pdf(tmp_path / "r.pdf")  # any PDF: only the image-only case matters below
    from tests.pdfmaker import write_image_only_pdf

    scan = write_image_only_pdf(tmp_path / "scan.pdf")
    monkeypatch.setattr("ingest.ocr.ocr_missing", lambda languages="swe+eng": "the tesseract program is missing; "
                        "run apt-get install tesseract-ocr tesseract-ocr-swe tesseract-ocr-eng && pip install -e '.[ocr]'")
    with pytest.raises(DocumentError) as info:
        load(scan)
    assert info.value.reason == ("no extractable text: scanned PDF, OCR needed; the tesseract program is missing; run "
                                 "apt-get install tesseract-ocr tesseract-ocr-swe tesseract-ocr-eng && "
                                 "pip install -e '.[ocr]'")
    with pytest.raises(DocumentError) as info:
        load(scan, make_settings(index_dir=Path("/nonexistent"), ocr=False))
    assert info.value.reason == "no extractable text: scanned PDF, OCR needed; OCR is turned off (setting ocr = false)"
    assert load(path).pages[0].text.startswith("Förord")  # text PDFs never need OCR


def test_missing_language_data_names_the_debian_package(monkeypatch) -> None:
    pytest.importorskip("pytesseract")
    pytest.importorskip("pypdfium2")
    import pytesseract

    ocr_missing.cache_clear()
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/tesseract")
    monkeypatch.setattr(pytesseract, "get_languages", lambda config="": ["eng", "osd"])
    try:
        assert ocr_missing("swe+eng") == ("Tesseract's language data swe is missing; run apt-get install "
                                          "tesseract-ocr-swe")
    finally:
        ocr_missing.cache_clear()


def test_character_error_rate() -> None:
    assert character_error_rate("abc def", "abc  def") == 0.0
    assert character_error_rate("abcd", "abxd") == 0.25
    assert character_error_rate("abcd", "") == 1.0


# --- through the index ---------------------------------------------------------------------------------

def test_index_keeps_sections_page_labels_and_ocr_flags_across_reingest(tmp_path: Path) -> None:
    from ingest.pipeline import run_ingest
    from ingest.store import IndexVersion

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    docmaker.write_report_pdf(corpus / "rapport.pdf")
    docmaker.write_docx(corpus / "handbok.docx")
    docmaker.write_html(corpus / "sida.html")
    ocr = not ocr_missing()
    if ocr:
        docmaker.write_scanned_pdf(corpus / "skannad.pdf")
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    report = run_ingest(settings, progress=False)
    assert not report.failed and len(report.ingested) == 3 + ocr

    def where() -> set[tuple]:
        version = IndexVersion.open(settings.index_dir)
        try:
            n = version.manifest["counts"]["chunks"]
            hits = [Hit.from_record(r, 1.0) for r in version.chunks(range(n))]
            return {(h.doc_id, h.page, h.place("sv"), h.heading) for h in hits}, version.page("rapport", 1)
        finally:
            version.close()

    first, page = where()
    assert page.label == "i" and page.ocr is False
    expected = {
        ("rapport", 1, "s. i", "Förord"), ("rapport", 2, "s. ii", "Förord"),
        ("rapport", 3, "s. 1", "1 Inledning"), ("rapport", 4, "s. 2", "1 Inledning"),
        ("rapport", 4, "s. 2", "2 Reserverade kontrakt"), ("rapport", 5, "s. 3", "2.1 Partnerskap"),
        ("handbok-docx", 1, "början", ""), ("handbok-docx", 2, "avsnitt ”Reserverade kontrakt”", "Reserverade kontrakt"),
        ("handbok-docx", 3, "avsnitt ”Sociala hänsyn”", "Sociala hänsyn"),
        ("handbok-docx", 4, "avsnitt ”Partnerskap”", "Partnerskap"),
        ("sida-html", 1, "avsnitt ”Social ekonomi”", "Social ekonomi"),
        ("sida-html", 2, "avsnitt ”Stöd till sociala företag”", "Stöd till sociala företag"),
        ("sida-html", 3, "avsnitt ”Kontakt”", "Kontakt"),
    }
    if ocr:
        expected.add(("skannad", 1, "s. 1, OCR", "Sociala företag i Jämtland"))  # a detected heading
    assert first == expected
    # a new file: the others are copied from the served version, labels and OCR flags with them
    docmaker.write_html(corpus / "annan.html")
    with (corpus / "annan.html").open("ab") as fh:  # not sida.html's bytes, so it is loaded, not a copy of it
        fh.write(b"\n")
    report = run_ingest(settings, progress=False)
    assert report.ingested == ("annan-html",) and len(report.unchanged) == 3 + ocr
    second, page = where()
    assert page.label == "i"
    assert second - first == {("annan-html", 1, "avsnitt ”Social ekonomi”", "Social ekonomi"),
                              ("annan-html", 2, "avsnitt ”Stöd till sociala företag”", "Stöd till sociala företag"),
                              ("annan-html", 3, "avsnitt ”Kontakt”", "Kontakt")}
    assert first <= second


def test_section_headings_are_searchable_and_old_versions_without_page_info_still_serve(tmp_path: Path) -> None:
    import sqlite3

    from ingest.manifest import file_entries, read_manifest, write_manifest
    from ingest.pipeline import run_ingest
    from ingest.stemming import stem_tokens
    from ingest.store import IndexVersion

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    docmaker.write_report_pdf(corpus / "rapport.pdf")
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    run_ingest(settings, progress=False)
    version = IndexVersion.open(settings.index_dir)
    ids = [i for i, _ in version.lexical_search(stem_tokens("inledning", "sv"), 10)]
    found = {(r.page_start, r.text.split()[0]) for r in version.chunks(ids)}
    # page 4's first chunk does not contain the word: its section heading does
    assert found == {(3, "1"), (4, "Arbetsintegrerande")}
    path = version.path
    version.close()
    # a version written before page_info existed: no labels, no OCR flags, and a re-ingest copes with it
    with sqlite3.connect(path / "meta.sqlite") as conn:
        conn.execute("DROP TABLE page_info")
    manifest = read_manifest(path)  # as that version's manifest was written: its checksums hold (nothing damaged)
    write_manifest(path, {**manifest, "files": {**manifest["files"], **file_entries(path)}})
    old = IndexVersion.open(settings.index_dir)
    assert {(r.page_label, r.ocr) for r in old.chunks(range(old.manifest["counts"]["chunks"]))} == {("", False)}
    assert old.page("rapport", 1).label == "" and old.pages("rapport")[2].text.startswith("1 Inledning")
    old.close()
    docmaker.write_html(corpus / "sida.html")
    report = run_ingest(settings, progress=False)
    assert report.ingested == ("sida-html",) and report.unchanged == ("rapport",)
    new = IndexVersion.open(settings.index_dir, verify=True)
    assert new.page("rapport", 1).label == ""  # copied from the old version, which had none
    new.close()


@needs_ocr
def test_ocr_reports_its_pages_and_does_not_count_against_the_document_time_budget(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for name in ("a.pdf", "b.pdf"):
        writer.add_page(PdfReader(docmaker.write_scanned_pdf(tmp_path / name)).pages[0])
    with (tmp_path / "skannad.pdf").open("wb") as fh:
        writer.write(fh)
    seen: list[tuple[int, int]] = []
    settings = make_settings(max_document_seconds=0.5)  # reading two pages by OCR takes longer than that
    doc = load_document(tmp_path / "skannad.pdf", root=tmp_path, sources={}, settings=settings,
                        on_ocr=lambda done, total: seen.append((done, total)))
    assert [p.ocr for p in doc.pages] == [True, True]  # before: refused for the time budget after all the work
    assert seen == [(1, 2), (2, 2)]


@pytest.mark.parametrize(("name", "content", "action"), [
    ("empty.txt", b"", NO_TEXT_ACTION),
    ("empty.docx", b"", NO_TEXT_ACTION),
    ("blank.md", b"  \n\n ", NO_TEXT_ACTION),
    ("tom.html", b"<html><body><nav>Meny</nav></body></html>", NO_TEXT_ACTION),
    ("fake.docx", b"garbage\n", WRONG_TYPE_ACTION),
    ("bild.html", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, WRONG_TYPE_ACTION),
    ("junk.txt", b"\x00\x01\x02\x03" * 50, WRONG_TYPE_ACTION),
    ("page.pdf", b"<!DOCTYPE html><html><body>Hej</body></html>", WRONG_TYPE_ACTION),
], ids=lambda v: v if isinstance(v, str) and "." in v and len(v) < 12 else "")
def test_empty_and_mistyped_files_are_told_what_to_do(tmp_path: Path, name: str, content: bytes,
                                                      action: str) -> None:
    """Before: "empty file" and "not a Word document: the file starts like text", with nothing to do."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DocumentError) as info:
        load(path)
    assert info.value.reason.endswith(f"; {action}"), info.value.reason


def test_a_heading_with_a_bidi_override_is_a_clean_section_title(tmp_path: Path) -> None:
    """Page text lost its bidi overrides; a heading kept them as the section title that answers and the widget
    put in quotation marks, and reversed what followed."""
    path = tmp_path / "rlo.html"
    path.write_text("<html><body><h2>Kooperativ \u202eavsnitt</h2><p>Ett kooperativ \u202eägs av medlemmarna.</p>"
                    "</body></html>", encoding="utf-8")
    doc = load(path)
    assert [s.title for s in doc.sections] == ["Kooperativ avsnitt"]
    assert [c.heading for c in chunk_document(doc, words, max_tokens=300, overlap_tokens=0)] == ["Kooperativ avsnitt"]
