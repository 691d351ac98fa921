"""The SQLite side of an index version (documents, pages, chunks, FTS5) and ``IndexVersion``, its read-only view."""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from ingest.latent import LATENT_DTYPE, LATENT_FILES
from ingest.lexicon import Lexicon
from ingest.postings import TABLES as LEXICON_TABLES
from ingest.postings import build_lexicon
from ingest.manifest import (built_from, cannot_read, check_files, read_manifest, recover, recover_version,
                             unreadable)
from ingest.settings import ingest_command
from ingest.types import DocumentMeta, Page

SCHEMA = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, path TEXT NOT NULL, title TEXT NOT NULL, publisher TEXT,
    language TEXT, date TEXT, url TEXT, sha256 TEXT NOT NULL, kind TEXT, n_pages INTEGER NOT NULL);
CREATE TABLE pages (doc_id TEXT NOT NULL, number INTEGER NOT NULL, text TEXT NOT NULL, PRIMARY KEY (doc_id, number));
CREATE TABLE chunks (chunk_id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, seq INTEGER NOT NULL,
    page_start INTEGER NOT NULL, page_end INTEGER NOT NULL, char_start INTEGER NOT NULL, char_end INTEGER NOT NULL,
    text TEXT NOT NULL, language TEXT NOT NULL, n_tokens INTEGER NOT NULL, heading TEXT NOT NULL DEFAULT '');
CREATE INDEX chunks_doc ON chunks (doc_id, seq);
CREATE TABLE page_info (doc_id TEXT NOT NULL, number INTEGER NOT NULL, label TEXT NOT NULL DEFAULT '',
    ocr INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (doc_id, number));
CREATE TABLE derived_meta (doc_id TEXT PRIMARY KEY, title TEXT NOT NULL, publisher TEXT NOT NULL,
    language TEXT NOT NULL);
CREATE TABLE windows (window_id INTEGER PRIMARY KEY, chunk_id INTEGER NOT NULL, char_start INTEGER NOT NULL,
    char_end INTEGER NOT NULL);
