"""Frozen records that move between the ingest stages: Document → Page → Chunk."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentMeta:
    """What is known about one source file before and after loading it."""

    doc_id: str  # stable id: the file's path relative to its corpus root, without suffix, slugified
    path: str  # path relative to the corpus root (as shown in citations)
    title: str
    publisher: str = ""
    language: str = "und"  # one of ingest.language.LANGUAGES, or "und"
    date: str = ""  # ISO date or year, free text if unknown
    url: str = ""
    sha256: str = ""
    kind: str = "pdf"  # "pdf", "txt", "md", "docx", "html"


@dataclass(frozen=True)
class Page:
    """Normalised text of one page; ``number`` is 1-based as in the PDF (text files have page 1)."""

    doc_id: str
    number: int
    text: str
    label: str = ""  # the printed page label when the PDF defines one ("iv", "A-3"), else ""
    ocr: bool = False  # the text was read by OCR from an image of the page


@dataclass(frozen=True)
class Section:
    """A heading of a document and where it starts: from the PDF outline, or a Word/HTML heading."""

    title: str
    page: int  # 1-based page (a Word or HTML document: the number of the section's own page)
    level: int = 1


@dataclass(frozen=True)
class DerivedMeta:
    """What a document's file says of itself, whatever ``sources.toml`` says: its own title (PDF /Title, Word or
    HTML title; "" when it has none worth showing), its author, and the language detected in its text. Recorded in
    the index (table ``derived_meta``) so that an entry of sources.toml changed, added or removed later, or a new
    file name, is applied to the stored metadata without loading the file again."""

    title: str = ""
    publisher: str = ""
    language: str = "und"


@dataclass(frozen=True)
class LoadedDocument:
    """A document read from disk: metadata plus its normalised pages."""

    meta: DocumentMeta
    pages: tuple[Page, ...]
    sections: tuple[Section, ...] = ()  # headings in document order (outline or heading styles); may be empty
    derived: DerivedMeta | None = None  # the file's own metadata, before sources.toml is applied
    warnings: tuple[str, ...] = ()  # sentences for the run's report (a text read as Windows-1252)


@dataclass(frozen=True)
class Chunk:
    """A passage to embed. Offsets point into ``Page.text`` of ``page_start``.

    A chunk that crosses a page boundary has ``page_end > page_start``; its
    ``char_end`` then points into the text of ``page_end``.
    """

    doc_id: str
    seq: int  # 0-based position of the chunk within its document
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    text: str
    language: str
    n_tokens: int
    heading: str = ""  # nearest heading above the chunk, if any
    lead: str = ""  # the unfinished sentence of the previous page that this chunk completes: embedded, not quoted
