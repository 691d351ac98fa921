"""Reading PDF, TXT and MD files into normalised pages, with a specific reason for every unusable file."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ingest.errors import NO_TEXT_ACTION, WRONG_TYPE_ACTION, DocumentError
from ingest.language import detect_language
from ingest.normalize import normalize_pages
from ingest.pdf_structure import LoadExtras, ocr_scanned_pages, outline_sections, page_labels, page_text
from ingest.safetext import one_line, printable
from ingest.settings import Settings
from ingest.sources import SourceEntry, doc_id_for, document_metadata, entry_for, relative_name
from ingest.types import DerivedMeta, DocumentMeta, LoadedDocument, Page

log = logging.getLogger("sesam.ingest")
ENCRYPTED = "encrypted PDF: a password is needed; save a copy without the password and ingest that"
AGAIN = "export it again or copy the file again"  # what to do about a damaged file
logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf's warnings go to logging, not stderr spam

_SNIFF = [
    (b"%PDF", "PDF"),
    (b"PK\x03\x04", "a ZIP archive (perhaps a Word or OpenDocument file)"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file"),
    (b"{\\rtf", "an RTF document"),
]


def sniff(head: bytes) -> str:
    """A short description of what the first bytes of a file look like."""
    stripped = head.lstrip()
    for magic, what in _SNIFF:
        if stripped.startswith(magic):
            return what
    lower = stripped[:512].lower()
    if lower.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in lower:
        return "HTML"
    if lower.startswith(b"<?xml"):
        return "XML"
    if b"\x00" in head[:4096]:
        return "binary data"
    return "text"


def _meta(path: Path, root: Path, sources: Mapping[str, SourceEntry], sha256: str, kind: str,
          pages: list[Page], pdf_info: Mapping[str, str] | None = None) -> tuple[DocumentMeta, DerivedMeta]:
    """Metadata is data: every field is one line of printable text (see :mod:`ingest.safetext`), so a title
    with line breaks or escape sequences cannot forge an attribution or reach a terminal raw. Also returns what
    the file says of itself, recorded so a later change of sources.toml needs no loading (``DerivedMeta``)."""
    rel = relative_name(path, root)
    info = pdf_info or {}
    pdf_title = one_line(info.get("/Title"))
    meaningful = pdf_title and not re.fullmatch(r"(untitled|microsoft \w+ - .*|presentation\d*|slide \d+)", pdf_title.lower())
    text = "\n".join(p.text for p in pages[:20])
    derived = DerivedMeta(title=pdf_title if meaningful else "", publisher=one_line(info.get("/Author")),
                          language=detect_language(text))
    title, publisher, language, date, url = document_metadata(entry_for(sources, path, root), path, derived)
    meta = DocumentMeta(doc_id=doc_id_for(path, root), path=one_line(rel, limit=1000), title=title,
                        publisher=publisher, language=language, date=date, url=url, sha256=sha256, kind=kind)
    return meta, derived


OcrProgress = Callable[[int, int], None]  # (pages read by OCR, pages to read) of the document being loaded


def _passing(exc: DocumentError) -> DocumentError:
    """``exc``, marked as a failure of the moment (a busy machine, an OCR timeout): not remembered, so the next run
    loads the file again."""
    exc.lasting = False
    return exc


class _Budget:
    """The time one document may take to load (setting max_document_seconds). OCR does not count: it has its
    own limit per page (``ocr_timeout_s``), and a long scanned report is work, not a pathological file."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.path, self.seconds = path, seconds
        self.deadline = time.monotonic() + seconds

    def exclude(self, seconds: float) -> None:
        """Leave ``seconds`` (spent on OCR) out of the budget."""
        self.deadline += seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise _passing(DocumentError(str(self.path), f"loading took longer than the time budget of "
                                                         f"{self.seconds:g} s (setting max_document_seconds); split "
                                                         "the document or raise the limit"))


def _too_long(path: Path, number: int, limit: int, count: int | None = None) -> DocumentError:
    has = f"more than {limit:,} characters of text (the limit, setting max_page_chars)" if count is None else \
        f"{count:,} characters of text, more than the limit of {limit:,} (setting max_page_chars)"
    return DocumentError(str(path), f"page {number} has {has}; split the document into smaller pages or raise "
                                    "the limit")


class _PageTooLong(Exception):
    """Raised inside pypdf's text extraction to stop it as soon as a page passes max_page_chars."""


def _page_text(page, number: int, path: Path, limit: int, budget: _Budget) -> str:
    """The text of one PDF page; extraction stops as soon as it passes ``limit`` characters or the budget."""
    seen = 0

    def visit(text: str, *_args) -> None:
        nonlocal seen
        seen += len(text)
        if seen > limit:
            raise _PageTooLong
        budget.check()

    try:
        text = page_text(page, on_text=visit)  # reading order, footnotes (ingest/pdf_structure.py)
    except _PageTooLong:
        raise _too_long(path, number, limit) from None
    if len(text) > limit:
        raise _too_long(path, number, limit)
    return text


