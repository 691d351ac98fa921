"""Writing one new index version into a temporary folder: copy unchanged documents, embed the rest, save."""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.chunking import chunk_document, chunk_language, chunking_signature
from ingest.embedding import embedder_for
from ingest.failures import FailureMemory
from ingest.failures import key as failure_key
from ingest.errors import NO_TEXT_ACTION, DocumentError
from ingest.latent import LATENT_DTYPE, LATENT_FILES, latent_signature
from ingest.loaders import load_document
from ingest.manifest import DATA_FILES, FORMAT_VERSION, file_entries, write_manifest
from ingest.settings import Settings
from ingest.sink import NEW_LATENT, NEW_VECTORS, NEW_WINDOWS, ChunkSink, fts_body
from ingest.plan import KEPT, Plan
from ingest.sources import load_sources
from ingest.store import SCHEMA, finalize
from ingest.types import LoadedDocument
from ingest.vectors import VectorIndex
from ingest.windows import WINDOWING

log = logging.getLogger("sesam.ingest")
COPY_BLOCK = 65_536  # vectors copied at a time into embeddings.npy
NO_CHUNK = "no text to index: the file holds too little text to make a passage that a question could find"


@dataclass
class BuildResult:
    """What a build wrote: its manifest (None: only broken new files, the served version stays)."""

    manifest: dict | None
    ingested: tuple[str, ...]
    failed: tuple[tuple[str, str], ...]
    kept: tuple[str, ...] = ()  # indexed documents whose new file could not be loaded: copied as they were
    unchanged: tuple[str, ...] = ()  # the plan's unchanged documents, copied (a rebuild with another embedder: none)
    warnings: tuple[str, ...] = ()  # what loading the indexed documents said (``LoadedDocument.warnings``)


