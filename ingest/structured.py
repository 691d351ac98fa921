"""Word (.docx, python-docx) and web pages (.html, selectolax/Lexbor) as sections with headings.

Neither has pages, so each heading starts a new "page" of the document: page ``n`` is the ``n``-th section,
its first line is its heading, and the section's title is what citations show instead of a page number.
Text before the first heading is page 1 without a heading. Paragraphs are separated by blank lines, so
normalisation never joins two of them.

Both parse the bytes the loader has read (and taken the checksum of), never the file again: a file edited during
an ingest is parsed as the version whose checksum is stored, and the zip-bomb check of a Word document looks at
the archive that is parsed.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ingest.errors import NO_TEXT_ACTION, WRONG_TYPE_ACTION, DocumentError
from ingest.normalize import clean_line
from ingest.pdf_structure import LoadExtras
from ingest.types import Section

_HEADING_STYLE = re.compile(r"^(?:heading|rubrik|überschrift|titre)\s*(\d)$", re.IGNORECASE)
_DROP_HTML = "script, style, noscript, template, nav, header, footer, aside, form, svg, iframe, button"
_BLOCKS = "h1, h2, h3, h4, h5, h6, p, li, pre, blockquote, td, th, dt, dd, figcaption, caption"


def _paginate(blocks: Iterable[tuple[int, str]], max_chars: int) -> tuple[list[str], list[Section]]:
    """(level, text) blocks, level > 0 for headings, into one page per section plus the sections. A section longer
    than ``max_chars`` goes on over as many pages as it needs, cut between paragraphs (a paragraph longer than that
    at a space), so nothing of it is lost; its section stays in force over them, as over a PDF's page breaks."""
    pages: list[str] = []
    sections: list[Section] = []
    current: list[str] = []
    size = 0

    def close() -> None:
        nonlocal size
        if current:
            pages.append("\n\n".join(current))
            current.clear()
            size = 0

    for level, text in blocks:
        text = clean_line(" ".join(text.split()))  # a heading is a section title too: no bidi override in it
        if not text:
            continue
        if level:
            close()
            sections.append(Section(title=text, page=len(pages) + 1, level=level))
        for piece in _pieces(text, max_chars):
            if current and size + 2 + len(piece) > max_chars:
                close()
            size += len(piece) + (2 if current else 0)
            current.append(piece)
    close()
    return pages, sections


def _pieces(text: str, max_chars: int) -> Iterator[str]:
    """``text`` in pieces of at most ``max_chars``, cut at the last space before the limit (or at it, without one)."""
    while len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars + 1)
        cut = cut if cut > 0 else max_chars
        yield text[:cut]
        text = text[cut:].lstrip()
    if text:
        yield text


# --- Word -----------------------------------------------------------------------------------------

def _docx_level(paragraph) -> int:
    style = getattr(paragraph.style, "name", "") or ""
    if style.lower() == "title":
        return 1
    m = _HEADING_STYLE.match(style.strip())
    return int(m.group(1)) if m else 0


def _docx_blocks(document) -> Iterator[tuple[int, str]]:
    from docx.table import Table

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = list(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip()))
                if cells:
                    yield 0, " | ".join(cells)
        else:
            yield _docx_level(item), item.text


def _load_docx(path: Path, data: bytes, looks: str, settings) -> tuple[list[str], dict[str, str], list[Section]]:
    if not looks.startswith("a ZIP archive"):
        raise DocumentError(str(path), f"not a Word document: the file starts like {looks}; {WRONG_TYPE_ACTION}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocumentError(str(path), f"damaged Word document: cannot be read ({exc})") from exc
    if inflated > settings.max_decompressed_bytes:
        raise DocumentError(str(path), f"Word document too large when decompressed (> "
                                       f"{settings.max_decompressed_bytes // 2**20} MB); possibly a zip bomb")
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
        pages, sections = _paginate(_docx_blocks(document), settings.max_page_chars)
        props = document.core_properties
        info = {"/Title": props.title or "", "/Author": props.author or ""}
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile, AttributeError) as exc:
        raise DocumentError(str(path), f"damaged Word document: cannot be read ({exc})") from exc
    except Exception as exc:  # noqa: BLE001 - lxml's XMLSyntaxError and other parser failures
        raise DocumentError(str(path), f"damaged Word document: cannot be read ({type(exc).__name__})") from exc
    return pages, info, sections


# --- HTML -----------------------------------------------------------------------------------------

def _decode(data: bytes) -> str:
    head = data[:2048].decode("ascii", errors="replace").lower()
    m = re.search(r"charset=[\"']?([\w-]+)", head)
    for encoding in ([m.group(1)] if m else []) + ["utf-8-sig", "cp1252"]:
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def _html_blocks(root) -> Iterator[tuple[int, str]]:
    chosen = set()
    for node in root.css(_BLOCKS):
        parent, nested = node.parent, False
        while parent is not None:
            if parent.mem_id in chosen:
                nested = True
                break
            parent = parent.parent
        if nested:
            continue
        chosen.add(node.mem_id)
        tag = node.tag.lower()
        level = int(tag[1]) if re.fullmatch(r"h[1-6]", tag) else 0
        yield level, node.text(deep=True, separator=" ")


def _load_html(path: Path, data: bytes, looks: str, settings) -> tuple[list[str], dict[str, str], list[Section]]:
    if looks not in ("HTML", "text", "XML"):
        raise DocumentError(str(path), f"not a web page: the file looks like {looks}; {WRONG_TYPE_ACTION}")
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(_decode(data))
    title_node = tree.css_first("title")
    author = tree.css_first('meta[name="author"]')
    info = {"/Title": title_node.text(strip=True) if title_node else "",
            "/Author": (author.attributes.get("content") or "") if author else ""}
    for node in tree.css(_DROP_HTML):
        node.decompose()
    root = tree.css_first("main") or tree.css_first("article") or tree.body or tree.root
    if root is None:
        raise DocumentError(str(path), f"no text: the web page is empty; {NO_TEXT_ACTION}")
    pages, sections = _paginate(_html_blocks(root), settings.max_page_chars)
    if not pages:  # text outside paragraphs: take it line by line
        pages, sections = _paginate(((0, line) for line in (root.text(separator="\n") or "").split("\n")),
                                    settings.max_page_chars)
    return pages, info, sections


def load_structured(path: Path, kind: str, looks: str, settings, data: bytes
                    ) -> tuple[list[str], dict[str, str], LoadExtras]:
    """Pages (one per section), metadata and the sections of a .docx or .html file, parsed from ``data``, the
    file's bytes as the loader read them (``path`` only names the file in messages)."""
    pages, info, sections = (_load_docx if kind == "docx" else _load_html)(path, data, looks, settings)
    if not any(p.strip() for p in pages):
        raise DocumentError(str(path), f"no text: the document holds no paragraphs; {NO_TEXT_ACTION}")
    return pages, info, LoadExtras(sections=tuple(sections))
