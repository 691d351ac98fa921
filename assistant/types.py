"""Frozen records that move from retrieval to clients: Filters → Hit → Citation → Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from assistant.i18n import t
from assistant.intents import is_reply


@dataclass(frozen=True)
class Filters:
    """Optional restrictions on what retrieval may return (empty tuple: no restriction)."""

    doc_ids: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    publishers: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.doc_ids or self.languages or self.publishers)


@dataclass(frozen=True)
class Hit:
    """One retrieved passage (a chunk) with its fused score and the scores it came from."""

    chunk_id: int
    doc_id: str
    title: str
    file: str
    publisher: str
    page: int  # page_start of the chunk
    page_end: int
    char_start: int
    char_end: int
    text: str
    language: str
    score: float  # fused score, higher is better
    dense_score: float | None = None  # cosine similarity
    lexical_score: float | None = None  # bm25, higher is better
    windows: tuple[tuple[int, int, float], ...] = ()  # (start, end, cosine) of windows in ``text``, best first
    heading: str = ""  # the section the passage is in (PDF outline, detected heading, Word/HTML heading)
    page_label: str = ""  # the printed page label when the PDF defines one ("iv"); "" otherwise
    ocr: bool = False  # the page was read by OCR
    kind: str = "pdf"  # the document's kind: "docx" and "html" have sections, not pages
    latent_score: float | None = None  # latent-term cosine (ingest/latent.py), when the index has latent terms

    @classmethod
    def from_record(cls, record, score: float, dense_score: float | None = None,
                    lexical_score: float | None = None, windows: tuple = (),
                    latent_score: float | None = None) -> Hit:
        """A hit from an ``ingest.store.ChunkRecord``, with where it is (section, page label, OCR, kind)."""
        r = record
        return cls(chunk_id=r.chunk_id, doc_id=r.doc_id, title=r.title, file=r.file, publisher=r.publisher,
                   page=r.page_start, page_end=r.page_end, char_start=r.char_start, char_end=r.char_end,
                   text=r.text, language=r.language, score=float(score), dense_score=dense_score,
                   lexical_score=lexical_score, windows=windows, heading=getattr(r, "heading", ""),
                   page_label=getattr(r, "page_label", ""), ocr=bool(getattr(r, "ocr", False)),
                   kind=getattr(r, "kind", "pdf") or "pdf", latent_score=latent_score)

    def place(self, lang: str = "sv") -> str:
        return place(self.page, self.page_label, self.heading, self.ocr, self.kind, lang)




SECTIONED = ("docx", "html")  # document kinds without pages: a passage is placed by its section


def place(page: int, page_label: str, heading: str, ocr: bool, kind: str, lang: str = "sv") -> str:
    """Where a passage is, for a reader: "s. iv" (the printed label, else the page number), "s. 3, OCR" for a
    page read by OCR, and for a Word or HTML document, which has no pages, its section: "avsnitt ”Kontakt”"."""
    if kind in SECTIONED:
        return f"{t(lang, 'section')} ”{heading}”" if heading else t(lang, "beginning")
    where = f"{t(lang, 'page')} {page_label or page}"
    return f"{where}, OCR" if ocr else where


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: ``[n]`` in the answer text refers to it."""

    n: int
    doc_id: str
    title: str
    file: str
    page: int
    text: str  # the whole passage
    score: float
    quote: str = ""  # the sentence(s) quoted from ``text``; always a substring of ``text``
    chunk_id: int = -1
    char_start: int = 0  # offsets of the passage in its page text
    char_end: int = 0
    heading: str = ""  # the passage's section (for a Word or HTML document what citations name)
    page_label: str = ""  # the printed page label when the PDF defines one; ``page`` opens the file
    ocr: bool = False  # the page was read by OCR
    kind: str = "pdf"

    @classmethod
    def from_hit(cls, n: int, hit: Hit, quote: str = "") -> Citation:
        return cls(n=n, doc_id=hit.doc_id, title=hit.title, file=hit.file, page=hit.page, text=hit.text,
                   score=hit.score, quote=quote, chunk_id=hit.chunk_id, char_start=hit.char_start,
                   char_end=hit.char_end, heading=hit.heading, page_label=hit.page_label, ocr=hit.ocr,
                   kind=hit.kind)

    def place(self, lang: str = "sv") -> str:
        return place(self.page, self.page_label, self.heading, self.ocr, self.kind, lang)

    def to_public(self) -> dict:
        """The public JSON shape: {n, doc_id, title, file, page, text, score} plus quote, and where the
        passage is: section, page_label (None when the PDF defines none) and ocr."""
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "file": self.file,
            "page": self.page,
            "text": self.text,
            "score": round(self.score, 4),
            "quote": self.quote,
            "section": self.heading,
            "page_label": self.page_label or None,
            "ocr": self.ocr,
            "kind": self.kind,
        }

    @classmethod
    def from_public(cls, data: dict) -> Citation:
        """The inverse of ``to_public`` (for clients of the HTTP API)."""
        return cls(n=data["n"], doc_id=data["doc_id"], title=data["title"], file=data["file"], page=data["page"],
                   text=data["text"], score=data["score"], quote=data.get("quote", ""),
                   heading=data.get("section", "") or "", page_label=data.get("page_label") or "",
                   ocr=bool(data.get("ocr", False)), kind=data.get("kind") or "pdf")


@dataclass(frozen=True)
class Answer:
    """A composed answer. When ``abstained``, ``citations`` lists the closest passages as possibly related."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...]
    lang: str  # language of the question, which the framing words follow
    mode: str = "extractive"  # "extractive" or "generative"
    resolved_question: str = ""  # the question after follow-up resolution, if it changed
    reason: str = ""  # why it abstained (evidence.Verdict.reason), or the intent replied to (intents.REPLIES)
    cached: bool = field(default=False, compare=False)  # served from the answer cache (engine.Assistant.ask)
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False, hash=False)  # this call's, in ms
    # what abstention was judged on (evidence.Verdict): the best passage's cosine and the floor it was compared with;
    # None when nothing was searched (a greeting, an errand). Not part of the public JSON.
    judged_score: float | None = field(default=None, compare=False)
    judged_floor: float | None = field(default=None, compare=False)

    @property
    def reply(self) -> bool:
        """A one-line reply to a greeting, thanks, a request or gibberish: no question the documents failed."""
        return is_reply(self.reason)

    def to_public(self) -> dict:
        """The JSON of `sesam ask --json` and `POST /v1/ask`."""
        return {
            "question": self.question,
            "resolved_question": self.resolved_question or None,
            "answer": self.text,
            "abstained": self.abstained,
            "reason": self.reason,
            "reply": self.reply,
            "citations": [c.to_public() for c in self.citations],
            "lang": self.lang,
            "mode": self.mode,
            "cached": self.cached,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


@dataclass(frozen=True)
class StreamEvent:
    """One event of a streamed answer: ``citations`` first, then ``delta`` pieces, then ``done``."""

    kind: str  # "citations" | "delta" | "done" | "error"
    data: dict

    def as_dict(self) -> dict:
        return asdict(self)