class VersionBuilder:
    """Builds ``meta.sqlite``, ``embeddings.npy``, ``vectors.faiss``, the posting arrays and ``manifest.json``
    in ``folder``. Streams: one document's pages and a batch of chunks are in memory at a time, new vectors go
    to a scratch file on disk, and unchanged documents are copied inside SQLite and in blocks of vectors."""

    def __init__(self, folder: Path, settings: Settings, plan: Plan, progress: bool | str,
                 memory: FailureMemory | None = None) -> None:
        self.folder = folder
        self.memory = memory  # failures remembered by earlier runs: those bytes are not loaded again
        self.settings = settings
        self.plan = plan
        self.progress = progress
        self.embedded_chunks = 0
        self.timings: dict[str, float] = {"load": 0.0, "chunk": 0.0, "embed": 0.0, "write": 0.0}
        self._embedder = None
        self.latent = latent_signature(plan.embedder_spec, settings.latent_terms)  # None: no latent terms
        self._reusable: tuple[str, ...] | None = None  # plan.reusable once the embedder identity is checked
        self.warnings: list[str] = []  # the loaded documents' warnings, for the run's report
        folder.mkdir(parents=True)

    @property
    def embedder(self):
        if self._embedder is None:
            self._embedder = embedder_for(self.plan.embedder_spec, self.settings)
        return self._embedder

    @property
    def reusable(self) -> tuple[str, ...]:
        """Indexed documents whose rows may be copied into this version: the plan's, and with --rebuild only when
        the embedder loaded now is the one the served version was built with (same identity and dimension)."""
        if self._reusable is None:
            built = self.plan.current_embedder or {}
            same = self.plan.reuse_checked or not self.plan.reusable or (
                self.embedder.identity == built.get("identity") and int(self.embedder.dim) == int(built.get("dim", 0)))
            if not same:
                log.warning("--rebuild: the embedder %s is not the one the served index was built with (%s); "
                            "indexed rows cannot be reused", self.embedder.identity, built.get("identity"))
            self._reusable = self.plan.reusable if same else ()
        return self._reusable

    def build(self) -> BuildResult:
        """Write every file of the version (the manifest last)."""
        conn = sqlite3.connect(self.folder / "meta.sqlite")
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(SCHEMA)
        unchanged = tuple(d for d in self.plan.unchanged if not self.plan.rebuild or d in self.reusable)
        # (indexed id, new id) of every copied document: renamed and copied files too (a rebuild plans none)
        pairs = tuple((d, d) for d in unchanged) + self.plan.renamed + self.plan.copied
        old_ids, old_window_ids = self._copy_unchanged(conn, pairs, 0, 0)
        self._apply_updates(conn)
        scratch, window_scratch = self.folder / NEW_VECTORS, self.folder / NEW_WINDOWS
        sink = ChunkSink(self, conn, scratch, window_scratch, start_id=len(old_ids),
                          start_window=len(old_window_ids))
        ingested, failed = self._add_documents(conn, sink)
        sink.close()
        kept = self._keep_failed(failed)
        tail_ids, tail_window_ids = self._copy_unchanged(conn, tuple((d, d) for d in kept), sink.next_id,
                                                         sink.next_window)
        served_docs = set((self.plan.served_manifest or {}).get("documents", {}))
        if (self.plan.served is not None and not ingested and not self.plan.rewrites
                and not (set(self.plan.to_load) & served_docs) - set(kept)):
            conn.close()
            return BuildResult(None, (), tuple(failed), kept, unchanged, tuple(self.warnings))

        t0 = time.perf_counter()
        lexicon = finalize(conn, self.folder)
        conn.commit()
        counts = {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                  for table in ("documents", "pages", "chunks", "windows")}
        languages = dict(conn.execute("SELECT language, count(*) FROM documents GROUP BY language").fetchall())
        documents = dict(conn.execute("SELECT doc_id, sha256 FROM documents").fetchall())
        conn.close()
        dim = self._dim()
        f32 = np.dtype(np.float32)
        self._write_matrix("embeddings.npy", old_ids, scratch, sink.count, f32, (dim,), tail_ids)
        self._write_matrix("windows.npy", old_window_ids, window_scratch, sink.window_count, f32, (dim,),
                           tail_window_ids)
        if self.latent is not None:
            for name, old, n_new, new, tail in zip(LATENT_FILES, (old_ids, old_window_ids),
                                                   (sink.count, sink.window_count), NEW_LATENT,
                                                   (tail_ids, tail_window_ids), strict=True):
                self._write_matrix(name, old, self.folder / new, n_new, LATENT_DTYPE, (), tail)
        index = self._build_vector_index("embeddings.npy", "vectors.faiss")
        window_index = self._build_vector_index("windows.npy", "windows.faiss")
        for name in DATA_FILES + (LATENT_FILES if self.latent is not None else ()):
            with (self.folder / name).open("rb") as fh:
                os.fsync(fh.fileno())
        self.timings["write"] += time.perf_counter() - t0
        manifest = {
            "format_version": FORMAT_VERSION,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "embedder": self._embedder_info(dim),
            "vector_index": index.describe(),
            "window_index": window_index.describe(),
            "windows": WINDOWING if self.settings.passage_windows else None,
            "latent": self.latent,
            "lexicon": lexicon,
            "counts": counts,
            "corpus_dir": self.plan.corpus_record(self.settings.corpus_dir),  # what the next run mirrors (plan.py)
            "languages": languages,
            "documents": documents,
            "chunking": chunking_signature(self.settings.chunk_max_tokens, self.settings.chunk_overlap_tokens),
            "files": file_entries(self.folder),
        }
        write_manifest(self.folder, manifest)
        return BuildResult(manifest, tuple(ingested), tuple(failed), kept, unchanged, tuple(self.warnings))

    def _apply_updates(self, conn: sqlite3.Connection) -> None:
        """Store the new path and metadata of copied documents whose sources.toml entry or file name changed
        (``Plan.updates``); nothing is embedded: a new title re-indexes the document's rows for lexical search, a
        new language also relabels (and re-stems) its chunks whose own text shows no language."""
        for doc_id, (path, title, publisher, language, date, url) in self.plan.updates.items():
            old = conn.execute("SELECT title, language FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
            if old is None:
                continue
            conn.execute("UPDATE documents SET path = ?, title = ?, publisher = ?, language = ?, date = ?, url = ? "
                         "WHERE doc_id = ?", (path, title, publisher, language, date, url, doc_id))
            if (title, language) == tuple(old):
                continue
            chunks = conn.execute("SELECT chunk_id, text, language, heading FROM chunks WHERE doc_id = ?",
                                  (doc_id,)).fetchall()
            for chunk_id, text, chunk_lang, heading in chunks:
                if language != old[1]:
                    chunk_lang = chunk_language(text, language)
                    conn.execute("UPDATE chunks SET language = ? WHERE chunk_id = ?", (chunk_lang, chunk_id))
                conn.execute("UPDATE chunks_fts SET body = ? WHERE rowid = ?",
                             (fts_body(title, heading, text, chunk_lang), chunk_id))
        conn.commit()

    def _keep_failed(self, failed: list[tuple[str, str]]) -> tuple[str, ...]:
        """Indexed documents whose changed file cannot be loaded now keep their indexed version (as an
        unreadable file does), also with --rebuild when the rows can be reused; their failure reason says
        so, and says when the indexed version is dropped instead."""
        by_path = {str(path): doc_id for doc_id, (path, _) in self.plan.files.items()}
        kept = []
        for i, (path, reason) in enumerate(failed):
            doc_id = by_path.get(path)
            if doc_id is None or doc_id not in self.plan.indexed:
                continue
            if doc_id in self.reusable:
                kept.append(doc_id)
                failed[i] = (path, f"{reason}; {KEPT}")
            elif self.plan.rebuild or self.plan.damaged:
                failed[i] = (path, f"{reason}; {self.plan.dropped}")
        return tuple(kept)

    def _add_documents(self, conn: sqlite3.Connection, sink: ChunkSink) -> tuple[list[str], list[tuple[str, str]]]:
        """Load, chunk and hand over every new or changed document; failures are reported, not raised."""
        sources = load_sources(self.settings.sources_path)
        ingested: list[str] = []
        failed: list[tuple[str, str]] = []
        bar = None
        if self.progress and self.plan.to_load:
            from ingest.progress import make_progress

            bar = make_progress(self.progress, [(d, self.plan.files[d][0]) for d in self.plan.to_load])
            sink.on_embedding, sink.on_flush, sink.on_progress = bar.embedding, bar.batch_embedded, bar.embedded
        try:
            for doc_id in self.plan.to_load:
                path, sha256 = self.plan.files[doc_id]
                t0 = time.perf_counter()
                try:  # the checksum stored is that of the bytes parsed, not the one of the plan
                    remembered = self.memory.reason(failure_key(path, sha256)) if self.memory is not None else None
                    if remembered is not None:  # these bytes failed so before, under the same settings
                        raise DocumentError(str(path), remembered)
                    doc = load_document(path, root=self.plan.root, sources=sources, settings=self.settings,
                                        on_ocr=bar.ocr_page if bar is not None else None)
                except DocumentError as exc:
                    log.info("skipped %s: %s", exc.path, exc.reason)  # the summary prints the reason
                    failed.append((exc.path, exc.reason))
                    if self.memory is not None and exc.sha256 and exc.lasting:
                        self.memory.learn(failure_key(path, exc.sha256), exc.reason)
                    if bar is not None:
                        bar.update(1)
                        bar.chunked(0)
                        bar.finished(doc_id, 0, failed=exc.reason)
                    continue
                finally:
                    self.timings["load"] += time.perf_counter() - t0
                if bar is not None:
                    bar.update(1)
                t0 = time.perf_counter()
                chunks = chunk_document(doc, self.embedder.count_tokens, max_tokens=self.settings.chunk_max_tokens,
                                        overlap_tokens=self.settings.chunk_overlap_tokens)
                self.timings["chunk"] += time.perf_counter() - t0
                if bar is not None:
                    bar.chunked(len(chunks))
                if not chunks:  # indexed without a chunk, it could never be found: a failure, like an empty file
                    reason = f"{NO_CHUNK}; {NO_TEXT_ACTION}"
                    log.info("skipped %s: %s", path, reason)
                    failed.append((str(path), reason))
                    if bar is not None:
                        bar.finished(doc_id, 0, failed=reason)
                    continue
                _insert_document(conn, doc)
                ingested.append(doc_id)
                self.warnings.extend(doc.warnings)
                if bar is not None:  # before its chunks are handed over: a batch they fill is logged after it
                    bar.finished(doc_id, len(doc.pages))
                sink.add(doc.meta.title, chunks)
            sink.flush()  # the last chunks are embedded while the bar is still shown (or logged, without a terminal)
        finally:
            if bar is not None:
                bar.close()
        return ingested, failed

    def _dim(self) -> int:
        served = self.plan.served_manifest
        return int(served["embedder"]["dim"]) if served and self._embedder is None else self.embedder.dim

    def _build_vector_index(self, matrix: str, name: str) -> VectorIndex:
        index = VectorIndex.build(np.load(self.folder / matrix, mmap_mode="r", allow_pickle=False),
                                  kind=self.settings.index_kind, exact_max=self.settings.exact_search_max)
        index.save(self.folder / name)
        return index

    def _write_matrix(self, name: str, old_ids: np.ndarray, scratch: Path, n_new: int, dtype: np.dtype,
                      tail: tuple[int, ...], kept_ids: np.ndarray | None = None) -> None:
        """``name`` (embeddings.npy, windows.npy, a latent file): the copied documents' rows (gathered from the
        served version in blocks), then the new ones (from the scratch file), then the rows of kept documents
        (``kept_ids``, gathered like the first); a row is ``tail`` of ``dtype``.

        Written with ordinary writes after a free-space check, never through a memory map: a write to a
        memory-mapped file on a full disk kills the process with SIGBUS instead of raising ENOSPC."""
        kept_ids = np.empty(0, dtype=np.int64) if kept_ids is None else kept_ids
        old = None
        if len(old_ids) or len(kept_ids):
            old = np.load(self.plan.current / name, mmap_mode="r", allow_pickle=False)
        total = len(old_ids) + n_new + len(kept_ids)
        row_bytes = dtype.itemsize * int(np.prod(tail))
        # the rows twice: the matrix, and its FAISS index (at most as large for every index kind)
        ensure_free_space(self.folder, 2 * total * row_bytes + (1 << 20))
        with (self.folder / name).open("wb") as out:
            header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": (total, *tail)}
            np.lib.format.write_array_header_1_0(out, header)
            for start in range(0, len(old_ids), COPY_BLOCK):
                out.write(np.ascontiguousarray(old[old_ids[start:start + COPY_BLOCK]], dtype=dtype).tobytes())
            if n_new:
                with scratch.open("rb") as new:
                    while block := new.read(COPY_BLOCK * row_bytes):
                        out.write(block)
            for start in range(0, len(kept_ids), COPY_BLOCK):
                out.write(np.ascontiguousarray(old[kept_ids[start:start + COPY_BLOCK]], dtype=dtype).tobytes())
        scratch.unlink(missing_ok=True)

    def _embedder_info(self, dim: int) -> dict:
        old = self.plan.served_manifest
        if self._embedder is None and old is not None:  # nothing embedded: carry the served identity over
            return dict(old["embedder"])
        e = self.embedder
        return {"spec": e.spec if self.plan.embedder_spec == e.spec else self.plan.embedder_spec,
                "identity": e.identity, "dim": dim, "max_tokens": e.max_tokens}

    def _copy_unchanged(self, conn: sqlite3.Connection, pairs: tuple[tuple[str, str], ...], first_chunk: int,
                        first_window: int) -> tuple[np.ndarray, np.ndarray]:
        """Copy the rows of each (indexed id, new id) of ``pairs`` from the served version under the new id, with
        dense new chunk and window ids from ``first_chunk`` and ``first_window``. A new id may be the old id of
        another, as when files swap names, and an indexed id may be copied under several, as for a copy of a file:
        every row is read from the served version and written once per new id, so no copy overwrites another; a
        document's rows stay together, in served order. Returns the old chunk ids and the old window ids in new-id
        order (their vectors are copied by ``_write_matrix``)."""
        if self.plan.current is None or not pairs:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        t0 = time.perf_counter()
        conn.execute("ATTACH DATABASE ? AS old", (f"file:{self.plan.current / 'meta.sqlite'}?mode=ro",))
        for table in ("keep", "idmap", "wmap"):
            conn.execute(f"DROP TABLE IF EXISTS temp.{table}")
        conn.execute("CREATE TEMP TABLE keep (doc_id TEXT NOT NULL, new_id TEXT PRIMARY KEY, first INTEGER)")
        conn.executemany("INSERT INTO keep (doc_id, new_id) VALUES (?, ?)", pairs)
        conn.execute("UPDATE keep SET first = (SELECT min(chunk_id) FROM old.chunks c WHERE c.doc_id = keep.doc_id)")
        conn.execute("CREATE TEMP TABLE idmap (old INTEGER NOT NULL, new INTEGER PRIMARY KEY, doc_id TEXT NOT NULL)")
        conn.execute("INSERT INTO idmap SELECT c.chunk_id, row_number() OVER (ORDER BY k.first, k.new_id, c.chunk_id) "
                     "- 1 + ?, k.new_id FROM old.chunks c JOIN keep k ON k.doc_id = c.doc_id", (first_chunk,))
        conn.execute("CREATE INDEX temp.idmap_old ON idmap (old)")
        conn.execute("INSERT INTO documents SELECT k.new_id, d.path, d.title, d.publisher, d.language, d.date, d.url, "
                     "d.sha256, d.kind, d.n_pages FROM old.documents d JOIN keep k ON k.doc_id = d.doc_id "
                     "ORDER BY d.rowid, k.new_id")
        conn.execute("INSERT INTO pages SELECT k.new_id, p.number, p.text FROM old.pages p "
                     "JOIN keep k ON k.doc_id = p.doc_id ORDER BY p.rowid, k.new_id")
        for table, columns in (("page_info", "x.number, x.label, x.ocr"),
                               ("derived_meta", "x.title, x.publisher, x.language")):  # newer than some versions
            if conn.execute("SELECT 1 FROM old.sqlite_master WHERE name = ?", (table,)).fetchone():
                conn.execute(f"INSERT INTO {table} SELECT k.new_id, {columns} FROM old.{table} x "
                             "JOIN keep k ON k.doc_id = x.doc_id ORDER BY x.rowid, k.new_id")
        conn.execute("INSERT INTO chunks SELECT m.new, m.doc_id, c.seq, c.page_start, c.page_end, c.char_start, "
                     "c.char_end, c.text, c.language, c.n_tokens, c.heading FROM idmap m "
                     "JOIN old.chunks c ON c.chunk_id = m.old ORDER BY m.new")
        conn.execute("INSERT INTO chunks_fts (rowid, body) SELECT m.new, f.body FROM idmap m "
                     "JOIN old.chunks_fts f ON f.rowid = m.old ORDER BY m.new")
        old_ids = np.fromiter((r[0] for r in conn.execute("SELECT old FROM idmap ORDER BY new")), dtype=np.int64)
        conn.execute("CREATE TEMP TABLE wmap (old INTEGER NOT NULL, new INTEGER PRIMARY KEY, chunk INTEGER NOT NULL)")
        conn.execute("INSERT INTO wmap SELECT w.window_id, row_number() OVER (ORDER BY m.new, w.window_id) - 1 + ?, "
                     "m.new FROM old.windows w JOIN idmap m ON m.old = w.chunk_id", (first_window,))
        conn.execute("INSERT INTO windows SELECT x.new, x.chunk, w.char_start, w.char_end FROM wmap x "
                     "JOIN old.windows w ON w.window_id = x.old ORDER BY x.new")
        old_window_ids = np.fromiter((r[0] for r in conn.execute("SELECT old FROM wmap ORDER BY new")),
                                     dtype=np.int64)
        conn.commit()
        conn.execute("DETACH DATABASE old")
        self.timings["copy"] = self.timings.get("copy", 0.0) + time.perf_counter() - t0
        return old_ids, old_window_ids


def ensure_free_space(folder: Path, needed: int) -> None:
    """Raise ``OSError(ENOSPC)`` naming ``folder`` and the space needed when its file system has less free."""
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise OSError(errno.ENOSPC, f"{needed / 2**20:.1f} MB needed, {free / 2**20:.1f} MB free", str(folder))


def _insert_document(conn: sqlite3.Connection, doc: LoadedDocument) -> None:
    m = doc.meta
    conn.execute("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
                 (m.doc_id, m.path, m.title, m.publisher, m.language, m.date, m.url, m.sha256, m.kind, len(doc.pages)))
    conn.executemany("INSERT INTO pages VALUES (?,?,?)", [(p.doc_id, p.number, p.text) for p in doc.pages])
    conn.executemany("INSERT INTO page_info VALUES (?,?,?,?)",
                     [(p.doc_id, p.number, p.label, int(p.ocr)) for p in doc.pages if p.label or p.ocr])
    if doc.derived is not None:
        d = doc.derived
        conn.execute("INSERT INTO derived_meta VALUES (?,?,?,?)", (m.doc_id, d.title, d.publisher, d.language))
