"""How candidates are scored: a chunk's closeness from its own and its windows' cosines, lexical and latent-term
promotion of near-ties, and de-duplication. Pure functions over arrays; ``Retriever.search`` calls them in order."""

from __future__ import annotations

import numpy as np

from ingest.latent import scores as latent_cosines
from ingest.store import IndexVersion

WINDOW_LIFT = 0.5  # share of a better window's margin over its chunk that the chunk gains
SECOND_LIFT = 0.4  # ...and of its second-best window's margin (docs/retrieval.md, round 11)
LEXICAL_WEIGHT = 0.025  # a full-strength lexical match is worth this much cosine
LEXICAL_WINDOW = 0.02  # ...and only for candidates whose cosine is this close to the best
LATENT_WEIGHT = 0.3  # a full latent-term match (cosine 1) is worth this much cosine...
LATENT_WINDOW = 0.03  # ...for candidates whose cosine is this close to the best (ingest/latent.py)
DUPLICATE_COS = 0.97  # a candidate this similar to a better one is a duplicate and is dropped
LEXICAL_SLOT = 5  # a strong lexical match ranks no lower than this place (docs/retrieval.md, round 12)...
LEXICAL_TOP = 2  # ...the first of the candidates with the highest BM25 that the places above lack


def fuse(ids: list[int], cos: np.ndarray, lexical: dict[int, float], mode: str) -> np.ndarray:
    """Dense cosine, promoted by lexical evidence among near-ties only.

    ``score = cos + LEXICAL_WEIGHT * bm25 / best_bm25`` for candidates whose cosine lies within
    ``LEXICAL_WINDOW`` of the best one; the others keep their cosine. Plain reciprocal-rank fusion
    lets the lexical side demote good paraphrase and cross-language matches (measured: worse than
    dense alone); here exact terms, names and numbers only break near-ties. See docs/retrieval.md.
    """
    lex = np.array([lexical.get(i, 0.0) for i in ids], dtype=np.float32)
    best = float(lex.max()) if len(lex) and lex.max() > 0 else 1.0
    if mode == "lexical":
        return lex / best
    if mode == "dense":
        return cos.astype(np.float32)
    near = cos >= float(cos.max()) - LEXICAL_WINDOW
    return (cos + LEXICAL_WEIGHT * near * lex / best).astype(np.float32)


def near_ties(cos: np.ndarray) -> int:
    """How many candidates ``promote`` would re-order."""
    return int(np.count_nonzero(cos >= float(cos.max()) - LATENT_WINDOW))


def promote(scores: np.ndarray, cos: np.ndarray, latent: np.ndarray) -> np.ndarray:
    """Near-ties re-ordered by latent terms: ``+ LATENT_WEIGHT * latent`` for candidates whose cosine lies
    within ``LATENT_WINDOW`` of the best. The cosine itself (what the score floors judge) is left alone.
    Calibrated on the development sets and checked on the held-out set (docs/retrieval.md, round 3)."""
    near = cos >= float(cos.max()) - LATENT_WINDOW  # as near_ties counts them
    return (scores + LATENT_WEIGHT * near * latent).astype(np.float32)


def latent_scores(index: IndexVersion, ids: list[int], rows: list[tuple], weights: np.ndarray) -> np.ndarray:
    """Per candidate chunk, the best latent-term cosine of its own text and its windows' (``rows``: its
    windows as ``IndexVersion.windows_of`` gives them)."""
    chunk_rows, window_rows = index.latent_rows(ids, [r[0] for r in rows])
    best = dict(zip(ids, latent_cosines(chunk_rows, weights).tolist(), strict=True))
    for (_, chunk_id, _, _), c in zip(rows, latent_cosines(window_rows, weights).tolist(), strict=True):
        best[chunk_id] = max(best[chunk_id], c)
    return np.array([best[i] for i in ids], dtype=np.float32)


def closeness(index: IndexVersion, vectors: np.ndarray, ids: list[int], rows: list[tuple],
              qvec: np.ndarray) -> tuple[np.ndarray, dict[int, tuple]]:
    """Each candidate's dense score (``combine``: from its own vector and its two best windows') and its windows
    best first (``best_windows``)."""
    windows = best_windows(index, rows, qvec)

    def nth(n: int) -> np.ndarray:
        return np.array([windows[i][n][2] if len(windows.get(i, ())) > n else -1.0 for i in ids])

    return combine(vectors @ qvec, nth(0), nth(1)), windows


def combine(chunk: np.ndarray, window: np.ndarray, second: np.ndarray | None = None) -> np.ndarray:
    """A chunk's dense score from its own cosine and its best and second-best windows' (-1: none): a window
    that beats its chunk lifts it half way, a second one that does adds SECOND_LIFT of its margin. Measured against
    the chunk alone and the plain maximum (docs/retrieval.md): the maximum lost MRR on the development set, as
    short windows of broad slides win too easily; the second window (round 11) favours a page on which the
    question's matter spans more than two lines."""
    lifted = chunk + WINDOW_LIFT * np.maximum(window - chunk, 0.0)
    if second is None:
        return lifted
    return lifted + SECOND_LIFT * np.maximum(second - chunk, 0.0)


def best_windows(index: IndexVersion, rows: list[tuple], qvec: np.ndarray) -> dict[int, tuple]:
    """chunk_id -> its windows as (char_start, char_end, cosine), best first, for the candidates that have any
    (``rows``: their windows as ``IndexVersion.windows_of`` gives them)."""
    if not rows:
        return {}
    cos = index.window_vectors([r[0] for r in rows]) @ qvec
    out: dict[int, list] = {}
    for (_, chunk_id, start, end), c in zip(rows, cos, strict=True):
        out.setdefault(chunk_id, []).append((start, end, float(c)))
    return {chunk_id: tuple(sorted(found, key=lambda w: -w[2])) for chunk_id, found in out.items()}


def dedupe(scores: np.ndarray, vectors: np.ndarray, k: int) -> list[int]:
    """The ``k`` best candidates by score, skipping near-duplicates (cos > 0.97) of a better one. (Maximal
    marginal relevance was measured and dropped: pages of one deck are 0.75–0.92 similar to each other while
    the right page leads by about 0.01, so diversity pushed correct pages down; docs/retrieval.md.)"""
    chosen: list[int] = []
    for i in np.argsort(-scores, kind="stable"):
        if len(chosen) == k:
            break
        if not chosen or float((vectors[chosen] @ vectors[i]).max()) < DUPLICATE_COS:
            chosen.append(int(i))
    return chosen


def lexical_slot(order: list[int], lexical: np.ndarray, vectors: np.ndarray, k: int) -> list[int]:
    """``order`` (candidate positions, best first, at most ``k``) with a strong lexical match moved up to place
    ``LEXICAL_SLOT``: the first of the ``LEXICAL_TOP`` candidates with the highest BM25 that the places above it
    lack, unless it duplicates one of them. The dense ranking keeps the first places; a page that holds the
    question's own words is among the first five sources even where its cosine put it sixth to twelfth
    (docs/retrieval.md, round 12)."""
    if k < LEXICAL_SLOT:
        return order
    head = order[:LEXICAL_SLOT - 1]
    strongest = [int(i) for i in np.argsort(-lexical, kind="stable")[:LEXICAL_TOP] if lexical[i] > 0]
    best = next((i for i in strongest if i not in head), None)
    if best is None or (head and float((vectors[head] @ vectors[best]).max()) >= DUPLICATE_COS):
        return order
    return (head + [best] + [i for i in order[LEXICAL_SLOT - 1:] if i != best])[:k]