CREATE INDEX windows_chunk ON windows (chunk_id);
CREATE VIRTUAL TABLE chunks_fts USING fts5 (body, tokenize = "unicode61 remove_diacritics 0");
CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab (chunks_fts, row);
CREATE TABLE term_df (term TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE stats (key TEXT PRIMARY KEY, value REAL NOT NULL);
""" + LEXICON_TABLES
# Filled once a version's chunks are all written: document frequency per stem, and corpus statistics,
# so that query-time BM25 over a few candidates and vocabulary checks are index lookups, not scans.
FINALIZE = """
INSERT INTO term_df SELECT term, doc FROM chunks_vocab;
INSERT INTO stats SELECT 'chunks', count(*) FROM chunks_fts;
INSERT INTO stats SELECT 'avg_terms', coalesce(avg(length(body) - length(replace(body, ' ', '')) + 1), 1) FROM chunks_fts;
"""
CURRENT = "CURRENT"


def finalize(conn: sqlite3.Connection, folder: Path) -> dict:
    """Fill the statistics and write the lexicon (into ``folder``) once every chunk of a version is
    written; returns what the manifest records about the lexicon."""
    conn.executescript(FINALIZE)
    return build_lexicon(conn, folder)


EXACT_FILTER_MAX = 50_000  # filtered dense search scans the allowed vectors exactly up to this many
RERANK_FACTOR = 4  # approximate indexes fetch k * this candidates for exact re-ranking

_DOC_COLUMNS = "doc_id, path, title, publisher, language, date, url, sha256, kind"
_CHUNK_COLUMNS = ("c.chunk_id, c.doc_id, c.seq, c.page_start, c.page_end, c.char_start, c.char_end, c.text, "
                  "c.language, c.n_tokens, c.heading, d.title, d.path, d.publisher")
# page_info (printed page labels, OCR flags; only pages that have either) is newer than some versions of formats 3
# and 4: a version without the table reads as if every page had no label and a text layer.
_PAGE_INFO_COLUMNS = ", coalesce(pi.label, ''), coalesce(pi.ocr, 0)"
_PAGE_INFO_JOIN = " LEFT JOIN page_info pi ON pi.doc_id = c.doc_id AND pi.number = c.page_start"


@dataclass(frozen=True)
class ChunkRecord:
    """A stored chunk with the metadata of its document, as retrieval needs it."""

    chunk_id: int
    doc_id: str
    seq: int
    page_start: int
    page_end: int
    char_start: int
    char_end: int
    text: str
    language: str
    n_tokens: int
    heading: str
    title: str
    file: str
    publisher: str
    page_label: str = ""  # printed label of page_start when the PDF defines one
    ocr: bool = False  # page_start was read by OCR
    kind: str = "pdf"  # the document's kind ("docx" and "html" have sections, not pages)


def current_version_dir(index_dir: Path) -> Path | None:
    """The version directory that ``CURRENT`` names, or None when there is no index yet."""
    path = index_dir / CURRENT
    try:
        name = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except NotADirectoryError as exc:
        raise IndexMissingError(f"The index path {index_dir} is a file, not a folder; point --index (or "
                                "SESAM_INDEX_DIR) at the index folder.") from exc
    except UnicodeDecodeError as exc:
        raise IndexCorruptError(f"{path} is not text, so it does not name a version; {recover(index_dir)}.") from exc
    except OSError as exc:  # this user may not read it, or it is a folder
        raise IndexCorruptError(unreadable(path, exc, index_dir)) from exc
    if not name or "/" in name or name.startswith("."):
        raise IndexCorruptError(f"{index_dir / CURRENT} does not name a version; {recover(index_dir)}.")
    return index_dir / "versions" / name


def _filter_sql(filters) -> tuple[str, list]:
    clauses, args = [], []
    for column, values in (("c.doc_id", getattr(filters, "doc_ids", ())),
                           ("c.language", getattr(filters, "languages", ())),
                           ("d.publisher", getattr(filters, "publishers", ()))):
        if values:
            clauses.append(f"{column} IN ({','.join('?' * len(values))})")
            args.extend(values)
    return (" AND ".join(clauses), args)


def _load_vectors(path: Path, matrix: str, faiss_file: str, info: dict, n: int, what: str):
    """The memory-mapped float32 matrix and the FAISS index over it, both checked to hold ``n`` rows."""
    from ingest.vectors import VectorIndex

    try:
        vectors = np.load(path / matrix, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise IndexCorruptError(cannot_read(path / matrix, exc, path)) from exc
    index = VectorIndex.load(path / faiss_file, info.get("kind", "flat"), info.get("params", {}))
    if index.ntotal != n or vectors.shape[0] != n:
        raise IndexCorruptError(f"The index at {path} holds {index.ntotal} vectors in {faiss_file} and "
                                f"{vectors.shape[0]} rows in {matrix} for {n} {what}; {recover_version(path)}.")
    return vectors, index


def _load_latent(path: Path, name: str, n: int) -> np.ndarray:
    """A memory-mapped latent-term file (ingest/latent.py), checked to hold ``n`` rows of the expected type."""
    try:
        rows = np.load(path / name, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise IndexCorruptError(cannot_read(path / name, exc, path)) from exc
    if rows.dtype != LATENT_DTYPE or rows.shape != (n,):
        raise IndexCorruptError(f"{path / name} holds {rows.shape[0] if rows.ndim else 0} rows of {rows.dtype}, "
                                f"not {n} latent-term rows; {recover_version(path)}.")
    return rows


class _Handle:
    """One thread's metadata connection, closed as soon as the thread lets go of it (a connection alone would wait
    for the garbage collector: its statement cache refers back to it)."""

    __slots__ = ("conn", "__weakref__")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __del__(self) -> None:
        self.conn.close()


class IndexVersion:
    """One immutable index version, opened read-only; safe to share between threads."""

    def __init__(self, path: Path, manifest: dict) -> None:
        self.path = path
        self.manifest = manifest
        self._local = threading.local()
        # every live thread's connection, so that ``close`` can close them all; held weakly, so that a thread's
        # connection closes when the thread ends (a server's worker threads come and go)
        self._connections: weakref.WeakSet[_Handle] = weakref.WeakSet()
        self._connections_lock = threading.Lock()
        self._lexicon = Lexicon(self._db, self.stats, path)
        n = manifest["counts"]["chunks"]
        self._embeddings, self._vectors = _load_vectors(path, "embeddings.npy", "vectors.faiss",
                                                        manifest.get("vector_index", {}), n, "chunks")
        try:
            count = self._db().execute("SELECT count(*) FROM chunks").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise IndexCorruptError(cannot_read(path / "meta.sqlite", exc, path)) from exc
        if count != n:
            raise IndexCorruptError(f"{path / 'meta.sqlite'} holds {count} chunks, the manifest says {n}; "
                                    f"{recover_version(path)}.")
        self._window_vectors = self._window_index = None
        if "windows" in manifest["counts"]:  # format 4: vectors of short windows beside each chunk's own
            self._window_vectors, self._window_index = _load_vectors(
                path, "windows.npy", "windows.faiss", manifest.get("window_index", {}), manifest["counts"]["windows"],
                "windows")
        self._latent = None  # (chunk rows, window rows) of latent terms, when the version has them
        if manifest.get("latent"):
            self._latent = tuple(_load_latent(path, name, rows) for name, rows in
                                 zip(LATENT_FILES, (n, manifest["counts"].get("windows", 0)), strict=True))

    @classmethod
    def open(cls, index_dir: Path, *, embedder_spec: str | None = None, verify: bool = False) -> IndexVersion:
        """Open the served version of ``index_dir``; with ``verify`` every checksum is recomputed."""
        version = current_version_dir(index_dir)
        if version is None:
            raise IndexMissingError(f"There is no index at {index_dir}; run {ingest_command(index_dir)} first.")
        if not version.is_dir():
            raise IndexCorruptError(f"{index_dir / CURRENT} names {version.name}, which does not exist; "
                                    f"{recover(index_dir)}.")
        manifest = read_manifest(version)
        check_files(version, manifest, checksums=verify)
        built_with = manifest["embedder"]["spec"]
        if embedder_spec and embedder_spec != built_with:
            rebuild = ingest_command(index_dir, "--rebuild", "--embedder", embedder_spec,
                                     corpus_dir=built_from(manifest))
            raise IndexMismatchError(f"The index at {index_dir} was built with the embedder {built_with!r}, not "
                                     f"{embedder_spec!r}; query it without --embedder, or rebuild it with {rebuild}.")
        return cls(version, manifest)

    def check_embedder(self, embedder) -> None:
        """Refuse to query with an embedder other than the one the index was built with: same spec is not
        enough when the model behind it changed (another model at the same path, another dimension)."""
        built = self.manifest["embedder"]
        if embedder.identity != built["identity"] or int(embedder.dim) != int(built["dim"]):
            rebuild = ingest_command(self.path.parent.parent, "--rebuild", "--embedder", built["spec"],
                                     corpus_dir=built_from(self.manifest))
            raise IndexMismatchError(
                f"The index at {self.path.parent.parent} was built with {built['identity']!r} (dim {built['dim']}), "
                f"but the embedder loaded for {built['spec']!r} is {embedder.identity!r} (dim {embedder.dim}); "
                f"its vectors would not be comparable. Rebuild with {rebuild}."
            )

    def _db(self) -> sqlite3.Connection:
        handle = getattr(self._local, "handle", None)
        if handle is None:
            uri = f"file:{(self.path / 'meta.sqlite').as_posix()}?mode=ro&immutable=1"
            handle = _Handle(sqlite3.connect(uri, uri=True, check_same_thread=False))
            self._local.handle = handle
            with self._connections_lock:
                self._connections.add(handle)
        return handle.conn

    # --- metadata -------------------------------------------------------------------------
    def documents(self) -> list[DocumentMeta]:
        rows = self._db().execute(f"SELECT {_DOC_COLUMNS} FROM documents ORDER BY doc_id").fetchall()
        return [DocumentMeta(*row) for row in rows]

    def document(self, doc_id: str) -> DocumentMeta | None:
        row = self._db().execute(f"SELECT {_DOC_COLUMNS} FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return DocumentMeta(*row) if row else None

    def n_pages(self, doc_id: str) -> int:
        row = self._db().execute("SELECT n_pages FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return int(row[0]) if row else 0

    @property
    def has_page_info(self) -> bool:
        if not hasattr(self, "_has_page_info"):
            self._has_page_info = self._db().execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'page_info'").fetchone() is not None
        return self._has_page_info

    def _page_sql(self, where: str) -> str:
        if not self.has_page_info:
            return f"SELECT c.number, c.text, '', 0 FROM pages c WHERE {where}"
        return (f"SELECT c.number, c.text, coalesce(pi.label, ''), coalesce(pi.ocr, 0) FROM pages c LEFT JOIN "
                f"page_info pi ON pi.doc_id = c.doc_id AND pi.number = c.number WHERE {where}")

    def page_counts(self) -> dict[str, int]:
        """Pages per document, from the stored counts (one query)."""
        return {doc_id: int(n) for doc_id, n in self._db().execute("SELECT doc_id, n_pages FROM documents")}

    def pages(self, doc_id: str, first: int = 1, limit: int = -1) -> list[Page]:
        """The pages numbered ``first`` and on, at most ``limit`` of them (-1: all)."""
        rows = self._db().execute(self._page_sql("c.doc_id = ? AND c.number >= ? ORDER BY c.number LIMIT ?"),
                                  (doc_id, first, limit))
        return [Page(doc_id, number, text, label, bool(ocr)) for number, text, label, ocr in rows]

    def page(self, doc_id: str, number: int) -> Page | None:
        row = self._db().execute(self._page_sql("c.doc_id = ? AND c.number = ?"), (doc_id, number)).fetchone()
        return Page(doc_id, row[0], row[1], row[2], bool(row[3])) if row else None

    def chunks(self, ids: Sequence[int]) -> list[ChunkRecord]:
        """Chunk records in the order of ``ids`` (unknown ids are skipped)."""
        ids = [int(i) for i in ids if int(i) >= 0]
        if not ids:
            return []
        extra, join = (_PAGE_INFO_COLUMNS, _PAGE_INFO_JOIN) if self.has_page_info else (", '', 0", "")
        rows = self._db().execute(
            f"SELECT {_CHUNK_COLUMNS}{extra}, d.kind FROM chunks c JOIN documents d USING (doc_id){join} "
            f"WHERE c.chunk_id IN ({','.join('?' * len(ids))})", ids).fetchall()
        by_id = {row[0]: ChunkRecord(*row[:-2], bool(row[-2]), row[-1] or "pdf") for row in rows}
        return [by_id[i] for i in ids if i in by_id]

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        return np.asarray(self._embeddings[np.asarray(ids, dtype=np.int64)], dtype=np.float32)

    # --- windows --------------------------------------------------------------------------
    @property
    def has_windows(self) -> bool:
        return self._window_index is not None and self._window_index.ntotal > 0

    def window_search(self, qvec: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top ``k`` (window_id, cosine) over every window (approximate kinds are re-ranked exactly)."""
        if not self.has_windows:
            return []
        qvec = np.asarray(qvec, dtype=np.float32).reshape(-1)
        if self._window_index.kind == "flat":
            scores, ids = self._window_index.search(qvec[None, :], k)
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        _, ids = self._window_index.search(qvec[None, :], k * RERANK_FACTOR)
        candidates = np.sort(ids[0][ids[0] >= 0])
        exact = self.window_vectors(candidates) @ qvec
        top = np.argsort(-exact)[:k]
        return [(int(candidates[i]), float(exact[i])) for i in top]

    def windows_of(self, chunk_ids: Sequence[int]) -> list[tuple[int, int, int, int]]:
        """(window_id, chunk_id, char_start, char_end) of every window of the given chunks."""
        ids = [int(i) for i in chunk_ids]
        if not ids or not self.has_windows:
            return []
        return self._db().execute(
            f"SELECT window_id, chunk_id, char_start, char_end FROM windows WHERE chunk_id IN ({','.join('?' * len(ids))})"
            " ORDER BY window_id", ids).fetchall()

    def window_chunks(self, window_ids: Sequence[int]) -> dict[int, int]:
        """window_id -> chunk_id."""
        ids = [int(i) for i in window_ids]
        if not ids:
            return {}
        return dict(self._db().execute(
            f"SELECT window_id, chunk_id FROM windows WHERE window_id IN ({','.join('?' * len(ids))})", ids))

    def window_vectors(self, ids: Sequence[int]) -> np.ndarray:
        return np.asarray(self._window_vectors[np.asarray(ids, dtype=np.int64)], dtype=np.float32)

    # --- latent terms ---------------------------------------------------------------------
    @property
    def has_latent(self) -> bool:
        return self._latent is not None

    def latent_rows(self, chunk_ids: Sequence[int], window_ids: Sequence[int] = ()) -> tuple[np.ndarray, np.ndarray]:
        """The latent-term rows (ingest/latent.py) of the given chunks and windows."""
        chunks, windows = self._latent
        return (np.asarray(chunks[np.asarray(chunk_ids, dtype=np.int64)]),
                np.asarray(windows[np.asarray(window_ids, dtype=np.int64)]))

    # --- search ---------------------------------------------------------------------------
    def chunk_ids_where(self, filters) -> np.ndarray | None:
        """Ids allowed by ``filters`` (doc_ids, languages, publishers), or None when nothing is filtered."""
        where, args = _filter_sql(filters) if filters else ("", [])
        if not where:
            return None
        rows = self._db().execute(
            f"SELECT c.chunk_id FROM chunks c JOIN documents d USING (doc_id) WHERE {where}", args).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    def dense_search(self, qvec: np.ndarray, k: int, allowed_ids: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (chunk_id, cosine) for one query vector; exact over the allowed set when it is small."""
        qvec = np.asarray(qvec, dtype=np.float32).reshape(-1)
        if allowed_ids is not None and len(allowed_ids) <= EXACT_FILTER_MAX:
            if len(allowed_ids) == 0:
                return []
            scores = self.vectors(allowed_ids) @ qvec
            top = np.argsort(-scores)[:k]
            return [(int(allowed_ids[i]), float(scores[i])) for i in top]
        if self._vectors.kind == "flat":
            scores, ids = self._vectors.search(qvec[None, :], k, allowed_ids)
            return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]
        _, ids = self._vectors.search(qvec[None, :], k * RERANK_FACTOR, allowed_ids)
        candidates = np.sort(ids[0][ids[0] >= 0])  # sorted ids read the memory map in order
        exact = self.vectors(candidates) @ qvec  # quantised scores are re-ranked with the float32 vectors
        top = np.argsort(-exact)[:k]
        return [(int(candidates[i]), float(exact[i])) for i in top]

    def lexical_search(self, stems: Sequence[str], k: int, allowed_ids: np.ndarray | None = None, *,
                       exhaustive: bool = False) -> list[tuple[int, float]]:
        """Top ``k`` (chunk_id, BM25) for a bag of stems, at a bounded cost whatever the corpus size
        (see ``ingest.lexicon``); ``exhaustive`` scores every posting instead, for measuring recall."""
        return self._lexicon.search(stems, k, allowed_ids, exhaustive=exhaustive)

    def known_terms(self, stems: Sequence[str]) -> set[str]:
        """Which of ``stems`` occur anywhere in the indexed text."""
        return set(self._lexicon.df(list(dict.fromkeys(stems))))

    def idf(self, stems: Sequence[str]) -> dict[str, float]:
        """BM25's inverse document frequency of those of ``stems`` that occur in the indexed text."""
        return self._lexicon.idf(list(dict.fromkeys(stems)))

    def stats(self) -> dict[str, float]:
        if not hasattr(self, "_stats"):
            self._stats = dict(self._db().execute("SELECT key, value FROM stats"))
        return self._stats

    def lexical_scores(self, stems: Sequence[str], ids: Sequence[int]) -> dict[int, float]:
        """BM25 of the given chunks for a bag of stems, with the whole index's statistics: a few index
        lookups whatever the corpus size; hybrid retrieval only needs these few candidates."""
        return self._lexicon.scores(stems, ids)

    def close(self) -> None:
        """Close the metadata connections of every thread. A call that reads the version afterwards opens a new one
        (the files are immutable), so closing a version that a slow call still uses does not fail it."""
        with self._connections_lock:
            connections, self._connections = list(self._connections), weakref.WeakSet()
            self._local = threading.local()
        for handle in connections:
            handle.conn.close()
