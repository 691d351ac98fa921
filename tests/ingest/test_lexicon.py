"""Stored posting lists and the bounded lexical search, against a brute-force BM25 over the same stems."""

from __future__ import annotations

import math
import random
import sqlite3
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from ingest import lexicon, postings
from ingest.lexicon import Lexicon
from ingest.store import SCHEMA, finalize

N_CHUNKS = 3_000
VOCAB = [f"w{i}" for i in range(3_000)]


@pytest.fixture(scope="module")
def bodies() -> list[str]:
    rng = random.Random(7)
    cum = np.cumsum([1 / (r + 1) ** 1.07 for r in range(len(VOCAB))])  # Zipf-like, as in real text
    out = []
    for _ in range(N_CHUNKS):
        picks = np.searchsorted(cum, [rng.random() * cum[-1] for _ in range(rng.randint(20, 80))])
        out.append(" ".join(VOCAB[p] for p in picks))
    return out


@dataclass
class Built:
    conn: sqlite3.Connection
    folder: Path


def build(folder: Path, bodies: list[str]) -> Built:
    conn = sqlite3.connect(folder / "meta.sqlite")
    conn.executescript(SCHEMA)
    conn.executemany("INSERT INTO chunks_fts (rowid, body) VALUES (?, ?)", enumerate(bodies))
    info = finalize(conn, folder)
    conn.commit()
    assert info["stored_terms"] > 20  # the frequent stems are stored, the others read from FTS5
    return Built(conn, folder)


@pytest.fixture(scope="module")
def built(tmp_path_factory, bodies) -> Built:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(postings, "FIRST_BLOCK", 10)  # lists of ~1,000-2,000 postings in blocks of 10, 10, 20, 40, …
        return build(tmp_path_factory.mktemp("lexicon"), bodies)


def open_lexicon(built: Built, folder: Path | None = None) -> Lexicon:
    stats = dict(built.conn.execute("SELECT key, value FROM stats"))
    return Lexicon(lambda: built.conn, lambda: stats, folder or built.folder)


def brute_force(bodies: list[str], stems: list[str], allowed=None) -> dict[int, float]:
    """BM25 written out from its definition, independently of ingest.lexicon."""
    docs = [b.split() for b in bodies]
    n, avg = len(docs), sum(len(d) for d in docs) / len(docs)
    dfs = {t: sum(1 for d in docs if t in d) for t in set(stems)}
    scores = {}
    for i, doc in enumerate(docs):
        if allowed is not None and i not in allowed:
            continue
        tf = Counter(doc)
        s = 0.0
        for t in set(stems):
            if tf[t]:
                df = dfs[t]
                s += math.log(1 + (n - df + 0.5) / (df + 0.5)) * tf[t] * 2.2 / (tf[t] + 1.2 * (0.25 + 0.75 * len(doc) / avg))
        if s > 0:
            scores[i] = s
    return scores