def _limit_reason(exc: Exception, bomb: str) -> str:
    """pypdf's LimitReachedError covers decompression limits and structural ones (a page tree nested too deep)."""
    message = str(exc)
    if "depth" in message.lower():
        return f"damaged or hostile PDF: its structure is nested too deeply ({message.rstrip('.')})"
    return bomb


def _load_pdf(path: Path, data: bytes, settings: Settings, budget: _Budget, on_ocr: OcrProgress | None = None
              ) -> tuple[list[str], dict[str, str], LoadExtras]:
    import pypdf
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PdfReadError, PyPdfError

    limit = settings.max_decompressed_bytes
    bomb = f"PDF stream too large when decompressed (> {limit // 2**20} MB); possibly a decompression bomb"
    with pypdf.apply_configuration(
        zlib_maximum_output_length=limit,
        lzw_maximum_output_length=limit,
        run_length_maximum_output_length=limit,
        array_based_stream_maximum_output_length=limit,
        maximum_declared_stream_length=limit,
    ):
        try:
            reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise DocumentError(str(path), ENCRYPTED)
            n_pages = len(reader.pages)
        except DocumentError:
            raise
        except (FileNotDecryptedError, DependencyError) as exc:
            raise DocumentError(str(path), ENCRYPTED) from exc
        except LimitReachedError as exc:
            raise DocumentError(str(path), _limit_reason(exc, bomb)) from exc
        except (PyPdfError, PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError,
                RecursionError) as exc:
            raise DocumentError(str(path), f"damaged PDF: cannot be read ({exc}); {AGAIN}") from exc
        if n_pages == 0:
            raise DocumentError(str(path), f"damaged PDF: it has no pages; {AGAIN}")
        if n_pages > settings.max_pdf_pages:
            raise DocumentError(str(path), f"PDF has {n_pages} pages, more than the limit of "
                                           f"{settings.max_pdf_pages} (setting max_pdf_pages)")
        texts: list[str] = []
        images = 0
        scanned: list[int] = []  # 0-based pages with (almost) no text layer but images: OCR candidates
        for i, page in enumerate(reader.pages, start=1):
            budget.check()
            try:
                texts.append(_page_text(page, i, path, settings.max_page_chars, budget))
            except DocumentError:
                raise
            except LimitReachedError as exc:
                raise DocumentError(str(path), _limit_reason(exc, bomb)) from exc
            except MemoryError as exc:
                raise DocumentError(str(path), bomb) from exc
            except Exception as exc:  # noqa: BLE001 - one broken page must not lose the others
                log.warning("%s: page %d cannot be read (%s); it is kept empty.", path, i, exc)
                texts.append("")
            if len(texts[-1].strip()) < settings.ocr_min_chars:
                try:
                    has_images = bool(page.get("/Resources", {}).get("/XObject"))
                except Exception:  # noqa: BLE001
                    has_images = False
                images += has_images and not texts[-1].strip()
                if has_images:
                    scanned.append(i - 1)
        try:
            info = {k: str(v) for k, v in (reader.metadata or {}).items()}
        except Exception:  # noqa: BLE001 - metadata is optional
            info = {}
        extras = LoadExtras(labels=tuple(page_labels(reader)), sections=tuple(outline_sections(reader)))
    if scanned:
        budget.check()
        t0 = time.monotonic()
        extras = ocr_scanned_pages(path, texts, scanned, settings, extras, on_ocr)
        budget.exclude(time.monotonic() - t0)
    if not any(t.strip() for t in texts):
        if images:
            error = DocumentError(str(path), "no extractable text: scanned PDF, and OCR found no text in its images")
            raise _passing(error) if extras.ocr_incomplete else error
        raise DocumentError(str(path), "no extractable text: the PDF has no text layer and no images to read by "
                                       "OCR; export it again with its text")
    return texts, info, extras


