"""The chunk sink of a build: chunks are embedded a batch at a time, their vectors appended to scratch files and
their rows inserted, so chunk ids and vector rows stay in the same order (used by ingest/builder.py)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ingest.embedding import embed_in_batches
from ingest.latent import pack
from ingest.stemming import index_text
from ingest.types import Chunk
from ingest.windows import window_spans

if TYPE_CHECKING:
    from ingest.builder import VersionBuilder

NEW_VECTORS = "new-vectors.f32"  # scratch file of the build: new vectors in chunk order, removed at the end
NEW_WINDOWS = "new-windows.f32"  # likewise for the new window vectors
NEW_LATENT = ("new-latent-chunks.bin", "new-latent-windows.bin")  # likewise for latent terms (ingest/latent.py)
SINK_BATCH = 256  # chunks embedded and written together (memory stays bounded, whatever the corpus)


def passage_text(title: str, chunk: Chunk) -> str:
    """What is embedded for a chunk: its own text, and for a page that starts mid-sentence, the heading and
    the unfinished sentence it continues (docs/retrieval.md). (Prefixing the document title was measured and
    hurt: dense MRR@10 on the development set fell from 0.81 to 0.73, because every chunk of a document then
    shares the same words.)"""
    if chunk.lead:
        return f"{chunk.lead} {chunk.text}"
    return chunk.text


def fts_body(title: str, heading: str, text: str, language: str) -> str:
    """What lexical search indexes for a chunk (``chunks_fts``): the document's title, the chunk's heading and its
    text, stemmed in the chunk's language. (The title is here, not in the embedded text: a new title re-indexes
    these rows, it embeds nothing.)"""
    return index_text(f"{title} {heading} {text}", language)


class ChunkSink:
    """Collects chunks across documents and, a batch at a time, embeds them, appends their vectors to the
    scratch file and inserts their rows, so chunk ids and vector rows stay in the same order."""

    def __init__(self, builder: VersionBuilder, conn: sqlite3.Connection, scratch: Path, window_scratch: Path,
                 start_id: int, start_window: int) -> None:
        self._builder = builder
        self._conn = conn
        self._fh = scratch.open("wb")
        self._window_fh = window_scratch.open("wb")
        self._latent_fh = ([(builder.folder / name).open("wb") for name in NEW_LATENT]
                           if builder.latent is not None else [])
        self.next_id = start_id
        self.next_window = start_window
        self._buffer: list[tuple[str, Chunk]] = []
        self.count = 0  # chunks embedded and written
        self.window_count = 0  # windows embedded and written
        self.on_embedding: Callable[[int], None] | None = None  # a batch of this many chunks is being embedded
        self.on_flush: Callable[[int, int, float], None] | None = None  # chunks embedded so far, in this batch,
        # and the seconds the batch took: a log says what the long silent part of a run was
        self.on_progress: Callable[[float], None] | None = None  # chunks embedded, counting part of a batch

    def add(self, title: str, chunks: list[Chunk]) -> None:
        self._buffer.extend((title, c) for c in chunks)
        if len(self._buffer) >= max(self._builder.settings.embed_batch_size, SINK_BATCH):
            self.flush()

    def flush(self) -> None:
        if not self._buffer:
            return
        builder = self._builder
        if self.on_embedding is not None:
            self.on_embedding(len(self._buffer))
        t0 = started = time.perf_counter()
        texts = [passage_text(title, c) for title, c in self._buffer]
        spans = [window_spans(c.text) if builder.settings.passage_windows else [] for _, c in self._buffer]
        texts += [c.text[s:e] for (_, c), chunk_spans in zip(self._buffer, spans, strict=True) for s, e in chunk_spans]
        batch, n = builder.settings.embed_batch_size, len(self._buffer)
        work, done = len(texts) * (2 if self._latent_fh else 1), 0

        def step(k: int) -> None:  # the progress bar follows each embedder call, in chunks (a fraction of this batch)
            nonlocal done
            done += k
            if self.on_progress is not None:
                self.on_progress(self.count + n * done / work)

        vectors = embed_in_batches(builder.embedder.embed_passages, texts, builder.embedder.dim, batch, step)
        latent = None
        if self._latent_fh:
            terms = []
            for start in range(0, len(texts), batch):
                terms += builder.embedder.embed_latent(texts[start:start + batch])
                step(len(texts[start:start + batch]))
            latent = pack(terms)
        builder.timings["embed"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        self._fh.write(np.ascontiguousarray(vectors[:n], dtype=np.float32).tobytes())
        self._window_fh.write(np.ascontiguousarray(vectors[n:], dtype=np.float32).tobytes())
        if latent is not None:
            self._latent_fh[0].write(latent[:n].tobytes())
            self._latent_fh[1].write(latent[n:].tobytes())
        rows, fts, windows = [], [], []
        for (title, c), chunk_spans in zip(self._buffer, spans, strict=True):
            rows.append((self.next_id, c.doc_id, c.seq, c.page_start, c.page_end, c.char_start, c.char_end, c.text,
                         c.language, c.n_tokens, c.heading))
            fts.append((self.next_id, fts_body(title, c.heading, c.text, c.language)))
            for s, e in chunk_spans:
                windows.append((self.next_window, self.next_id, s, e))
                self.next_window += 1
            self.next_id += 1
        self._conn.executemany("INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
        self._conn.executemany("INSERT INTO chunks_fts (rowid, body) VALUES (?, ?)", fts)
        self._conn.executemany("INSERT INTO windows VALUES (?,?,?,?)", windows)
        self.window_count += len(windows)
        builder.timings["write"] += time.perf_counter() - t0
        n = len(self._buffer)
        self.count += n
        builder.embedded_chunks += n
        self._buffer.clear()
        if self.on_flush is not None:
            self.on_flush(self.count, n, time.perf_counter() - started)

    def close(self) -> None:
        self.flush()
        self._fh.close()
        self._window_fh.close()
        for fh in self._latent_fh:
            fh.close()
