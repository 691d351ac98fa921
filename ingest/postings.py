"""The posting lists an index version stores for lexical search, and the BM25 they are scored with.

Written once per version by ``build_lexicon`` (after ``term_df`` and ``stats``); read by ``ingest.lexicon``.
Every stem found in more than ``STORED_FROM`` chunks has its postings, each with its BM25 contribution,
in memory-mapped arrays twice: by chunk id (``postings_*.npy``) and best first (``impacts_*.npy``) in
blocks of ``FIRST_BLOCK``, ``FIRST_BLOCK``, 2 × ``FIRST_BLOCK``, … postings, each block sorted by chunk
id. ``term_impacts`` holds each stem's offset and length; ``arrays`` the number of stems per chunk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np

BM25_K1, BM25_B = 1.2, 0.75
STORED_FROM = 500  # stems in more chunks than this have their scored lists stored
FIRST_BLOCK = 5_000  # stored lists come in blocks ending at 5,000, 10,000, 20,000, … postings
FILES = ("impacts_ids.npy", "impacts_scores.npy", "postings_ids.npy", "postings_scores.npy")

TABLES = """
CREATE TABLE term_impacts (term TEXT PRIMARY KEY, start INTEGER NOT NULL, n INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE arrays (name TEXT PRIMARY KEY, data BLOB NOT NULL);
"""
POSTINGS_SQL = "CREATE VIRTUAL TABLE IF NOT EXISTS temp.chunks_postings USING fts5vocab(main, chunks_fts, instance)"
_LENGTH_SQL = "SELECT rowid, length(body) - length(replace(body, ' ', '')) + 1 FROM chunks_fts"


def idf(n: float, df: np.ndarray | float) -> np.ndarray | float:
    return np.log(1 + (n - df + 0.5) / (df + 0.5))


def term_weights(tf: np.ndarray, lengths: np.ndarray, avg: float) -> np.ndarray:
    """BM25's saturating term-frequency factor, without the idf."""
    tf = tf.astype(np.float64)
    return tf * (BM25_K1 + 1) / (tf + BM25_K1 * (1 - BM25_B + BM25_B * lengths / avg))


def chunk_lengths(conn: sqlite3.Connection) -> np.ndarray:
    rows = conn.execute(_LENGTH_SQL).fetchall()
    size = max((r[0] for r in rows), default=-1) + 1
    lengths = np.zeros(size, dtype=np.uint16)
    if rows:
        ids, lens = np.array(rows, dtype=np.int64).T
        lengths[ids] = np.minimum(lens, np.iinfo(np.uint16).max)
    return lengths


def postings(conn: sqlite3.Connection, term: str) -> tuple[np.ndarray, np.ndarray]:
    """(chunk ids, term frequencies) of every chunk holding ``term``."""
    docs = np.fromiter((r[0] for r in conn.execute("SELECT doc FROM chunks_postings WHERE term = ?", (term,))),
                       dtype=np.int64)
    return np.unique(docs, return_counts=True)


def blocks(n: int, first: int) -> list[int]:
    """Block boundaries of an impact-ordered list of ``n`` postings: ``first``, twice that, … and ``n``."""
    out, edge = [], max(1, first)
    while edge < n:
        out.append(edge)
        edge *= 2
    return [*out, n]


def build_lexicon(conn: sqlite3.Connection, folder: Path, stored_from: int | None = None,
                  first_block: int | None = None, progress: Callable[[int, int], None] | None = None) -> dict:
    """Write chunk lengths, and the scored lists of every stem in more than ``stored_from`` chunks to
    ``folder``; needs ``term_df`` and ``stats`` filled. Streams: one stem's postings in memory at a time."""
    stored_from = STORED_FROM if stored_from is None else stored_from
    first_block = FIRST_BLOCK if first_block is None else first_block
    conn.execute(POSTINGS_SQL)
    stats = dict(conn.execute("SELECT key, value FROM stats"))
    n, avg = stats.get("chunks", 0.0), stats.get("avg_terms", 1.0) or 1.0
    lengths = chunk_lengths(conn)
    conn.execute("INSERT INTO arrays VALUES ('chunk_terms', ?)", (lengths.tobytes(),))
    conn.execute("INSERT INTO stats VALUES ('first_block', ?)", (first_block,))
    stored = conn.execute("SELECT term, df FROM term_df WHERE df > ? ORDER BY term", (stored_from,)).fetchall()
    total = sum(df for _, df in stored)
    out = {}
    for name in FILES:
        dtype = np.int32 if name.endswith("ids.npy") else np.float32
        if total:
            out[name] = np.lib.format.open_memmap(folder / name, mode="w+", dtype=dtype, shape=(total,))
        else:  # nothing to store (a small corpus): empty arrays, which cannot be memory-mapped
            np.save(folder / name, np.empty(0, dtype=dtype), allow_pickle=False)
    start = 0
    for done, (term, df) in enumerate(stored):
        ids, tf = postings(conn, term)
        if len(ids) != df:
            raise ValueError(f"the stem {term!r} has {len(ids)} postings, term_df says {df}")
        scores = idf(n, df) * term_weights(tf, lengths[ids], avg)
        best = np.lexsort((ids, -scores))  # best first, ties by chunk id
        low = 0
        for high in blocks(df, first_block):  # within a block by chunk id, so that reads merge fast
            best[low:high] = np.sort(best[low:high])  # (``ids`` ascend, so sorting positions sorts ids)
            low = high
        end = start + df
        out["impacts_ids.npy"][start:end], out["impacts_scores.npy"][start:end] = ids[best], scores[best]
        out["postings_ids.npy"][start:end], out["postings_scores.npy"][start:end] = ids, scores
        conn.execute("INSERT INTO term_impacts VALUES (?, ?, ?)", (term, start, df))
        start = end
        if progress:
            progress(done + 1, len(stored))
    for array in out.values():
        array.flush()
    del out
    return {"stored_from": stored_from, "first_block": first_block, "stored_terms": len(stored),
            "stored_postings": total}