def top_ids(scores: dict[int, float], k: int) -> list[int]:
    return [i for i, _ in sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


QUERIES = [["w0", "w17", "w240"], ["w3", "w5"], ["w1", "w2", "w4", "w900"], ["w60", "w61"], ["w2999", "w0"]]


def best_scores(scores: dict[int, float], k: int) -> list[float]:
    return sorted(scores.values(), reverse=True)[:k]


def test_whole_lists_give_exact_bm25(built, bodies, monkeypatch):
    monkeypatch.setattr(lexicon, "FIRST_DEPTH", 4 * N_CHUNKS)  # every stored list is read whole at once
    lex = open_lexicon(built)
    for stems in QUERIES:
        expected = brute_force(bodies, stems)
        got = lex.search(stems, 10)
        assert [i for i, _ in got] == top_ids(expected, 10)
        for i, s in got:
            assert s == pytest.approx(expected[i], rel=1e-6)


def test_shallow_reads_deepen_until_the_result_is_proven(built, bodies, monkeypatch):
    monkeypatch.setattr(lexicon, "FIRST_DEPTH", 10)  # 1 % of the frequent lists at first
    monkeypatch.setattr(lexicon, "EXACT_TOP", 20)
    depths = []
    monkeypatch.setattr(lexicon._List, "bound", property(lambda x: depths.append(x.depth) or (
        0.0 if x.best is None or x.depth >= len(x.best) else float(x.best_scores[x.depth]))))
    lex = open_lexicon(built)
    for stems in QUERIES:
        expected = brute_force(bodies, stems)
        got = lex.search(stems, 10)
        assert [i for i, _ in got] == top_ids(expected, 10)  # exact, ties by chunk id
        for i, s in got:
            assert s == pytest.approx(expected[i], rel=1e-6)
    assert max(depths) > 10  # some queries had to read deeper to be proven


def test_a_spent_budget_returns_the_best_found(built, bodies, monkeypatch):
    monkeypatch.setattr(lexicon, "EXACT_TOP", 50)
    monkeypatch.setattr(lexicon, "POSTINGS_BUDGET", 150)  # 150 postings per query, of lists of ~1,500
    lex = open_lexicon(built)
    found = []
    for stems in QUERIES:
        expected = brute_force(bodies, stems)
        got = lex.search(stems, 10)
        assert len(got) == 10
        for i, s in got:  # whatever is returned carries its exact score
            assert s == pytest.approx(expected[i], rel=1e-6)
        kth = best_scores(expected, 10)[-1]
        found.append(sum(1 for _, s in got if s >= kth * (1 - 1e-6)) / 10)
    assert 0.6 <= np.mean(found) < 1.0  # approximate, and not by much


def test_stored_lists_hold_every_posting_in_both_orders(built, bodies):
    start, n = built.conn.execute("SELECT start, n FROM term_impacts WHERE term = 'w0'").fetchone()
    arrays = {name: np.load(built.folder / name)[start:start + n] for name in postings.FILES}
    expected = brute_force(bodies, ["w0"])
    assert n == len(expected)
    np.testing.assert_array_equal(arrays["postings_ids.npy"], sorted(expected))
    np.testing.assert_allclose(arrays["postings_scores.npy"], [expected[i] for i in sorted(expected)], rtol=1e-6)
    ids, scores = arrays["impacts_ids.npy"], arrays["impacts_scores.npy"]
    np.testing.assert_allclose(scores, [expected[i] for i in ids], rtol=1e-6)
    edges = postings.blocks(n, 10)
    assert edges[:4] == [10, 20, 40, 80] and edges[-1] == n
    best = sorted(expected.values(), reverse=True)
    for low, high in zip([0, *edges], edges):  # block by block: the next best postings, by chunk id
        assert list(ids[low:high]) == sorted(ids[low:high])
        np.testing.assert_allclose(sorted(scores[low:high], reverse=True), best[low:high], rtol=1e-6)


@pytest.mark.parametrize("size", [40, 2_500])
def test_filters_are_respected(built, bodies, monkeypatch, size):
    monkeypatch.setattr(lexicon, "SCAN_ALLOWED_MAX", 1_000)  # 2,500 allowed ids go through the lists
    monkeypatch.setattr(lexicon, "FIRST_DEPTH", 20)
    lex = open_lexicon(built)
    allowed = np.array(sorted(random.Random(size).sample(range(N_CHUNKS), size)), dtype=np.int64)
    for stems in QUERIES:
        expected = brute_force(bodies, stems, set(allowed.tolist()))
        got = lex.search(stems, 10, allowed)
        assert {i for i, _ in got} <= set(allowed.tolist())
        np.testing.assert_allclose([s for _, s in got], best_scores(expected, 10), rtol=1e-6)


def test_index_without_stored_lists_is_still_exact(tmp_path, bodies):
    """An index of format 2 has no posting arrays or lengths: whole lists from FTS5, lengths counted once."""
    old = build(tmp_path, bodies)
    old.conn.executescript("DROP TABLE term_impacts; DROP TABLE arrays;")
    for name in postings.FILES:
        (tmp_path / name).unlink()
    lex = open_lexicon(old)
    stems = QUERIES[0]
    assert [i for i, _ in lex.search(stems, 10)] == top_ids(brute_force(bodies, stems), 10)


def test_unknown_and_punctuated_stems(built):
    lex = open_lexicon(built)
    assert lex.search(["nothere"], 5) == []
    assert lex.search([], 5) == []
    assert lex.search(["W17'"], 3) == lex.search(["w17"], 3)  # as FTS5 tokenised it
