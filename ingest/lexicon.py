"""Lexical search over the stem index: BM25 top-k at a bounded cost, from impact-ordered posting lists.

A full FTS5 ranking scores every row that holds a query stem, so a frequent stem on a large index costs
a scan of most of the corpus. Instead (lists written by ``ingest.postings``), a query reads the first
blocks of each stored list, best postings first (a rarer stem: its whole list, from FTS5's instance
vocabulary). A chunk not read from a list can gain at most the best contribution of its next block,
the list's *bound*. The candidates with the highest upper bounds get exact scores by binary search in
the id-ordered lists; when the k-th exact score beats every remaining upper bound, including the sum
of the bounds (what a chunk read nowhere could reach), the result is exactly BM25's top k. Otherwise
the lists are read twice as deep, up to ``POSTINGS_BUDGET`` postings, after which the best found is
returned. Scores are the BM25 of ``Lexicon.scores`` (k1 1.2, b 0.75, idf
``log(1 + (N - df + 0.5) / (df + 0.5))``), so hybrid and lexical retrieval agree.
``bench/scale.py`` measures recall@10 against exhaustive BM25.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.postings import (BM25_B, BM25_K1, FILES, FIRST_BLOCK, POSTINGS_SQL, blocks, chunk_lengths, idf,
                             postings, term_weights)

POSTINGS_BUDGET = 240_000  # postings read per query at most before settling for the best found (~10 ms)
FIRST_DEPTH = 40_000  # at most this many postings read first from each stored list
FIRST_SHARE = 2  # ...and at most this fraction (1 / FIRST_SHARE) of the budget in all
EXACT_TOP = 4_000  # candidates scored exactly per round, in order of their upper bounds
SCAN_ALLOWED_MAX = 5_000  # a filter allowing at most this many chunks is scored chunk by chunk
_SEPARATOR = re.compile(r"[^\w]+", re.UNICODE)


def fts_tokens(stems: Sequence[str]) -> list[str]:
    """Query stems as the FTS5 tokenizer stored them (it splits at apostrophes and other punctuation)."""
    out = (t for s in stems for t in _SEPARATOR.split(s.lower()) if t)
    return list(dict.fromkeys(out))


@dataclass
class _List:
    """One stem's postings: those read so far from its best end, and all of them by chunk id."""

    by_id: np.ndarray  # chunk ids, ascending
    by_id_scores: np.ndarray
    best: np.ndarray | None = None  # blocks of postings, better blocks first (None: the list is whole)
    best_scores: np.ndarray | None = None
    edges: tuple[int, ...] = ()  # block boundaries
    depth: int = 0  # postings read: a block boundary

    @property
    def bound(self) -> float:
        """The best contribution of a posting not read yet: the best of the next block."""
        if self.best is None or self.depth >= len(self.best):
            return 0.0
        following = next(e for e in self.edges if e > self.depth)
        return float(self.best_scores[self.depth:following].max())

    def read_to(self, depth: int) -> None:
        """Read whole blocks: up to the last boundary within ``depth``, and at least the first block."""
        if self.best is not None:
            self.depth = max([self.edges[0], *(e for e in self.edges if e <= depth)])

    def head(self) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, contributions) read so far, in runs ascending by chunk id."""
        if self.best is None:
            return self.by_id, self.by_id_scores
        return self.best[:self.depth], self.best_scores[:self.depth]

    def lookup(self, ids: np.ndarray) -> np.ndarray:
        """Exact contributions of ``ids`` (sorted) to this stem's score: 0 where the chunk lacks it."""
        if not len(self.by_id):
            return np.zeros(len(ids))
        pos = np.minimum(np.searchsorted(self.by_id, ids), len(self.by_id) - 1)
        return np.where(self.by_id[pos] == ids, self.by_id_scores[pos], 0.0)


