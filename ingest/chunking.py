"""Structure-aware chunking: paragraphs and sentences packed into token-bounded passages with overlap.

Chunks never leave their page, so every passage has exactly one page to cite (these corpora are
slide decks and reports whose pages are natural citation units). Offsets point into ``Page.text``:
``page.text[chunk.char_start:chunk.char_end] == chunk.text``.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from ingest.language import detect_language
from ingest.normalize import is_bullet, looks_like_heading
from ingest.types import Chunk, LoadedDocument

ABBREVIATIONS = frozenset(
    """t.ex bl.a d.v.s dvs m.m m.fl o.s.v osv s.k ca kap nr st resp jfr fr.o.m t.o.m f.d p.g.a pga
    e.g i.e etc vs cf al approx dr mr mrs ms prof no fig art para jan feb mar apr jun jul aug sep sept
    okt oct nov dec s p pp""".split()
)
_BOUNDARY = re.compile(r"[.!?…]+[”\"')\]]*\s+(?=[\"“”'(\[]?[A-ZÅÄÖÉÜ0-9•–—−-])")
_WORDS = re.compile(r"\S+")
_LETTERS = re.compile(r"[A-Za-zÅÄÖåäöÉéÜü]{2,}")
_URL_ONLY = re.compile(r"^(?:\s*(?:https?://|www\.)\S+\s*)+$")


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    heading: bool


def split_sentences(text: str, offset: int = 0) -> Iterator[tuple[int, int]]:
    """Yield (start, end) spans of sentences in ``text``, knowing common sv/en abbreviations."""
    start = 0
    for m in _BOUNDARY.finditer(text):
        before = text[start:m.start() + 1].split()
        last = before[-1].rstrip(".!?…”\"')]").lower() if before else ""
        if last in ABBREVIATIONS or (len(last) == 1 and last.isalpha()) or re.fullmatch(r"\d{1,2}", last):
            continue
        end = m.end()
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            yield offset + start, offset + end
        start = m.end()
    tail = text[start:].rstrip()
    if tail.strip():
        yield offset + start + (len(tail) - len(tail.lstrip())), offset + start + len(tail)


class _Counter:
    """Token counts of pieces of text, cached, without the model's per-call special tokens."""

    def __init__(self, count_tokens: Callable[[str], int]) -> None:
        self._count = lru_cache(maxsize=65536)(count_tokens)
        self.base = count_tokens("")

    def __call__(self, text: str) -> int:
        return max(1, self._count(text) - self.base)


def _split_long(text: str, start: int, end: int, max_tokens: int, count: _Counter) -> Iterator[tuple[int, int]]:
    """Split a span longer than ``max_tokens`` at word boundaries."""
    piece_start = None
    last_end = start
    for m in _WORDS.finditer(text, start, end):
        if piece_start is None:
            piece_start = m.start()
        elif count(text[piece_start:m.end()]) > max_tokens:
            yield piece_start, last_end
            piece_start = m.start()
        last_end = m.end()
    if piece_start is not None:
        yield piece_start, last_end


def _units(text: str, max_tokens: int, count: _Counter, titles: frozenset[str] = frozenset()) -> list[_Unit]:
    units: list[_Unit] = []
    pos = 0
    for para in text.split("\n"):
        p_start, pos = pos, pos + len(para) + 1
        if not para.strip():
            continue
        heading = para in titles or looks_like_heading(para)
        spans = [(p_start, p_start + len(para))] if heading or is_bullet(para) else list(split_sentences(para, p_start))
        for s, e in spans:
            n = count(text[s:e]) + 1  # +1: the separator before it costs a token when joined
            if n <= max_tokens:
                units.append(_Unit(s, e, n, heading))
            else:
                units.extend(_Unit(a, b, count(text[a:b]), False) for a, b in _split_long(text, s, e, max_tokens, count))
    return units


def chunk_language(text: str, document_language: str) -> str:
    """A chunk's language: the one detected in its own text, else its document's (which only labels the chunk and
    picks its stemmer: neither the chunk's bounds nor its embedded text depend on it)."""
    lang = detect_language(text)
    return lang if lang != "und" else document_language


def _is_noise(text: str) -> bool:
    return len(_LETTERS.findall(text)) < 2 or bool(_URL_ONLY.match(text))


def _sections(doc: LoadedDocument) -> Callable[[int, int], str] | None:
    """For a document with sections (PDF outline, Word/HTML headings): a function from (page, offset) to
    the title of the section in force there; None without sections (detected headings are used then)."""
    if not doc.sections:
        return None
    texts = {p.number: p.text for p in doc.pages}
    starts: list[tuple[int, int, str]] = []
    for s in doc.sections:
        page_text = texts.get(s.page, "")
        at = page_text.lower().find(s.title.lower())
        starts.append((s.page, max(at, 0), s.title))
    starts.sort(key=lambda x: (x[0], x[1]))

    keys = [(p, at) for p, at, _ in starts]

    def section_at(page: int, offset: int) -> str:
        i = bisect.bisect_right(keys, (page, offset)) - 1
        return starts[i][2] if i >= 0 else ""

    return section_at