def _decode_text(path: Path, data: bytes, warnings: list[str]) -> str:
    """The text of ``data``: UTF-8, else Windows-1252 when it reads cleanly so, which appends a warning to
    ``warnings`` (it goes into the run's report: a log line alone reached no summary, no --json, no admin report)."""
    if b"\x00" in data[:8192]:
        raise DocumentError(str(path), "binary data, not text: save it as UTF-8 text or PDF")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    text = data.decode("cp1252", errors="replace")
    bad = text.count("\ufffd") + sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    if bad <= max(2, len(text) // 1000):
        warnings.append(f"{printable(path)} is not UTF-8; it was read as Windows-1252 (Latin-1): check its letters "
                        "(å, ä, ö) in answers, or save it as UTF-8")
        return text
    raise DocumentError(str(path), f"not UTF-8 text ({utf8_error.reason} at byte {utf8_error.start}) and not "
                                   "Windows-1252 either; convert it to UTF-8") from utf8_error


def _load_text(path: Path, data: bytes, kind: str, settings: Settings, warnings: list[str]) -> list[str]:
    n_pages = data.count(b"\f") + 1  # counted on the bytes, before decoding: a form feed is 0x0c in both encodings
    if n_pages > settings.max_text_pages:
        raise DocumentError(str(path), f"text file has {n_pages:,} pages (form feeds), more than the limit of "
                                       f"{settings.max_text_pages:,} (setting max_text_pages)")
    start = 0
    for number in range(1, n_pages + 1):  # before decoding: a page over 4 bytes a character is over the limit
        end = data.find(b"\f", start)
        end = len(data) if end < 0 else end
        if end - start > 4 * settings.max_page_chars:
            raise _too_long(path, number, settings.max_page_chars)
        start = end + 1
    text = _decode_text(path, data, warnings)
    if kind == "md":
        text = re.sub(r"(?m)^\s{0,3}#{1,6}\s+", "", text)  # headings become plain lines
        text = re.sub(r"(?m)^\s*```.*$", "", text)
    pages = text.split("\f")
    for i, page in enumerate(pages, start=1):
        if len(page) > settings.max_page_chars:
            raise _too_long(path, i, settings.max_page_chars, count=len(page))
    if not any(p.strip() for p in pages):
        raise DocumentError(str(path), f"no text: the file holds only whitespace; {NO_TEXT_ACTION}")
    return pages


def load_document(path: Path, *, root: Path, sources: Mapping[str, SourceEntry], settings: Settings,
                  on_ocr: OcrProgress | None = None) -> LoadedDocument:
    """Load one file as normalised pages; raise :class:`DocumentError` with a specific reason if unusable.

    The file is read once; its checksum is taken of exactly the bytes that are parsed, so a file edited
    during an ingest is never stored with the checksum of another version of it. ``on_ocr(done, total)`` is
    called as each scanned page is read by OCR."""
    budget = _Budget(path, settings.max_document_seconds)
    try:
        size = path.stat().st_size
        if size == 0:
            raise DocumentError(str(path), f"empty file; {NO_TEXT_ACTION}")
        if size > settings.max_file_bytes:
            raise DocumentError(str(path), f"file too large ({size // 2**20} MB; the limit is "
                                           f"{settings.max_file_bytes // 2**20} MB, setting max_file_bytes)")
        with path.open("rb") as fh:
            data = fh.read(settings.max_file_bytes + 1)
    except OSError as exc:
        raise DocumentError(str(path), f"cannot be read ({exc.strerror or exc})") from exc
    if len(data) > settings.max_file_bytes:  # it grew since stat()
        raise DocumentError(str(path), f"file too large (the limit is {settings.max_file_bytes // 2**20} MB, "
                                       "setting max_file_bytes)")
    if not data:
        raise DocumentError(str(path), f"empty file; {NO_TEXT_ACTION}")
    digest = hashlib.sha256(data).hexdigest()
    try:
        kind = path.suffix.lower().lstrip(".")
        kind = "html" if kind == "htm" else kind
        looks = sniff(data[:4096])
        info: dict[str, str] = {}
        extras = LoadExtras()
        warnings: list[str] = []
        if kind == "pdf":
            if looks != "PDF":
                raise DocumentError(str(path), f"not a PDF: the file starts like {looks}; {WRONG_TYPE_ACTION}")
            raw_pages, info, extras = _load_pdf(path, data, settings, budget, on_ocr)
        elif kind in ("txt", "md"):
            if looks not in ("text", "XML", "HTML"):
                raise DocumentError(str(path), f"not a text file: it looks like {looks}; {WRONG_TYPE_ACTION}")
            raw_pages = _load_text(path, data, kind, settings, warnings)
        elif kind in ("docx", "html"):
            from ingest.structured import load_structured

            raw_pages, info, extras = load_structured(path, kind, looks, settings, data)
        else:
            raise DocumentError(str(path), f"unsupported file type .{kind}; supported: .pdf, .txt, .md, .docx, .html")
        del data
        doc_id = doc_id_for(path, root)
        pages = [Page(doc_id=doc_id, number=i, text=t, label=extras.label(i), ocr=(i - 1) in extras.ocr_pages)
                 for i, t in enumerate(normalize_pages(raw_pages, {s.title for s in extras.sections},
                                                            printed=kind not in ("docx", "html")), start=1)]
        budget.check()
        meta, derived = _meta(path, root, sources, digest, kind, pages, info)
        return LoadedDocument(meta=meta, pages=tuple(pages), sections=extras.sections, derived=derived,
                              warnings=tuple(warnings))
    except DocumentError as exc:  # named by its bytes, so a run can remember it (ingest/failures.py)
        exc.sha256 = digest
        raise
