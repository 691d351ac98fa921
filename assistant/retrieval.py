"""Hybrid retrieval: dense (chunk and window vectors, FAISS) and lexical (BM25 over stems) search, fused with
latent terms among near-ties, filtered and de-duplicated."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from assistant.glossary import Expansion, Glossary
from assistant.query_cache import LatentQueries, QueryEmbeddingCache
from assistant.scoring import closeness, dedupe, fuse, latent_scores, lexical_slot, near_ties, promote
from assistant.types import Filters, Hit
from ingest.embedding import Embedder
from ingest.language import EN_STOPWORDS, LANGUAGES, SV_STOPWORDS, detect_query_language
from ingest.latent import pack, query_weights
from ingest.latent import scores as latent_cosines
from ingest.stemming import stem_tokens, tokenize
from ingest.store import IndexVersion

QUESTION_WORDS = frozenset(
    """vad vilka vilken vilket hur varför när var vem vilken finns kan ska bör får gör görs menas betyder
    what which who whom whose why when where how does do did can could should would is are was were
    mean means meant tell explain describe give list""".split()
)
STOPWORDS = SV_STOPWORDS | EN_STOPWORDS | QUESTION_WORDS
# words that ask about whatever was being discussed: a follow-up made only of these (and stopwords) names nothing new
ELLIPSIS_WORDS = frozenset("""since sedan länge long då so then more mer else annars också too also exempel example
    exempelvis instance""".split())
MODES = ("hybrid", "dense", "lexical")
CANDIDATES = 40  # per retriever, before fusion
WINDOW_CANDIDATES = 64  # nearest windows, whose chunks join the dense candidates
CONTINUITY = 0.02  # what a passage the conversation's previous answer quoted gains for a follow-up
BRIDGE_NAMES = 4  # at most this many names added to a question in another language (dense_text)
FOLLOW_UP_OWN = 0.7  # a follow-up that names something: this share of its ranking is by its own words (round 8)


@dataclass(frozen=True)
class Query:
    """A question prepared for search: language, content terms and glossary expansion."""

    text: str
    lang: str
    terms: tuple[str, ...]
    expansion: Expansion
    stems: tuple[str, ...] = ()  # of the terms and expansions, as Swedish and as English: computed once here
    asked: str = ""  # the user's own words when ``text`` adds the conversation's (a follow-up)
    # per content word (and glossary equivalent): its stems and its weight (the idf of its rarest stem)
    weighted: tuple[tuple[frozenset[str], float], ...] = ()

    @property
    def question(self) -> str:
        """What the user asked in this turn: what kind of answer is wanted is read from it."""
        return self.asked or self.text

    @property
    def lexical_terms(self) -> tuple[str, ...]:
        return self.terms + self.expansion.all


class LatentMatch:
    """The question's latent terms (ingest/latent.py), and how well those of another text match them: a line of a
    Swedish passage and an English question share latent terms where they share no word. The question's own terms
    are computed on first use (one pass of the embedder)."""

    def __init__(self, text: str, encode: Callable[[str], tuple], dim: int) -> None:
        self._text = text
        self._encode = encode  # text -> (feature indices, values), cached
        self._dim = dim

    @cached_property
    def weights(self) -> np.ndarray:
        return query_weights(self._encode(self._text), self._dim)

    def similarity(self, text: str) -> float:
        return float(latent_cosines(pack([self._encode(text)]), self.weights)[0])


@dataclass(frozen=True)
class Retrieval:
    """Ranked hits plus what the answer composer and abstention need to know about the search."""

    query: Query
    hits: tuple[Hit, ...]
    timings_ms: dict = field(default_factory=dict, compare=False)
    latent: LatentMatch | None = field(default=None, compare=False, repr=False)  # when the index has latent terms


def content_terms(text: str) -> tuple[str, ...]:
    """The words of a question that carry meaning (no stopwords, no question words)."""
    return tuple(dict.fromkeys(t for t in tokenize(text) if t not in STOPWORDS and (len(t) > 1 or t.isdigit())))


def own_terms(text: str) -> tuple[str, ...]:
    """The content words of ``text`` that name something, not whatever was being discussed (``ELLIPSIS_WORDS``):
    () for "Since when?", ("sesi",) for "Och SESI då?"."""
    return tuple(t for t in content_terms(text) if t not in ELLIPSIS_WORDS)


class Retriever:
    """Searches one index version; stateless apart from the query caches, so safe across threads."""

    def __init__(self, index: IndexVersion, embedder: Embedder, glossary: Glossary, *,
                 expand: bool = True, cache: QueryEmbeddingCache | None = None, latent: bool = True) -> None:
        self.index = index
        self.embedder = embedder
        self.glossary = glossary
        self.expand = expand
        self.embed_query = cache or QueryEmbeddingCache(embedder)
        # latent terms when both the index and the embedder have them (ingest/latent.py) and they are wanted
        self.latent_dim = int(getattr(embedder, "latent_dim", 0)) if latent and index.has_latent else 0
        self.latent_query = QueryEmbeddingCache(LatentQueries(embedder)) if self.latent_dim else None
        languages = [d.language for d in index.documents()]
        # the general vocabulary bridges a question to documents in another language; a question in the documents'
        # own language gains nothing from it (measured: docs/retrieval.md, round 5)
        self.documents_language = max(set(languages), key=languages.count) if languages else ""

    def prepare(self, text: str, lang: str | None = None, asked: str = "") -> Query:
        lang = lang or detect_query_language(text)
        expansion = self.glossary.expand(text, general=lang != self.documents_language) if self.expand \
            else Expansion((), (), ())
        terms = content_terms(text)
        forms = {term: tuple(dict.fromkeys(stem_tokens(term, None)))  # None: as Swedish and as English
                 for term in terms + expansion.all}
        stems = tuple(dict.fromkeys(s for found in forms.values() for s in found))
        idf = self.index.idf(stems) if stems else {}
        weighted: list[tuple[frozenset[str], float]] = []
        # one entry per word or glossary concept, however many forms, phrases and abbreviations it has
        # ("Arbetsförmedlingen", "AF" and "employment service" are one: a line naming it holds that much of the
        # question); a word no indexed text holds (an English word beside Swedish documents) is left out: it would
        # only dilute the share of the question a line holds
        words = [frozenset(forms[term]) for term in terms]
        concepts = [frozenset(s for phrase in phrases for s in stem_tokens(phrase, None))
                    for phrases in expansion.concepts]
        for found in words + concepts:
            if not found & idf.keys():
                continue
            weight = max(idf[s] for s in found if s in idf)
            same = next((i for i, (other, _) in enumerate(weighted) if other & found), None)
            if same is None:
                weighted.append((found, weight))
            else:
                weighted[same] = (weighted[same][0] | found, max(weighted[same][1], weight))
        return Query(text=text, lang=lang, terms=terms, expansion=expansion, stems=stems,
                     asked=asked if asked != text else "", weighted=tuple(weighted))

    def ranking_vector(self, query: Query, qvec: np.ndarray) -> np.ndarray:
        """What candidates are ranked by: the question's vector, or for a follow-up that names something of its own
        ("Och SESI då?" after "Vad är NIA?", "Och vilka utmaningar finns?"), ``FOLLOW_UP_OWN`` of its own words'
        vector beside the conversation's: searched after the previous question alone, the pages that answered it
        win again. Cosines are linear in the query, so this ranks by the weighted mean of the two cosines. A
        follow-up made of ellipsis words ("Since when?") or of words no indexed text holds keeps ``qvec``."""
        own = own_terms(query.asked) if query.asked else ()
        if not FOLLOW_UP_OWN or not self.index.known_terms([s for t in own for s in stem_tokens(t, None)]):
            return qvec
        asked = self.prepare(query.asked, query.lang)
        return (1 - FOLLOW_UP_OWN) * qvec + FOLLOW_UP_OWN * self.embed_query(self.dense_text(asked))

    def dense_text(self, query: Query) -> str:
        """What the embedder reads for ``query``: the question, and for a question in another language than the
        documents, the documents' own names of the concepts it mentions (``bridge``) in brackets:
        "How large are the revenues for the municipalities …? (kommun, intäkter)" meets Swedish passages half way.
        Measured in docs/retrieval.md (round 6)."""
        return _with_names(query.text, self.bridge(query))

    def bridge(self, query: Query) -> tuple[str, ...]:
        """For a question in another language than the documents, the documents' name of each concept it mentions
        (domain glossary and general vocabulary), the ``BRIDGE_NAMES`` rarest in the index; () otherwise."""
        target = self.documents_language
        if not self.expand or query.lang == target or target not in LANGUAGES:
            return ()
        own = set(getattr(query.expansion, target))  # an Expansion has one field of phrases per language
        names = [next((p for p in phrases if p in own), "") for phrases in query.expansion.concepts]
        names = [name for name in dict.fromkeys(names) if name]
        if len(names) > BRIDGE_NAMES:  # the rarest: each name costs the embedder time (~1 ms a token)
            stems = {name: stem_tokens(name, None) for name in names}
            idf = self.index.idf(sorted({s for found in stems.values() for s in found}))
            kept = sorted(names, key=lambda name: -max((idf.get(s, 0.0) for s in stems[name]), default=0.0))
            names = [name for name in names if name in kept[:BRIDGE_NAMES]]
        return tuple(names)

    def search(self, text: str, *, k: int = 10, lang: str | None = None, filters: Filters | None = None,
               mode: str = "hybrid", prefer: tuple[int, ...] = (), asked: str = "") -> Retrieval:
        """The ``k`` best passages; the chunk ids in ``prefer`` (what a conversation's previous answer quoted)
        are candidates and gain ``CONTINUITY``; ``asked``: the user's words when ``text`` is a follow-up in its
        context."""
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}")
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        query = self.prepare(text, lang, asked)
        allowed = self.index.chunk_ids_where(filters) if filters else None
        bridge = self.bridge(query)
        qvec = self.embed_query(_with_names(query.text, bridge))
        rvec = self.ranking_vector(query, qvec)
        timings["embed"] = (time.perf_counter() - t0) * 1000
        dense: dict[int, float] = {}
        lexical: dict[int, float] = {}
        if mode in ("hybrid", "dense"):
            t1 = time.perf_counter()
            dense = dict(self.index.dense_search(rvec, CANDIDATES, allowed))
            if allowed is None and self.index.has_windows:  # chunks of the nearest windows are candidates too
                nearest = self.index.window_search(rvec, WINDOW_CANDIDATES)
                for chunk_id in self.index.window_chunks([w for w, _ in nearest]).values():
                    dense.setdefault(chunk_id, 0.0)
            for chunk_id in prefer:
                if allowed is None or chunk_id in allowed:
                    dense.setdefault(chunk_id, 0.0)
            timings["dense"] = (time.perf_counter() - t1) * 1000
        if mode == "lexical":
            t1 = time.perf_counter()
            lexical = dict(self.index.lexical_search(list(query.stems), CANDIDATES, allowed))
            timings["lexical"] = (time.perf_counter() - t1) * 1000
        elif mode == "hybrid":  # lexical evidence only re-orders near-ties of the dense candidates: score those
            t1 = time.perf_counter()
            lexical = self.index.lexical_scores(list(query.stems), list(dense))
            timings["lexical"] = (time.perf_counter() - t1) * 1000
        t1 = time.perf_counter()
        ids = list(dict.fromkeys([*dense, *lexical]))
        if not ids:
            return Retrieval(query, (), timings)
        vectors = self.index.vectors(ids)
        rows = self.index.windows_of(ids)
        cos, windows = closeness(self.index, vectors, ids, rows, rvec)
        # the score floors judge the question as searched, whatever ranked it (a follow-up's own words alone are
        # a short text, whose cosines run lower: judged by them, answerable follow-ups abstained)
        judged = cos if rvec is qvec else closeness(self.index, vectors, ids, rows, qvec)[0]
        scores = fuse(ids, cos, lexical, mode)
        latent: dict[int, float] = {}
        match = None
        if mode == "hybrid" and self.latent_query is not None:
            # the question's content words: as good as the whole question on the development sets, in fewer tokens
            match = LatentMatch(" ".join(query.terms) or text, self.latent_query, self.latent_dim)
            # a bridged question has had its pass (docs/retrieval.md, round 6); and a page alone within the window
            # keeps its place whatever its latent terms, and is quoted alone (PASSAGE_WINDOW is no wider): the
            # pass is spared unless it can change the ranking (also for a follow-up: the passages the previous answer
            # quoted gain CONTINUITY either way; no answer of eval/ changed when it stopped forcing the pass)
            if not bridge and near_ties(cos) > 1:
                t2 = time.perf_counter()
                by_chunk = latent_scores(self.index, ids, rows, match.weights)
                latent = dict(zip(ids, by_chunk.tolist(), strict=True))
                scores = promote(scores, cos, by_chunk)
                timings["latent"] = (time.perf_counter() - t2) * 1000
        if prefer:
            scores = scores + CONTINUITY * np.isin(np.array(ids), np.array(prefer)).astype(np.float32)
        order = dedupe(scores, vectors, k)
        if mode == "hybrid":
            order = lexical_slot(order, np.array([lexical.get(i, 0.0) for i in ids]), vectors, k)
        records = {r.chunk_id: r for r in self.index.chunks([ids[i] for i in order])}
        hits = tuple(Hit.from_record(records[ids[i]], scores[i], float(judged[i]), lexical.get(ids[i]),
                                     windows.get(ids[i], ()), latent.get(ids[i]))
                     for i in order if ids[i] in records)
        timings["fuse"] = (time.perf_counter() - t1) * 1000
        return Retrieval(query, hits, timings, match)


def _with_names(text: str, names: tuple[str, ...]) -> str:
    return f"{text} ({', '.join(names)})" if names else text