class Lexicon:
    """Query side. ``db`` returns the calling thread's read-only connection to ``meta.sqlite``; ``folder``
    holds the posting arrays (an index of format 2 has none: every list is then read whole from FTS5)."""

    def __init__(self, db: Callable[[], sqlite3.Connection], stats: Callable[[], dict],
                 folder: Path | None = None) -> None:
        self._db = db
        self._stats = stats
        self._lengths: np.ndarray | None = None
        self._prepared = threading.local()
        self._arrays: dict[str, np.ndarray] | None = None
        if folder is not None and all((folder / name).is_file() for name in FILES):
            self._arrays = {name: _load(folder / name) for name in FILES}

    def _conn(self) -> sqlite3.Connection:
        conn = self._db()
        if getattr(self._prepared, "conn", None) is not conn:  # once per thread's connection
            conn.execute(POSTINGS_SQL)  # a temp table: allowed on the read-only connection
            self._prepared.conn = conn
        return conn

    def lengths(self) -> np.ndarray:
        if self._lengths is None:
            conn = self._conn()
            try:
                row = conn.execute("SELECT data FROM arrays WHERE name = 'chunk_terms'").fetchone()
            except sqlite3.OperationalError:  # an index of format 2 has no stored lengths: count them once
                row = None
            self._lengths = np.frombuffer(row[0], dtype=np.uint16) if row else chunk_lengths(conn)
        return self._lengths

    def df(self, stems: Sequence[str]) -> dict[str, int]:
        if not stems:
            return {}
        return dict(self._conn().execute(
            f"SELECT term, df FROM term_df WHERE term IN ({','.join('?' * len(stems))})", list(stems)))

    def idf(self, stems: Sequence[str]) -> dict[str, float]:
        """Inverse document frequency of the stems that occur in the index."""
        return self._weights(self.df(fts_tokens(stems)))

    def scores(self, stems: Sequence[str], ids: Sequence[int]) -> dict[int, float]:
        """Exact BM25 of the given chunks, from their stored stems."""
        return self._exact(self._weights(self.df(fts_tokens(stems))), ids)

    def _weights(self, df: dict[str, int]) -> dict[str, float]:
        n = self._stats().get("chunks", 1.0)
        return {t: float(idf(n, d)) for t, d in df.items()}

    def _exact(self, weight: dict[str, float], ids: Sequence[int]) -> dict[int, float]:
        ids = [int(i) for i in ids]
        if not weight or not ids:
            return {}
        avg = self._stats().get("avg_terms", 1.0) or 1.0
        norm = BM25_K1 * (1 - BM25_B)
        out: dict[int, float] = {}
        rows = self._conn().execute(f"SELECT rowid, body FROM chunks_fts WHERE rowid IN ({','.join('?' * len(ids))})",
                                    ids)
        for rowid, body in rows:
            terms = body.split()
            tf: dict[str, int] = {}
            for term in terms:
                if term in weight:
                    tf[term] = tf.get(term, 0) + 1
            if tf:
                saturation = norm + BM25_K1 * BM25_B * len(terms) / avg
                out[int(rowid)] = sum(weight[t] * f * (BM25_K1 + 1) / (f + saturation) for t, f in tf.items())
        return out

    def search(self, stems: Sequence[str], k: int, allowed: np.ndarray | None = None, *,
               exhaustive: bool = False) -> list[tuple[int, float]]:
        """Top ``k`` (chunk id, BM25) for a bag of stems, among ``allowed`` chunk ids when given;
        ``exhaustive`` reads every posting (the reference that recall is measured against)."""
        stems = fts_tokens(stems)
        if k <= 0 or not stems:
            return []
        df = self.df(stems)
        if not df:
            return []
        if allowed is not None and len(allowed) <= SCAN_ALLOWED_MAX:
            return _top(self._exact(self._weights(df), allowed), k)
        first_block = int(self._stats().get("first_block", FIRST_BLOCK))
        lists = self._open(df, first_block)
        permitted = None if allowed is None else np.unique(np.asarray(allowed, dtype=np.int32))
        cut = max(1, sum(1 for x in lists if x.best is not None))
        most = max((len(x.best) for x in lists if x.best is not None), default=0)
        depth = first_block
        while depth * 2 <= min(FIRST_DEPTH, POSTINGS_BUDGET // (FIRST_SHARE * cut)):
            depth *= 2
        if exhaustive:
            depth = most
        while True:
            for x in lists:
                x.read_to(depth)
            heads = [x.head() for x in lists]
            bounds = sum(x.bound for x in lists)
            candidates, upper = _accumulate(heads, [x.bound for x in lists])
            if permitted is not None:
                keep = np.isin(candidates, permitted, assume_unique=True)
                candidates, upper = candidates[keep], upper[keep]
            if not bounds:  # every list read whole: the sums are exact
                order = np.lexsort((candidates, -upper))[:k]
                return [(int(candidates[i]), float(upper[i])) for i in order]
            top = np.arange(len(upper))
            rest = 0.0
            if len(upper) > EXACT_TOP:
                top = np.argpartition(-upper, EXACT_TOP)[:EXACT_TOP]
                rest = float(np.max(np.delete(upper, top)))
            ids = candidates[np.sort(top)]
            exact = sum(x.lookup(ids) for x in lists)
            best = np.lexsort((ids, -exact))[:k]
            kth = float(exact[best[-1]]) if len(best) == k else 0.0
            if kth >= max(rest, bounds) or depth >= most or depth * 2 * cut > POSTINGS_BUDGET:
                break  # proven to be BM25's top k, or the budget is spent
            depth *= 2
        if permitted is not None and len(best) < k:  # the filter left too few: read its stems whole
            return self.search(stems, k, allowed, exhaustive=True)
        return [(int(ids[i]), float(exact[i])) for i in best if exact[i] > 0]

    def _open(self, df: dict[str, int], first_block: int) -> list[_List]:
        conn = self._conn()
        stats = self._stats()
        n, avg = stats.get("chunks", 1.0), stats.get("avg_terms", 1.0) or 1.0
        lists = []
        for term, d in df.items():
            row = None
            if self._arrays is not None:
                row = conn.execute("SELECT start, n FROM term_impacts WHERE term = ?", (term,)).fetchone()
            if row is not None:
                a, part = self._arrays, slice(row[0], row[0] + row[1])
                lists.append(_List(a["postings_ids.npy"][part], a["postings_scores.npy"][part],
                                   a["impacts_ids.npy"][part], a["impacts_scores.npy"][part],
                                   tuple(blocks(row[1], first_block))))
            else:
                ids, tf = postings(conn, term)
                lists.append(_List(ids.astype(np.int32), idf(n, d) * term_weights(tf, self.lengths()[ids], avg)))
        return lists


def _accumulate(heads: list[tuple[np.ndarray, np.ndarray]], bounds: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Candidates (sorted ids) and the most each can reach: what was read of it plus the bound of every
    list it was not read from, i.e. ``sum(bounds) + sum(contribution - bound over the lists it was read
    from)``. A chunk whose reads all equal their bounds can reach no more than a chunk never read, so it
    is left out. The heads come as runs ascending by chunk id, which a stable sort (timsort) merges in
    a few passes: measured 3 ms for 160,000 postings where ``np.unique`` takes 9."""
    ids = np.concatenate([i for i, _ in heads])
    gain = np.concatenate([c - b for (_, c), b in zip(heads, bounds, strict=True)])
    if not len(ids):
        return ids, gain
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
    candidates, above = ids[starts], np.add.reduceat(gain[order], starts)
    keep = above > 0
    return candidates[keep], above[keep] + sum(bounds)


def _load(path: Path) -> np.ndarray:
    try:
        return np.load(path, mmap_mode="r", allow_pickle=False)
    except ValueError:  # an empty array cannot be memory-mapped
        return np.load(path, allow_pickle=False)


def _top(scores: dict[int, float], k: int) -> list[tuple[int, float]]:
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
