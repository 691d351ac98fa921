"""Writing one new index version into a temporary folder: copy unchanged documents, embed the rest, save."""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ingest.chunking import chunk_document
from ingest.embedding import embed_in_batches, load_embedder
from ingest.errors import DocumentError
from ingest.loaders import load_document
from ingest.manifest import DATA_FILES, FORMAT_VERSION, file_entries, write_manifest
from ingest.settings import Settings
from ingest.sources import load_sources
from ingest.stemming import index_text
from ingest.store import SCHEMA, finalize
from ingest.types import Chunk, LoadedDocument

if TYPE_CHECKING:
    from ingest.pipeline import Plan

log = logging.getLogger("sesam.ingest")


def passage_text(title: str, chunk: Chunk) -> str:
    """What is embedded for a chunk: its own text. (Prefixing the document title was measured and hurt:
    dense MRR@10 on the development set fell from 0.81 to 0.73, because every chunk of a document then
    shares the same words.)"""
    return chunk.text


class VersionBuilder:
    """Builds ``meta.sqlite``, ``embeddings.npy``, ``vectors.faiss`` and ``manifest.json`` in ``folder``."""

    def __init__(self, folder: Path, settings: Settings, plan: Plan, progress: bool) -> None:
        self.folder = folder
        self.settings = settings
        self.plan = plan
        self.progress = progress
        self.embedded_chunks = 0
        self.timings: dict[str, float] = {}
        self._embedder = None
        folder.mkdir(parents=True)

    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = load_embedder(self.plan.embedder_spec, threads=self.settings.embed_threads)
        return self._embedder

    def load_documents(self) -> tuple[list[LoadedDocument], tuple[tuple[str, str], ...]]:
        """Load every new or changed document; failures are reported, not raised."""
        t0 = time.perf_counter()
        sources = load_sources(self.settings.sources_path)
        loaded, failed = [], []
        for doc_id in self.plan.to_load:
            path, sha = self.plan.files[doc_id]
            try:
                loaded.append(load_document(path, root=self.plan.root, sources=sources, settings=self.settings,
                                            sha256=sha))
            except DocumentError as exc:
                log.warning("skipped %s: %s", exc.path, exc.reason)
                failed.append((exc.path, exc.reason))
        self.timings["load"] = time.perf_counter() - t0
        return loaded, tuple(failed)

    def write(self, loaded: list[LoadedDocument]) -> dict:
        """Write every file of the version and return its manifest."""
        from ingest.vectors import VectorIndex

        db_path = self.folder / "meta.sqlite"
        conn = sqlite3.connect(db_path)
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(SCHEMA)
        old_vectors = self._copy_unchanged(conn)

        t0 = time.perf_counter()
        chunks: list[tuple[LoadedDocument, Chunk]] = []
        for doc in loaded:
            chunks.extend((doc, c) for c in chunk_document(doc, self.embedder.count_tokens,
                                                             max_tokens=self.settings.chunk_max_tokens,
                                                             overlap_tokens=self.settings.chunk_overlap_tokens))
        self.timings["chunk"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        texts = [passage_text(doc.meta.title, c) for doc, c in chunks]
        new_vectors = embed_in_batches(self.embedder.embed_passages, texts, self.embedder.dim,
                                       self.settings.embed_batch_size, self.progress)
        self.embedded_chunks = len(texts)
        self.timings["embed"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        start_id = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
        self._insert_new(conn, loaded, chunks, start_id)
        lexicon = finalize(conn, self.folder)
        conn.commit()
        counts = {
            "documents": conn.execute("SELECT count(*) FROM documents").fetchone()[0],
            "pages": conn.execute("SELECT count(*) FROM pages").fetchone()[0],
            "chunks": conn.execute("SELECT count(*) FROM chunks").fetchone()[0],
        }
        languages = dict(conn.execute("SELECT language, count(*) FROM documents GROUP BY language").fetchall())
        documents = dict(conn.execute("SELECT doc_id, sha256 FROM documents").fetchall())
        conn.close()

        dim = self.embedder.dim if (loaded or old_vectors is None) else old_vectors.shape[1]
        parts = [v for v in (old_vectors, new_vectors) if v is not None and len(v)]
        vectors = np.concatenate(parts) if parts else np.empty((0, dim), dtype=np.float32)
        np.save(self.folder / "embeddings.npy", vectors, allow_pickle=False)
        index = VectorIndex.build(vectors, kind=self.settings.index_kind, exact_max=self.settings.exact_search_max)
        index.save(self.folder / "vectors.faiss")
        self.timings["write"] = time.perf_counter() - t0

        for name in DATA_FILES:
            with (self.folder / name).open("rb") as fh:
                os.fsync(fh.fileno())
        embedder_info = self._embedder_info(dim)
        manifest = {
            "format_version": FORMAT_VERSION,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "embedder": embedder_info,
            "vector_index": index.describe(),
            "lexicon": lexicon,
            "counts": counts,
            "languages": languages,
            "documents": documents,
            "chunking": {"max_tokens": self.settings.chunk_max_tokens,
                         "overlap_tokens": self.settings.chunk_overlap_tokens},
            "files": file_entries(self.folder),
        }
        write_manifest(self.folder, manifest)
        return manifest

    def _embedder_info(self, dim: int) -> dict:
        old = self.plan.served_manifest
        if self._embedder is None and old is not None:  # nothing embedded: carry the served identity over
            return dict(old["embedder"])
        e = self.embedder
        return {"spec": e.spec if self.plan.embedder_spec == e.spec else self.plan.embedder_spec,
                "identity": e.identity, "dim": dim, "max_tokens": e.max_tokens}

    def _copy_unchanged(self, conn: sqlite3.Connection) -> np.ndarray | None:
        """Copy rows of unchanged documents from the served version, with dense new chunk ids."""
        if self.plan.served is None or not self.plan.unchanged:
            return None
        t0 = time.perf_counter()
        conn.execute("ATTACH DATABASE ? AS old", (f"file:{self.plan.served / 'meta.sqlite'}?mode=ro",))
        conn.execute("CREATE TEMP TABLE keep (doc_id TEXT PRIMARY KEY)")
        conn.executemany("INSERT INTO keep VALUES (?)", [(d,) for d in self.plan.unchanged])
        conn.execute("CREATE TEMP TABLE idmap (old INTEGER PRIMARY KEY, new INTEGER NOT NULL)")
        conn.execute("INSERT INTO idmap SELECT chunk_id, row_number() OVER (ORDER BY chunk_id) - 1 "
                     "FROM old.chunks WHERE doc_id IN (SELECT doc_id FROM keep)")
        conn.execute("INSERT INTO documents SELECT * FROM old.documents WHERE doc_id IN (SELECT doc_id FROM keep)")
        conn.execute("INSERT INTO pages SELECT * FROM old.pages WHERE doc_id IN (SELECT doc_id FROM keep)")
        conn.execute("INSERT INTO chunks SELECT m.new, c.doc_id, c.seq, c.page_start, c.page_end, c.char_start, "
                     "c.char_end, c.text, c.language, c.n_tokens, c.heading FROM old.chunks c "
                     "JOIN idmap m ON m.old = c.chunk_id ORDER BY m.new")
        conn.execute("INSERT INTO chunks_fts (rowid, body) SELECT m.new, f.body FROM old.chunks_fts f "
                     "JOIN idmap m ON m.old = f.rowid")
        old_ids = np.fromiter((r[0] for r in conn.execute("SELECT old FROM idmap ORDER BY new")), dtype=np.int64)
        conn.commit()
        conn.execute("DETACH DATABASE old")
        old = np.load(self.plan.served / "embeddings.npy", mmap_mode="r", allow_pickle=False)
        self.timings["copy"] = time.perf_counter() - t0
        return np.asarray(old[old_ids], dtype=np.float32)

    def _insert_new(self, conn: sqlite3.Connection, loaded: list[LoadedDocument],
                    chunks: list[tuple[LoadedDocument, Chunk]], start_id: int) -> None:
        for doc in loaded:
            m = doc.meta
            conn.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
                         (m.doc_id, m.path, m.title, m.publisher, m.language, m.date, m.url, m.sha256, m.kind,
                          len(doc.pages)))
            conn.executemany("INSERT INTO pages VALUES (?,?,?)", [(p.doc_id, p.number, p.text) for p in doc.pages])
        rows, fts = [], []
        for offset, (doc, c) in enumerate(chunks):
            cid = start_id + offset
            rows.append((cid, c.doc_id, c.seq, c.page_start, c.page_end, c.char_start, c.char_end, c.text,
                         c.language, c.n_tokens, c.heading))
            fts.append((cid, index_text(f"{doc.meta.title} {c.heading} {c.text}", c.language)))
        conn.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        conn.executemany("INSERT INTO chunks_fts (rowid, body) VALUES (?, ?)", fts)
