"""Page text clean-up: de-hyphenation, paragraph joining, whitespace, repeated headers and footers.

The output of :func:`normalize_pages` is the text stored for each page; chunk offsets point into it.
Paragraphs (and bullet items, and headings) are separated by one newline.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Sequence

BULLET = re.compile(r"^\s*(?:[•●▪■◦‣∙·*\-–—−]|\d{1,2}[.)]|[a-zA-Z][.)])\s+")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_HYPHEN_END = re.compile(r"([a-zåäöéü])[-\u00ad]$")
# C0 controls, and the bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069): an unclosed override in
# a document's text reversed whatever followed it on screen, the closing quotation mark and its [n] marker included
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_SENTENCE_END = re.compile(r"[.!?:;”\"')\]]$")


def clean_line(line: str) -> str:
    """NFC, no control characters (bidi overrides included), single spaces, stripped."""
    line = unicodedata.normalize("NFC", line)
    line = _CONTROL.sub(" ", line).replace("\ufb01", "fi").replace("\ufb02", "fl")
    return _SPACES.sub(" ", line).strip()


def is_bullet(line: str) -> bool:
    return bool(BULLET.match(line))


def looks_like_heading(line: str) -> bool:
    """A short line without closing punctuation, or written in capitals."""
    words = line.split()
    if not words or is_bullet(line) or len(words) > 10:
        return False
    letters = [c for c in line if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8 and len(letters) > 3:
        return True
    return len(words) <= 6 and not re.search(r"[.,;!]$", line) and line[0].isupper()


def _continues(prev: str, line: str) -> bool:
    """Whether ``line`` continues the paragraph that ends with ``prev``."""
    if is_bullet(line):
        return False
    first = line[0]
    if first.islower() or first in ",;)”":
        return True
    if _SENTENCE_END.search(prev):
        return False
    if looks_like_heading(prev) and not is_bullet(prev):
        return False
    return not looks_like_heading(line)


def join_lines(lines: Sequence[str], headings: Collection[str] = ()) -> str:
    """Join the lines of one page into paragraphs, one per output line; a line that is one of the known
    ``headings`` (the document's outline) is a paragraph of its own."""
    paragraphs: list[str] = []
    blank_before = True
    for raw in lines:
        line = clean_line(raw)
        if not line:
            blank_before = True
            continue
        if line in headings:
            paragraphs.append(line)
            blank_before = True
            continue
        if paragraphs and not blank_before and _continues(paragraphs[-1], line):
            prev = paragraphs[-1]
            m = _HYPHEN_END.search(prev)
            if m and line[0].islower():
                paragraphs[-1] = prev[:-1] + line  # "sam-" + "hälle"
            elif prev.endswith("-") and prev[-2:-1].isupper() and line[0].islower():
                paragraphs[-1] = prev + line  # "EU-" + "rådet": a real compound keeps its hyphen
            else:
                paragraphs[-1] = f"{prev} {line}"
        else:
            paragraphs.append(line)
        blank_before = False
    return "\n".join(paragraphs)


def repeated_lines(pages: Sequence[Sequence[str]], min_share: float = 0.6, min_pages: int = 4) -> set[str]:
    """Lines found at the top or bottom of most pages: running headers, footers, page furniture."""
    if len(pages) < min_pages:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        cleaned = [clean_line(x) for x in lines if clean_line(x)]
        edge = set(cleaned[:2] + cleaned[-2:])
        counts.update(_page_key(x) for x in edge)
    limit = max(2, int(min_share * len(pages) + 0.999))
    return {line for line, n in counts.items() if n >= limit and line}


_ROMAN = r"(?=[ivxl])l?x{0,3}(?:ix|iv|v?i{0,3})"  # i .. lxxxix, as front matter is numbered
_ROMAN_EDGE = re.compile(rf"(?i)(?:^{_ROMAN}(?=\s|$)|(?<=\s){_ROMAN}$)")
_BARE_PAGE_NUMBER = re.compile(rf"\s*(?:\d{{1,4}}|{_ROMAN})\s*")


def _page_key(line: str) -> str:
    """Page numbers vary from page to page; compare lines with digits (and a roman numeral at either end,
    as in "sida iv") masked."""
    return _ROMAN_EDGE.sub("#", re.sub(r"\d+", "#", line))


def normalize_pages(raw_pages: Sequence[str], headings: Collection[str] = (), *, printed: bool = True) -> list[str]:
    """Normalise every page of one document; headers/footers repeated on most pages are dropped when the pages are
    ``printed`` ones (a Word or HTML "page" is a section, which has none: alike lines there are text); lines
    that are known ``headings`` stay paragraphs of their own."""
    split = [raw.replace("\r\n", "\n").replace("\r", "\n").split("\n") for raw in raw_pages]
    furniture = repeated_lines(split) if printed else set()
    out: list[str] = []
    for lines in split:
        kept = [x for x in lines if _page_key(clean_line(x)) not in furniture]
        if not any(clean_line(x) for x in kept):  # never empty a page that had text
            kept = lines
        if printed:
            kept = [x for x in kept if not _BARE_PAGE_NUMBER.fullmatch(x)]  # bare page numbers (3, iv)
        out.append(join_lines(kept, headings))
    return out
