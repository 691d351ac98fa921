"""What a long report's PDF says beyond its text: reading order on two-column pages, footnotes kept apart,
printed page labels (/PageLabels: "iv", "A-3", offsets) and the outline (bookmarks) as section headings.

``page_text`` keeps pypdf's own extraction unless the page has two columns or footnotes in a smaller type
below the body: only then is the page rebuilt from the positions of its text pieces, so that ordinary
pages come out exactly as before.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.normalize import clean_line
from ingest.types import Section

log = logging.getLogger("sesam.ingest")

CHAR_WIDTH = 0.5  # estimated width of a character, in ems (Helvetica/Times average about 0.45-0.55)
FOOTNOTE_RATIO = 0.85  # a footnote's type is at most this much of the body's
MAX_OUTLINE = 10_000  # outline entries read at most (a hostile outline costs bounded time)
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


@dataclass(frozen=True)
class _Line:
    """One line of pypdf's own extraction, where its first piece of text was drawn."""

    x: float
    y: float
    size: float
    text: str

    @property
    def end(self) -> float:
        return self.x + CHAR_WIDTH * self.size * len(self.text)


def _lines(page, on_text=None) -> tuple[str, list[_Line]]:
    """pypdf's text of the page and its lines with positions (the visitor's pieces, joined, are that text)."""
    lines: list[_Line] = []
    parts: list[str] = []
    first: list[tuple[float, float]] = []
    sizes: list[float] = []

    def close() -> None:
        text = "".join(parts).strip()
        if text and first:
            lines.append(_Line(first[0][0], first[0][1], max(sizes), text))
        parts.clear()
        first.clear()
        sizes.clear()

    def visit(text, cm, tm, font_dict, font_size):
        if on_text is not None:
            on_text(text, cm, tm, font_dict, font_size)  # the loader's limits (characters, time budget)
        if not text:
            return
        pieces = text.split("\n")
        for k, piece in enumerate(pieces):
            if k:
                close()
            if piece.strip():
                if not first:
                    x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
                    y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                    first.append((x, y))
                scale = abs(tm[3] * cm[3]) or abs(tm[0] * cm[0]) or 1.0
                sizes.append(float(font_size or 0) * scale)
            parts.append(piece)

    plain = page.extract_text(visitor_text=visit) or ""
    close()
    return plain, lines


def _rows(lines: Sequence[_Line]) -> list[list[_Line]]:
    """Lines grouped into rows (same baseline, within 45 % of the type size, so that a raised footnote mark
    joins its line), top to bottom."""
    rows: list[list[_Line]] = []
    for line in sorted(lines, key=lambda ln: (-ln.y, ln.x)):
        if rows and abs(rows[-1][0].y - line.y) <= max(2.0, 0.45 * max(rows[-1][0].size, line.size)):
            rows[-1].append(line)
        else:
            rows.append([line])
    return [sorted(r, key=lambda ln: ln.x) for r in rows]


def _join(row: Sequence[_Line], body: float) -> str:
    out = ""
    for line in row:
        if out and line.size < FOOTNOTE_RATIO * body and line.text.isdigit():  # a raised footnote mark
            out += line.text.translate(_SUPERSCRIPT)
        else:
            out += (" " if out else "") + line.text
    return out


def _gutter(rows: Sequence[Sequence[_Line]], left: float, right: float) -> float | None:
    """The x of a gap between two columns of prose, or None for a one-column page.

    A gap qualifies when at least two rows have text on both sides of it, rows crossing it are at most
    half as many, and the text on each side is prose (20 characters a row on average): a table's short
    cells do not make columns."""
    width = right - left
    if width <= 0 or len(rows) < 3:
        return None
    best: tuple[tuple[int, int], float] | None = None
    for step in range(30, 71):  # candidate positions between 30 % and 70 % of the text width
        g = left + width * step / 100
        crossing = sum(any(ln.x < g < ln.end for ln in row) for row in rows)
        split = [row for row in rows if any(ln.end <= g for ln in row) and any(ln.x >= g for ln in row)]
        if len(split) < 2 or crossing > len(split) // 2:
            continue
        lengths_left = [sum(len(ln.text) for ln in row if ln.end <= g) for row in split]
        lengths_right = [sum(len(ln.text) for ln in row if ln.x >= g) for row in split]
        if min(statistics.mean(lengths_left), statistics.mean(lengths_right)) < 20:
            continue
        if best is None or (crossing, -len(split)) < best[0]:
            best = ((crossing, -len(split)), g)
    return best[1] if best is not None else None


