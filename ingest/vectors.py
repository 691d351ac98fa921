"""The dense vector index: FAISS, exact up to a size threshold and approximate (HNSW or IVF) above it.

Ids are row numbers of ``embeddings.npy`` (= chunk ids). Scores are inner products of L2-normalised
vectors, i.e. cosine similarities. ``describe()`` is what the manifest records. The approximate kinds
store 8-bit scalar-quantised vectors (a quarter of the float32 size); ``IndexVersion`` re-ranks their
candidates exactly against the memory-mapped float32 embeddings, which keeps recall@10 high.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ingest.errors import IndexCorruptError
from ingest.manifest import cannot_read

HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
IVF_NPROBE_SHARE = 0.04  # probe this share of the lists (at least 16)
# A single query is searched on one thread: splitting one exact scan of 100k vectors over both cores with
# OpenMP took 14 ms against 6.4 ms on one (bench/scale.py); concurrent requests use the other cores.
# OpenMP's thread count is per calling thread, so it is set where the work happens.
SINGLE_QUERY_THREADS = 1


def _faiss():
    import faiss

    return faiss


def choose_kind(n: int, kind: str = "auto", exact_max: int = 200_000) -> str:
    """Exact search up to ``exact_max`` vectors; HNSW above it unless a kind is forced."""
    if kind != "auto":
        return kind
    return "flat" if n <= exact_max else "hnsw"


class VectorIndex:
    """A narrow wrapper around one FAISS index: build, save, load, search with an optional id filter."""

    def __init__(self, index, kind: str, params: dict) -> None:
        self._index = index
        self.kind = kind
        self.params = params
        self.dim = int(index.d)
        self._tune()

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

    def _tune(self) -> None:
        faiss = _faiss()
        if self.kind == "hnsw":
            faiss.downcast_index(self._index).hnsw.efSearch = int(self.params.get("ef_search", HNSW_EF_SEARCH))
        elif self.kind == "ivf":
            faiss.extract_index_ivf(self._index).nprobe = int(self.params["nprobe"])

    @classmethod
    def build(cls, vectors: np.ndarray, *, kind: str = "auto", exact_max: int = 200_000) -> VectorIndex:
        faiss = _faiss()
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # building is parallel work
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = vectors.shape if vectors.ndim == 2 else (0, 0)
        chosen = choose_kind(n, kind, exact_max)
        if chosen == "flat":
            index, params = faiss.IndexFlatIP(dim or 1), {}
        elif chosen == "hnsw":
            index = faiss.IndexHNSWSQ(dim, faiss.ScalarQuantizer.QT_8bit, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            index.train(vectors[np.random.default_rng(0).choice(n, size=min(n, 100_000), replace=False)])
            params = {"m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION, "ef_search": HNSW_EF_SEARCH,
                      "quantizer": "SQ8"}
        elif chosen == "ivf":
            nlist = int(max(16, min(65536, 4 * np.sqrt(max(n, 1)))))
            index = faiss.index_factory(dim, f"IVF{nlist},SQ8", faiss.METRIC_INNER_PRODUCT)
            sample = vectors[np.random.default_rng(0).choice(n, size=min(n, 64 * nlist), replace=False)]
            index.train(sample)
            params = {"nlist": nlist, "nprobe": max(16, int(nlist * IVF_NPROBE_SHARE)), "quantizer": "SQ8"}
        else:
            raise ValueError(f"unknown vector index kind {kind!r}; use auto, flat, hnsw or ivf")
        if n:
            index.add(vectors)
        return cls(index, chosen, params)

    def save(self, path: Path) -> None:
        _faiss().write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str, params: dict) -> VectorIndex:
        faiss = _faiss()
        try:
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP if kind == "flat" else 0)
        except RuntimeError as exc:
            raise IndexCorruptError(cannot_read(path, str(exc).splitlines()[0], path.parent)) from exc
        return cls(index, kind, params)

    def search(self, queries: np.ndarray, k: int, allowed_ids: np.ndarray | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, ids) per query; ids are -1 where fewer than ``k`` results exist."""
        faiss = _faiss()
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        faiss.omp_set_num_threads(SINGLE_QUERY_THREADS if len(queries) == 1 else (os.cpu_count() or 1))
        k = max(1, min(k, max(self.ntotal, 1)))
        if allowed_ids is None:
            return self._index.search(queries, k)
        allowed = np.ascontiguousarray(allowed_ids, dtype=np.int64)
        if allowed.size == 0:
            return (np.full((len(queries), k), -np.inf, dtype=np.float32),
                    np.full((len(queries), k), -1, dtype=np.int64))
        selector = faiss.IDSelectorBatch(allowed.size, faiss.swig_ptr(allowed))
        if self.kind == "hnsw":
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=int(self.params.get("ef_search", HNSW_EF_SEARCH)))
        elif self.kind == "ivf":
            params = faiss.SearchParametersIVF(sel=selector, nprobe=int(self.params["nprobe"]))
        else:
            params = faiss.SearchParameters(sel=selector)
        return self._index.search(queries, k, params=params)

    def describe(self) -> dict:
        return {"kind": self.kind, "params": dict(self.params), "ntotal": self.ntotal, "dim": self.dim}
