"""``Assistant``: the one facade the CLI, the HTTP service and the terminal UI use to ask questions."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from assistant.answers import abstention, compose, reply
from assistant.conversation import continued_passages, in_context, resolve
from assistant.evidence import Verdict, judge, score_floors
from assistant.generation import client_went_away, generate
from assistant.glossary import Glossary, glossary_files
from assistant.intents import QUESTION, classify
from assistant.query_cache import QueryEmbeddingCache
from assistant.retrieval import Retrieval, Retriever
from assistant.sessions import MemorySessions, Sessions, Turn
from assistant.types import Answer, Filters, Hit, StreamEvent
from ingest.embedding import embedder_for
from ingest.errors import ConfigError, GenerationError, QueryError
from ingest.language import DEFAULT_LANGUAGE, LANGUAGES, detect_query_language
from ingest.safetext import one_line, printable
from ingest.settings import MAX_K, Settings, too_long
from ingest.stemming import stem_tokens
from ingest.store import IndexVersion, current_version_dir
from ingest.types import DocumentMeta, Page

log = logging.getLogger("sesam.assistant")
_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")  # CSI, OSC, others
ANSWER_CACHE = 1024


@dataclass(frozen=True)
class _State:
    """Everything that belongs to one index version; swapped as a whole by ``reload``."""

    index: IndexVersion
    retriever: Retriever
    glossary: Glossary
    glossary_stamp: tuple  # the glossary and vocabulary files as read (``_stamp``): an edit is reloaded
    glossary_files: tuple[Path, Path]  # where they were read from (``glossary_files``)


class Assistant:
    """Thread-safe: every call takes the current state once, so a reload never changes a running call."""

    def __init__(self, settings: Settings, index: IndexVersion, sessions: Sessions | None = None) -> None:
        """``sessions``: where conversations are kept; by default this process's memory (the service passes the
        store ``session_db`` names: a one-off `sesam ask`, `eval` or `chat` keeps its own)."""
        self.settings = settings
        self.sessions = sessions if sessions is not None else MemorySessions(settings.session_ttl_s)
        self._lock = threading.Lock()  # the answer cache and the swap of states
        self._reload_lock = threading.Lock()
        self._state = self._make_state(index)
        self._retired: _State | None = None  # the version served before the last reload, closed at the next one
        self._answers: OrderedDict[tuple, Answer] = OrderedDict()

    @classmethod
    def open(cls, settings: Settings, sessions: Sessions | None = None) -> Assistant:
        """Load the served index (IndexMissingError says to run `sesam ingest` first)."""
        return cls(settings, IndexVersion.open(settings.index_dir, embedder_spec=settings.embedder), sessions)

    def _make_state(self, index: IndexVersion, glossary: Glossary | None = None, stamp: tuple = ()) -> _State:
        """The state of ``index``, with ``glossary`` (read as of ``stamp``) or the glossary as its files are now."""
        files = glossary_files(self.settings, index.manifest)
        if glossary is None:
            stamp = _stamp(files)
            glossary = Glossary.load(*files)
        embedder = embedder_for(index.manifest["embedder"]["spec"], self.settings)
        index.check_embedder(embedder)
        retriever = Retriever(index, embedder, glossary, expand=self.settings.glossary_expansion,
                              cache=QueryEmbeddingCache(embedder), latent=self.settings.latent_terms)
        return _State(index, retriever, glossary, stamp, files)

    @property
    def index(self) -> IndexVersion:
        return self._state.index

    @property
    def glossary(self) -> Glossary:
        return self._state.glossary

    # --- index --------------------------------------------------------------------------
    def info(self) -> dict:
        m = self._state.index.manifest
        return {"documents": m["counts"]["documents"], "pages": m["counts"]["pages"], "chunks": m["counts"]["chunks"],
                "languages": m.get("languages", {}), "embedder": m["embedder"]["spec"],
                "embedder_identity": m["embedder"]["identity"], "vector_index": m["vector_index"]["kind"],
                "version": self._state.index.path.name, "created_at": m["created_at"],
                "mode": "generative" if self.settings.llm_url else "extractive"}

    def reload(self) -> bool:
        """Switch to the index's current version if it changed, or re-read the glossary and vocabulary if either file
        changed; calls in flight finish on the old state. The version served before is closed at the next switch
        (its files and connections would otherwise stay open for the life of the process), by when the calls that
        started on it have long finished. A glossary that does not load is kept as it was (ConfigError, raised once
        no new version is to be switched to: a new version is served with the glossary it had)."""
        # one switch at a time; the new version is opened outside ``_lock``, which every call's cache lookup takes
        with self._reload_lock:
            old = self._state
            current = current_version_dir(self.settings.index_dir)
            new_version = current is not None and current != old.index.path
            if not new_version and _stamp(old.glossary_files) == old.glossary_stamp:
                return False
            index = (IndexVersion.open(self.settings.index_dir, embedder_spec=self.settings.embedder) if new_version
                     else old.index)
            try:
                files = glossary_files(self.settings, index.manifest)
                glossary, read_as = old.glossary, old.glossary_stamp
                if (stamp := _stamp(files)) != old.glossary_stamp or files != old.glossary_files:
                    try:
                        glossary, read_as = Glossary.load(*files), stamp
                    except ConfigError:
                        if not new_version:
                            raise
                state = self._make_state(index, glossary, read_as)
            except BaseException:
                if new_version:  # not served: its files are not kept open until the next check opens it again
                    index.close()
                raise
            with self._lock:
                retired, self._retired, self._state = self._retired, old, state
                self._answers = OrderedDict()
            if retired is not None and retired.index is not state.index and retired.index is not old.index:
                retired.index.close()
            if new_version:
                log.info("switched to index version %s", state.index.path.name)
            else:
                log.info("re-read the glossary and vocabulary (%s, %s)", *state.glossary_files)
            return True

    def documents(self) -> list[DocumentMeta]:
        return self._state.index.documents()

    def document(self, doc_id: str) -> tuple[DocumentMeta, list[Page]]:
        index = self._state.index
        meta = index.document(doc_id)
        if meta is None:
            raise QueryError(f"There is no document {doc_id!r} in the index; list them with `sesam status`.")
        return meta, index.pages(doc_id)

    # --- questions ----------------------------------------------------------------------
    def _check(self, question: str, k: int | None) -> tuple[str, int]:
        if any("\ud800" <= ch <= "\udfff" for ch in question or ""):  # bytes a terminal sent in another encoding
            raise QueryError("The question holds bytes that are not UTF-8 text; set your terminal to UTF-8 and "
                             "type it again.")
        # a terminal's escape sequences ("\x1b[31m") and other control characters are no words of the question
        raw = question or ""
        question = one_line(_ESCAPES.sub("", raw), limit=len(raw) + 1)
        if not question and raw.strip():  # only invisible characters: shown as escapes, and not understood
            question = printable(raw.strip())[: self.settings.max_question_chars]
        if not question:
            raise QueryError("The question is empty; write a question.")
        if (message := too_long(question, self.settings.max_question_chars)) is not None:
            # the operator (sesam ask, the log) is also told which setting sets the limit; a client is not
            raise QueryError(f"{message.removesuffix('.')}: shorten it, or raise the setting max_question_chars.",
                             public=message)
        k = self.settings.top_k if k is None else k
        if not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}, not {k}.")
        return question, k

    def search(self, query: str, *, k: int | None = None, lang: str | None = None, filters: Filters | None = None,
               mode: str = "hybrid", prefer: tuple[int, ...] = (), asked: str = "") -> list[Hit]:
        """Ranked passages; ``prefer``: chunk ids a conversation is already about (see ``continued_passages``);
        ``asked``: the user's own words when ``query`` is a follow-up searched in its context."""
        query, k = self._check(query, k)
        return list(self._state.retriever.search(query, k=k, lang=lang, filters=filters, mode=mode,
                                                 prefer=prefer, asked=asked).hits)

    def ask(self, question: str, *, k: int | None = None, lang: str | None = None, filters: Filters | None = None,
            session_id: str | None = None, mode: str = "hybrid", use_cache: bool = True) -> Answer:
        """Answer with citations, or abstain; ``session_id`` keeps the conversation so follow-ups are resolved.
        An answer that continues no earlier turn is cached per index version unless ``use_cache`` is false
        (evaluation)."""
        started = time.perf_counter()
        question, k = self._check(question, k)
        state = self._state
        key = (question, k, lang, filters, mode)
        history = self.sessions.history(session_id) if session_id else []
        cacheable = use_cache and not history  # without earlier turns the answer is the session-less one
        answer = self._cached(state, key) if cacheable else None
        if answer is not None:  # timed as what this call took
            answer = replace(answer, cached=True, timings_ms={"total": (time.perf_counter() - started) * 1000})
        else:
            answer = self._answer(state, question, history, k=k, lang=lang, filters=filters, mode=mode)
            if cacheable and not client_went_away() and not self._stand_in(answer):
                self._remember(state, key, answer)
        if session_id and not answer.reply:  # "Tack!" is no topic for the next follow-up
            quoted = tuple(c.chunk_id for c in answer.citations if c.quote)
            self.sessions.record(session_id, Turn(question, answer.resolved_question or question, quoted,
                                                  state.index.path.name))
        return answer

    def _answer(self, state: _State, question: str, history: list[Turn], *, k: int, lang: str | None,
                filters: Filters | None, mode: str) -> Answer:
        """Reply to what is not a question; otherwise resolve a follow-up, retrieve, judge the evidence, then
        compose (or abstain)."""
        started = time.perf_counter()
        intent = classify(question, lambda words: self._knows(state, words))
        if intent.kind != QUESTION:
            q_lang = lang or intent.lang or _question_language(question, history)
            return Answer(question=question, text=reply(intent.kind, q_lang), abstained=True, citations=(),
                          lang=q_lang, reason=intent.kind, timings_ms={"total": (time.perf_counter() - started) * 1000})
        q_lang = lang or _question_language(question, history)
        floors = score_floors(state.index.manifest["embedder"]["spec"], self.settings.abstain_threshold)
        version = state.index.path.name

        def attempt(text: str) -> tuple[str, Retrieval, Verdict]:
            """Search ``text`` for the user's ``question`` and judge what it finds."""
            found = state.retriever.search(text, k=k, lang=q_lang, filters=filters, mode=mode,
                                           asked=question if history else text,  # the follow-up's own words
                                           prefer=continued_passages(history, question, text, version))
            return text, found, judge(found, state.index, floors)

        resolved, retrieval, verdict = attempt(resolve(question, history))
        t0 = time.perf_counter()
        other = None
        if verdict.reason == "weak" and history and resolved == question:  # nothing on its own: a follow-up
            other = attempt(in_context(question, history))  # that does not look like one ("Vilka kommuner deltar?")
        elif verdict.abstain and resolved != question:  # taken for a follow-up, but maybe a new topic ("IOP?"):
            other = attempt(resolve(question, []))  # as a first question ("Och SESI då?" without its "Och")
        if other is not None and not other[2].abstain:
            resolved, retrieval, verdict = other
        answer_mode = "extractive"
        if verdict.abstain:
            text, citations = abstention(retrieval, verdict, q_lang)
        else:
            text, citations = compose(verdict, q_lang)
            if self.settings.llm_url:
                try:
                    text, answer_mode = generate(self.settings, resolved, citations, q_lang).text, "generative"
                except GenerationError as exc:
                    log.warning("generative mode failed, answering extractively: %s", exc)
        timings = {**retrieval.timings_ms, "compose": (time.perf_counter() - t0) * 1000,
                   "total": (time.perf_counter() - started) * 1000}
        return Answer(question=question, text=text, abstained=verdict.abstain, citations=tuple(citations),
                      lang=q_lang, mode=answer_mode, resolved_question=resolved if resolved != question else "",
                      reason=verdict.reason, timings_ms=timings, judged_score=verdict.judged_score,
                      judged_floor=verdict.judged_floor)

    def _stand_in(self, answer: Answer) -> bool:
        """Whether ``answer`` is the extractive stand-in for a generative one that failed (the endpoint was down,
        slow, busy, or the client went away): it is not cached, so the question is sent to the endpoint again."""
        return bool(self.settings.llm_url) and not answer.abstained and answer.mode != "generative"

    def _knows(self, state: _State, words: list[str]) -> bool:
        """Whether any of ``words`` occurs in the indexed text or in the glossary."""
        stems = [s for w in words for lang in LANGUAGES for s in stem_tokens(w, lang)]
        return bool(state.index.known_terms(stems)) or bool(state.glossary.expand(" ".join(words)).matched)

    def _cached(self, state: _State, key: tuple) -> Answer | None:
        with self._lock:
            cached = self._answers.get(key)
        if cached is None or state is not self._state:
            return None
        return cached

    def _remember(self, state: _State, key: tuple, answer: Answer) -> None:
        with self._lock:
            if state is self._state:
                self._answers[key] = answer
                if len(self._answers) > ANSWER_CACHE:
                    self._answers.popitem(last=False)

    def ask_stream(self, question: str, **kwargs) -> Iterator[StreamEvent]:
        """Citations first, then the answer text in pieces, then ``done`` with the whole answer."""
        answer = self.ask(question, **kwargs)
        yield StreamEvent("citations", {"citations": [c.to_public() for c in answer.citations],
                                        "abstained": answer.abstained, "lang": answer.lang})
        for piece in re.findall(r"\S+\s*|\s+", answer.text):
            yield StreamEvent("delta", {"text": piece})
        yield StreamEvent("done", {"answer": answer.to_public()})

    def close(self) -> None:
        """Close the served version and the one served before it."""
        for state in (self._retired, self._state):
            if state is not None:
                state.index.close()

    # --- for the HTTP routers and the terminal UI, so they need not reach into the index (issue 13) -------
    def page_counts(self) -> dict[str, int]:
        """Pages per document id (stored counts, one query)."""
        return self._state.index.page_counts()

    def document_ids(self) -> set[str]:
        return set(self.page_counts())

    def matches(self, filters: Filters) -> bool:
        """Whether any indexed passage passes ``filters`` (doc_ids, languages and publishers together)."""
        allowed = self._state.index.chunk_ids_where(filters)
        return allowed is None or len(allowed) > 0

    def page(self, doc_id: str, number: int) -> Page | None:
        """One page's text, or None when the document or page is unknown."""
        return self._state.index.page(doc_id, number)


def _stamp(files: tuple[Path, Path]) -> tuple:
    """What tells that the glossary or vocabulary file changed: each one's modification time and size."""
    stamp = []
    for path in files:
        try:
            st = path.stat()
            stamp.append((st.st_mtime_ns, st.st_size))
        except OSError:
            stamp.append(None)
    return tuple(stamp)


def _question_language(question: str, history: list[Turn]) -> str:
    lang = detect_query_language(question)
    if lang == "und" and history:
        lang = detect_query_language(history[-1].question)
    return DEFAULT_LANGUAGE if lang == "und" else lang
