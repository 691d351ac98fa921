"""The public HTTP contract: request and response models of the /v1 API."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from assistant.evidence import REASONS
from assistant.intents import REPLIES
from assistant.types import Filters
from ingest.language import Language
from ingest.settings import DEFAULT_K, MAX_K, NOT_BLANK

# The length limit is configurable (`max_question_chars`): the router checks it and the OpenAPI schema of the app
# states the configured value as maxLength (assistant.api.contract).
def _json_integer(value):
    """A JSON number: true is not 1 and "5" is not 5 (pydantic would take both); 14.0 is 14, as JSON Schema's
    integer says."""
    if isinstance(value, bool):
        raise ValueError("must be a whole number, not true or false")
    if isinstance(value, str):
        raise ValueError("must be a whole number written without quotes")
    return value


Count = Annotated[int, Field(ge=1, le=MAX_K), BeforeValidator(_json_integer)]


def _k():
    return Field(default=None,
                 description=f"How many passages to retrieve, 1 to {MAX_K} (default: the service's `top_k`, {DEFAULT_K}).")


class FiltersIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    doc_ids: list[str] = Field(default_factory=list, max_length=50)
    languages: list[Literal[Language, "und"]] = Field(default_factory=list, max_length=3)
    publishers: list[str] = Field(default_factory=list, max_length=50)

    def to_filters(self) -> Filters | None:
        f = Filters(tuple(self.doc_ids), tuple(self.languages), tuple(self.publishers))
        return f or None


class AskIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, pattern=NOT_BLANK,
                          description="The question, in Swedish or English; not only whitespace.")
    k: Count | None = _k()
    lang: Language | None = None
    filters: FiltersIn | None = None
    session_id: str | None = Field(default=None, min_length=1, max_length=128, pattern=r"^[\w\-.:]+$",
                                   description="\"new\" to start a conversation, then the `session_id` of the "
                                               "previous answer to ask a follow-up in it; an id this service did not "
                                               "give, or one that expired, starts a new one; without it nothing "
                                               "of the question is kept")


SCORE = Field(description="the ranking score: the passage's cosine with the question plus what its best lines, shared "
                          "words and latent terms add; higher ranks first; not a probability (it can exceed 1)")


KIND = "the document's kind: pdf, txt, md, docx or html; docx and html have sections, not pages (see `section`)"


class CitationOut(BaseModel):
    n: int
    doc_id: str
    title: str
    file: str
    page: int = Field(description="1-based page index in the file (a Word/HTML document: its section's number)")
    text: str
    score: float = SCORE
    quote: str = ""
    section: str = Field(default="", description="the section heading the passage is in")
    page_label: str | None = Field(default=None, description="the printed page label when the PDF defines one")
    ocr: bool = Field(default=False, description="the page was read by OCR")
    kind: str = Field(default="pdf", description=KIND)


def _reasons() -> str:
    """The description of ``reason``, from the lists the code decides with (evidence.REASONS, intents.REPLIES)."""
    meanings: dict[str, list[str]] = {}
    for reason, meaning in REASONS.items():
        meanings.setdefault(meaning, []).append(reason)
    abstained = ", ".join(f"{', '.join(reasons)} ({meaning})" for meaning, reasons in meanings.items())
    return (f"why the answer abstained, in a word: {abstained}; or the kind of message replied to: "
            f"{', '.join(REPLIES)}; empty when answered")


REASON = _reasons()
REPLY = "a one-line reply to a greeting, thanks, a request or gibberish: not an answer, and no question unanswered"


class AnswerOut(BaseModel):
    question: str
    resolved_question: str | None = Field(default=None, description="what was searched when the question was taken "
                                                                    "as a follow-up of the session; null otherwise")
    answer: str
    abstained: bool
    reason: str = Field(default="", description=REASON)
    reply: bool = Field(default=False, description=REPLY)
    citations: list[CitationOut]
    lang: str
    mode: str
    cached: bool = Field(default=False, description="served from the answer cache: the same question, continuing "
                                                    "no conversation, was answered before on this index version")
    timings_ms: dict[str, float] = Field(description="milliseconds this request spent, per step and in total "
                                                     "(a cached answer: only total)")
    session_id: str | None = Field(default=None, description="the conversation this answer belongs to (the service "
                                                              "chooses it): send it with a follow-up question; null "
                                                              "when the question was asked without one")


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str = Field(min_length=1, pattern=NOT_BLANK,
                       description="What to search for; not only whitespace.")
    k: Count | None = _k()
    lang: Language | None = None
    filters: FiltersIn | None = None


class HitOut(BaseModel):
    chunk_id: int
    doc_id: str
    title: str
    file: str
    page: int
    text: str
    score: float = SCORE
    language: str
    section: str = ""
    page_label: str | None = None
    ocr: bool = False
    kind: str = Field(default="pdf", description=KIND)


class SearchOut(BaseModel):
    query: str
    hits: list[HitOut]


class DocumentMetaOut(BaseModel):
    doc_id: str
    title: str
    file: str
    publisher: str
    language: str
    date: str
    url: str


class DocumentOut(DocumentMetaOut):
    pages: int


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class PageOut(BaseModel):
    number: int
    text: str


class DocumentDetailOut(DocumentMetaOut):
    n_pages: int
    pages: list[PageOut]
    next_page: int | None = None  # ask again with ?page=<next_page> for the rest; null after the last page


class HealthOut(BaseModel):
    status: Literal["ready", "no-index"]
    version: str | None = None
    detail: str | None = None


class StatsOut(BaseModel):
    index: dict | None
    requests: dict[str, int]
    reingest: dict


class FileReasonOut(BaseModel):
    path: str = Field(description="the file's name, without its folder")
    reason: str = Field(description="why, and what to do about it")


class ReingestReportOut(BaseModel):
    """What a finished re-ingest did, as `sesam ingest --json` reports it."""
    version: str | None = Field(description="the index version served after the run: the new one, or the one that "
                                            "stays served when nothing changed")
    new_version: bool = Field(description="whether the run wrote a new version (false: nothing changed, index kept)")
    ingested: list[str] = Field(description="ids of the documents indexed or indexed again")
    unchanged: list[str] = Field(description="ids of the documents whose files did not change")
    removed: list[str] = Field(description="ids of the documents taken out of the index (their files are gone)")
    failed: list[FileReasonOut] = Field(description="files that could not be read; an indexed document whose new "
                                                    "file failed keeps its indexed version")
    skipped: list[FileReasonOut] = Field(description="files in the corpus folder of a type sesam does not read: "
                                                     "reported, not failed")
    warnings: list[str] = Field(description="what the run did but wants fixed, one sentence each: a bad value in "
                                            "sources.toml (ignored), a damaged served version that was not reused; "
                                            "paths are named from the corpus or index folder")
    counts: dict[str, int] = Field(description="documents, pages, chunks and windows in the index now served")


class ReingestOut(BaseModel):
    state: Literal["idle", "running", "succeeded", "failed"]
    started_at: float | None = None
    finished_at: float | None = None
    report: ReingestReportOut | None = Field(default=None, description="the last run's report once it succeeded")
    error: str | None = None


class UploadOut(BaseModel):
    stored: str
    bytes: int
    replaced: bool = Field(description="Whether a corpus file of that name was replaced (only with replace=true).")
    detail: str


class ErrorOut(BaseModel):
    """Every JSON error body: a sentence for people and a stable code for programs."""
    detail: str = Field(description="What went wrong and what to do, in a full sentence.")
    code: str = Field(description="A stable, machine-readable name of the error, for programs to act on; docs/http.md "
                                  "(Errors) lists them.")
