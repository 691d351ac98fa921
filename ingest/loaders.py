"""Reading PDF, TXT and MD files into normalised pages, with a specific reason for every unusable file."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path

from ingest.errors import DocumentError
from ingest.language import detect_language
from ingest.normalize import normalize_pages
from ingest.pdf_structure import LoadExtras, ocr_scanned_pages, outline_sections, page_labels, page_text
from ingest.settings import Settings
from ingest.sources import SourceEntry, doc_id_for, file_sha256, relative_name
from ingest.types import DocumentMeta, LoadedDocument, Page

log = logging.getLogger("sesam.ingest")
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


def _title_from_name(path: Path) -> str:
    stem = re.sub(r"[-_]+", " ", path.stem).strip()
    return stem[:1].upper() + stem[1:] if stem else path.name


def _meta(path: Path, root: Path, sources: Mapping[str, SourceEntry], sha256: str, kind: str,
          pages: list[Page], pdf_info: Mapping[str, str] | None = None) -> DocumentMeta:
    rel = relative_name(path, root)
    entry = sources.get(rel) or sources.get(path.name) or SourceEntry()
    info = pdf_info or {}
    pdf_title = (info.get("/Title") or "").strip()
    meaningful = pdf_title and not re.fullmatch(r"(untitled|microsoft \w+ - .*|presentation\d*|slide \d+)", pdf_title.lower())
    text = "\n".join(p.text for p in pages[:20])
    return DocumentMeta(
        doc_id=doc_id_for(path, root),
        path=rel,
        title=entry.title or (pdf_title if meaningful else _title_from_name(path)),
        publisher=entry.publisher or (info.get("/Author") or "").strip(),
        language=entry.language or detect_language(text),
        date=entry.date,
        url=entry.url,
        sha256=sha256,
        kind=kind,
    )


def _cut(text: str, number: int, path: Path, limit: int) -> str:
    if len(text) > limit:
        log.warning("%s: page %d has %d characters; kept the first %d.", path, number, len(text), limit)
        return text[:limit]
    return text


def _load_pdf(path: Path, settings: Settings) -> tuple[list[str], dict[str, str], LoadExtras]:
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
            reader = pypdf.PdfReader(str(path), strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise DocumentError(str(path), "encrypted PDF: a password is needed")
            n_pages = len(reader.pages)
        except DocumentError:
            raise
        except (FileNotDecryptedError, DependencyError) as exc:
            raise DocumentError(str(path), "encrypted PDF: a password is needed") from exc
        except LimitReachedError as exc:
            raise DocumentError(str(path), bomb) from exc
        except (PyPdfError, PdfReadError, ValueError, KeyError, TypeError, AttributeError, OSError,
                RecursionError) as exc:
            raise DocumentError(str(path), f"damaged PDF: cannot be read ({exc})") from exc
        if n_pages == 0:
            raise DocumentError(str(path), "damaged PDF: it has no pages")
        if n_pages > settings.max_pdf_pages:
            raise DocumentError(str(path), f"PDF has {n_pages} pages, more than the limit of "
                                           f"{settings.max_pdf_pages} (setting max_pdf_pages)")
        texts: list[str] = []
        images = 0
        scanned: list[int] = []  # 0-based pages with (almost) no text layer but images: OCR candidates
        for i, page in enumerate(reader.pages, start=1):
            try:
                texts.append(_cut(page_text(page), i, path, settings.max_page_chars))
            except LimitReachedError as exc:
                raise DocumentError(str(path), bomb) from exc
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
        extras = ocr_scanned_pages(path, texts, scanned, settings, extras)
    if not any(t.strip() for t in texts):
        if images:
            raise DocumentError(str(path), "no extractable text: scanned PDF, and OCR found no text in its images")
        raise DocumentError(str(path), "no extractable text: the PDF has no text layer")
    return texts, info, extras


def _decode_text(path: Path, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise DocumentError(str(path), "binary data, not text: save it as UTF-8 text or PDF")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        utf8_error = exc
    text = data.decode("cp1252", errors="replace")
    bad = text.count("\ufffd") + sum(1 for c in text if ord(c) < 32 and c not in "\n\r\t\f")
    if bad <= max(2, len(text) // 1000):
        log.warning("%s is not UTF-8; read it as Windows-1252 (Latin-1).", path)
        return text
    raise DocumentError(str(path), f"not UTF-8 text ({utf8_error.reason} at byte {utf8_error.start}) and not "
                                   "Windows-1252 either; convert it to UTF-8") from utf8_error


def _load_text(path: Path, data: bytes, kind: str, settings: Settings) -> list[str]:
    text = _decode_text(path, data)
    if kind == "md":
        text = re.sub(r"(?m)^\s{0,3}#{1,6}\s+", "", text)  # headings become plain lines
        text = re.sub(r"(?m)^\s*```.*$", "", text)
    pages = [_cut(p, i, path, settings.max_page_chars) for i, p in enumerate(text.split("\f"), start=1)]
    if not any(p.strip() for p in pages):
        raise DocumentError(str(path), "no text: the file holds only whitespace")
    return pages


def load_document(path: Path, *, root: Path, sources: Mapping[str, SourceEntry], settings: Settings,
                  sha256: str | None = None) -> LoadedDocument:
    """Load one file as normalised pages; raise :class:`DocumentError` with a specific reason if unusable."""
    try:
        size = path.stat().st_size
        if size == 0:
            raise DocumentError(str(path), "empty file")
        if size > settings.max_file_bytes:
            raise DocumentError(str(path), f"file too large ({size // 2**20} MB; the limit is "
                                           f"{settings.max_file_bytes // 2**20} MB, setting max_file_bytes)")
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise DocumentError(str(path), f"cannot be read ({exc.strerror or exc})") from exc
    kind = path.suffix.lower().lstrip(".")
    kind = "html" if kind == "htm" else kind
    looks = sniff(head)
    info: dict[str, str] = {}
    extras = LoadExtras()
    if kind == "pdf":
        if looks != "PDF":
            raise DocumentError(str(path), f"not a PDF: the file starts like {looks}")
        raw_pages, info, extras = _load_pdf(path, settings)
    elif kind in ("txt", "md"):
        if looks not in ("text", "XML", "HTML"):
            raise DocumentError(str(path), f"not a text file: it looks like {looks}")
        raw_pages = _load_text(path, path.read_bytes(), kind, settings)
    elif kind in ("docx", "html"):
        from ingest.structured import load_structured

        raw_pages, info, extras = load_structured(path, kind, looks, settings)
    else:
        raise DocumentError(str(path), f"unsupported file type .{kind}; supported: .pdf, .txt, .md, .docx, .html")
    digest = sha256 or file_sha256(path)
    doc_id = doc_id_for(path, root)
    pages = [Page(doc_id=doc_id, number=i, text=t, label=extras.label(i), ocr=(i - 1) in extras.ocr_pages)
             for i, t in enumerate(normalize_pages(raw_pages, {s.title for s in extras.sections}), start=1)]
    return LoadedDocument(meta=_meta(path, root, sources, digest, kind, pages, info), pages=tuple(pages),
                          sections=extras.sections)