def page_text(page, on_text=None) -> str:
    """Text of one pypdf page in reading order, with footnotes as their own paragraphs at the end.

    pypdf's text is kept as it is unless the page has two columns (a gap between them that most rows of
    body text respect) or lines in a smaller type below all body text (footnotes, a footer)."""
    plain, lines = _lines(page, on_text)  # errors (and the loader's limits) go to the caller
    if len(lines) < 4:
        return plain
    body = statistics.median([ln.size for ln in lines for _ in ln.text])
    if body <= 0:
        return plain
    rows = _rows(lines)
    is_body = [max(ln.size for ln in r) >= FOOTNOTE_RATIO * body for r in rows]
    long_body = [r for r, b in zip(rows, is_body, strict=True) if b and len(_join(r, body)) >= 20]
    if not long_body:
        return plain
    top, bottom = max(r[0].y for r in long_body), min(r[0].y for r in long_body)
    below = [r for r in rows if r[0].y < bottom]  # footnotes, footers, page numbers
    main = [r for r in rows if r[0].y >= bottom]
    small_below = any(max(ln.size for ln in r) < FOOTNOTE_RATIO * body for r in below)
    gutter = _gutter([r for r, b in zip(rows, is_body, strict=True) if b and bottom <= r[0].y <= top],
                     min(ln.x for ln in lines), max(ln.end for ln in lines))
    if gutter is None and not small_below:
        return plain
    notes = below
    out: list[str] = []
    block: list[tuple[list[_Line], list[_Line]]] = []  # rows of the current two-column block: (left, right)

    def close_block(before_full_width: bool) -> None:
        after: list[str] = []
        if before_full_width:  # a heading left of the gutter, just above text across the page, belongs to it
            while block and not block[-1][1] and max(ln.size for ln in block[-1][0]) > 1.1 * body:
                after.insert(0, _join(block.pop()[0], body))
        out.extend(_join(lpart, body) for lpart, _ in block if lpart)
        out.extend(_join(rpart, body) for _, rpart in block if rpart)
        out.extend(after)
        block.clear()

    for row in main:
        full = (gutter is None or not bottom <= row[0].y <= top
                or any(ln.x < gutter < ln.end for ln in row))
        if full:  # a heading across both columns, a running header: it ends the two-column block above
            close_block(before_full_width=True)
            out.append(_join(row, body))
            continue
        block.append(([ln for ln in row if ln.x < gutter], [ln for ln in row if ln.x >= gutter]))
    close_block(before_full_width=False)
    for row in notes:  # each footnote (and a footer) its own paragraph: never joined to the body's sentences
        out.extend(["", _join(row, body)])
    return "\n".join(out)


def page_labels(reader) -> list[str]:
    """The printed label of every page when the PDF defines /PageLabels, else empty strings."""
    n = len(reader.pages)
    try:
        if "/PageLabels" not in reader.trailer["/Root"]:
            return [""] * n
        labels = list(reader.page_labels)
    except Exception as exc:  # noqa: BLE001 - labels are optional
        log.debug("page labels unreadable: %s", exc)
        return [""] * n
    return [str(x) for x in labels[:n]] + [""] * (n - len(labels))


def outline_sections(reader) -> list[Section]:
    """The outline's entries as (title, 1-based page, level), in document order; [] without an outline."""
    out: list[Section] = []

    def walk(items, level: int) -> None:
        for item in items:
            if len(out) >= MAX_OUTLINE or level > 16:
                return
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                number = reader.get_destination_page_number(item)
                title = clean_line(str(item.title or ""))  # as the page text: no control or bidi characters
            except Exception:  # noqa: BLE001 - a broken entry is skipped
                continue
            if number is not None and number >= 0 and title:
                out.append(Section(title=title, page=number + 1, level=level))

    try:
        walk(reader.outline, 1)
    except Exception as exc:  # noqa: BLE001 - the outline is optional
        log.debug("outline unreadable: %s", exc)
    return out


@dataclass(frozen=True)
class LoadExtras:
    """What a loader knows besides page texts: printed page labels, sections, pages read by OCR (0-based)."""

    labels: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    ocr_pages: frozenset[int] = frozenset()
    ocr_incomplete: bool = False  # OCR failed or timed out on a page: its outcome may differ in another run

    def label(self, number: int) -> str:
        """The printed label of 1-based page ``number`` ("" when the document defines none)."""
        return self.labels[number - 1] if 0 < number <= len(self.labels) else ""


def ocr_scanned_pages(path, texts: list[str], scanned: Sequence[int], settings, extras: LoadExtras,
                      on_page=None) -> LoadExtras:
    """Replace the text of scanned pages (0-based ``scanned``) by OCR text, in place; returns ``extras`` with
    the pages read by OCR. Without OCR installed a document with no text at all is refused with what to
    install; one with some text keeps it, with a warning. ``on_page(done, total)`` follows the OCR."""
    from ingest.errors import DocumentError
    from ingest.ocr import ocr_missing, ocr_pdf_pages

    if not settings.ocr:
        missing = "OCR is turned off (setting ocr = false)"
    else:
        missing = ocr_missing(settings.ocr_languages)
    if missing:
        if not any(t.strip() for t in texts):
            raise DocumentError(str(path), f"no extractable text: scanned PDF, OCR needed; {missing}")
        log.warning("%s: %d scanned page(s) left without text: %s", path, len(scanned), missing)
        return extras
    done: set[int] = set()
    results = ocr_pdf_pages(path, scanned, languages=settings.ocr_languages, dpi=settings.ocr_dpi,
                            timeout_s=settings.ocr_timeout_s, workers=settings.ocr_workers, on_page=on_page)
    for i, text in results.items():
        if len(text.strip()) > len(texts[i].strip()):
            texts[i] = text[: settings.max_page_chars]
            done.add(i)
    return LoadExtras(labels=extras.labels, sections=extras.sections, ocr_pages=frozenset(done),
                      ocr_incomplete=len(results) < len(scanned))
