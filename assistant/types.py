"""Frozen records that move from retrieval to clients: Filters → Hit → Citation → Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


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

    def to_public(self) -> dict:
        """The public JSON shape: {n, doc_id, title, file, page, text, score} plus quote."""
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "file": self.file,
            "page": self.page,
            "text": self.text,
            "score": round(self.score, 4),
            "quote": self.quote,
        }

    @classmethod
    def from_public(cls, data: dict) -> Citation:
        """The inverse of ``to_public`` (for clients of the HTTP API)."""
        return cls(n=data["n"], doc_id=data["doc_id"], title=data["title"], file=data["file"], page=data["page"],
                   text=data["text"], score=data["score"], quote=data.get("quote", ""))


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
    reason: str = ""  # why it abstained (answers.Verdict.reason); for operators and evaluation
    timings_ms: dict[str, float] = field(default_factory=dict, compare=False, hash=False)

    def to_public(self) -> dict:
        """The JSON of `sesam ask --json` and `POST /v1/ask`."""
        return {
            "question": self.question,
            "answer": self.text,
            "abstained": self.abstained,
            "citations": [c.to_public() for c in self.citations],
            "lang": self.lang,
            "mode": self.mode,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


@dataclass(frozen=True)
class StreamEvent:
    """One event of a streamed answer: ``citations`` first, then ``delta`` pieces, then ``done``."""

    kind: str  # "citations" | "delta" | "done" | "error"
    data: dict

    def as_dict(self) -> dict:
        return asdict(self)