def chunk_document(doc: LoadedDocument, count_tokens: Callable[[str], int], *, max_tokens: int,
                   overlap_tokens: int) -> list[Chunk]:
    """Cut a document into chunks of at most ``max_tokens`` (the embedder's tokens), page by page."""
    count = _Counter(count_tokens)
    budget = max(8, max_tokens - count.base)
    chunks: list[Chunk] = []
    section_at = _sections(doc)
    titles = frozenset(s.title for s in doc.sections)
    # Detected headings stay on their page: carrying them over page breaks gave 9 of the 28 chunks of the
    # shipped slide decks the previous slide's title (e.g. a city's name), and changed retrieval. A document
    # with sections (PDF outline, Word/HTML headings) gets the section in force instead, across pages.
    for page in doc.pages:
        text = page.text
        heading = ""
        current: list[_Unit] = []
        current_heading = ""
        lead, carried = _continued(chunks[-1] if chunks else None, page.number, text)
        page_first = len(chunks)  # the page's first chunk carries what it continues

        def flush(keep_overlap: bool) -> list[_Unit]:
            if not current:
                return []
            start, end = current[0].start, current[-1].end
            body = text[start:end]
            if not _is_noise(body):
                opens_page = len(chunks) == page_first
                chunks.append(Chunk(
                    doc_id=doc.meta.doc_id, seq=len(chunks), page_start=page.number, page_end=page.number,
                    char_start=start, char_end=end, text=body,
                    language=chunk_language(body, doc.meta.language),
                    n_tokens=sum(u.tokens for u in current) + count.base,
                    heading=section_at(page.number, start) if section_at else current_heading or
                    (carried if opens_page else ""),
                    lead=lead if opens_page else "",
                ))
            if not keep_overlap:
                return []
            tail: list[_Unit] = []
            used = 0
            for unit in reversed(current[1:]):
                if used + unit.tokens > overlap_tokens:
                    break
                tail.insert(0, unit)
                used += unit.tokens
            return tail

        units = _units(text, budget, count, titles)
        new_section = any(u.start > 0 and text[u.start:u.end] in titles for u in units)
        if sum(u.tokens for u in units) <= budget and not new_section:
            # a page that fits is one passage (a slide, a short page), unless a section of the outline starts in it
            current = units
            current_heading = next((text[u.start:u.end] for u in units if u.heading), "")
            units = []
        for unit in units:
            if unit.heading:
                if current and not all(u.heading for u in current):
                    current = flush(keep_overlap=False)
                heading = text[unit.start:unit.end]
                if not current:
                    current_heading = heading
            elif current and sum(u.tokens for u in current) + unit.tokens > budget:
                current = flush(keep_overlap=True)
                while current and sum(u.tokens for u in current) + unit.tokens > budget:
                    current.pop(0)  # the overlap must leave room for the new sentence
                current_heading = heading
            current.append(unit)
        flush(keep_overlap=False)
    return chunks


PASSAGE_SCHEME = 2  # 2: a page that starts mid-sentence is embedded with the sentence it completes


def chunking_signature(max_tokens: int, overlap_tokens: int) -> dict:
    """What the manifest records of how passages were cut and embedded: a document indexed otherwise is
    chunked and embedded again, even when its file is unchanged."""
    return {"max_tokens": max_tokens, "overlap_tokens": overlap_tokens, "scheme": PASSAGE_SCHEME}


LEAD_CHARS = 200  # the most of an unfinished sentence carried over to the page that completes it
_SENTENCE_END = re.compile(r"[.!?:;…\"”»)\]]\s*$")


def _continued(previous: Chunk | None, page_number: int, text: str) -> tuple[str, str]:
    """For a page that starts mid-sentence (a lower-case word after a previous page that ends without closing
    punctuation, as when a slide's text overflows onto the next page): the unfinished sentence it completes,
    and the previous page's title (its heading, or a first line that reads as one). ("", "") otherwise."""
    start = text.lstrip()[:1]
    if previous is None or previous.page_end != page_number - 1 or not start.islower() \
            or _SENTENCE_END.search(previous.text):
        return "", ""
    tail = re.split(r"(?<=[.!?])\s+", previous.text.strip())[-1]
    lead = " ".join(tail.split()) if len(tail) <= LEAD_CHARS else ""
    first = previous.text.strip().split("\n", 1)[0].strip()
    title = previous.heading or (first if first != tail and len(first) <= 120
                                 and (looks_like_heading(first) or first.endswith(("?", ":"))) else "")
    return lead, title
