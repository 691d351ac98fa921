"""Progress of `sesam ingest` over loading and embedding, with an estimate of the time left weighted by file size.

The builder calls ``update(1)`` after each document it loads, in the plan's order, then ``chunked(n)`` with
its number of chunks (0 when it failed), and ``embedded(chunks)`` as the embedder works through them (after
every embedder call, i.e. every few seconds). Each document weighs its size for loading and ``EMBED_WEIGHT``
times its size for embedding, which takes most of the time (before, the bar stood at 100 % and "about 00:00
left" during the whole embedding); its embedding weight is spread evenly over its chunks. So a 300-page report
weighs more than a one-page note, and the estimate of the time left follows the work. The bar names the
document being read next. Scanned PDFs weigh 20 times their
size: OCR costs far more per byte than reading a text layer (bench/ocr_bench.py); while a document's scanned
pages are read, ``ocr_page`` shows how many are done ("OCR 3/40 pages"; one page: "OCR, 1 page"), so a long scan
does not look stuck.

Where standard error is not a terminal (CI logs, systemd's journal) a bar redrawn with carriage returns is noise:
:class:`LineProgress` writes one plain line per document read instead ("[3/12] rapport: 14 pages, 2.1 s"), and
one line before and one after each batch of chunks is embedded ("embedding 28 chunks...", "embedded 28 chunks,
8.6 s"). Embedding is most of a run and happens a batch at a time, across documents and mostly after the last one
is read, so it gets lines of its own: before, a document's time silently held the embedding of whichever batch it
filled, and the last batch ran for minutes after the last line, so the log looked hung. The builder calls
``finished(doc_id, pages)`` on either when a document is read, before its chunks are handed over (``failed``: why
not), and ``embedding(n)`` and ``batch_embedded(total, n, seconds)`` around each batch."""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from ingest.safetext import printable

SCANNED_WEIGHT = 20
EMBED_WEIGHT = 20  # embedding a text PDF's chunks takes about 20 times as long as reading it, or longer
BAR, LINES = "bar", "lines"  # the two kinds of progress `run_ingest(progress=...)` takes (True: the bar)


def make_progress(kind: bool | str, documents: Sequence[tuple[str, Path]]) -> DocumentProgress | LineProgress:
    """The progress display of ``kind`` (``LINES``, else the bar) over ``documents`` (doc id, path)."""
    return LineProgress(documents) if kind == LINES else DocumentProgress(documents)


class DocumentProgress(tqdm):
    """A tqdm bar over the documents to load: ``update(1)`` per document, progress and ETA in weighted bytes."""

    def __init__(self, documents: Sequence[tuple[str, Path]], **kwargs) -> None:
        self._documents = list(documents)
        self._sizes = [_weight(path) for _, path in self._documents]
        self._embed_weights = [EMBED_WEIGHT * _size(path) for _, path in self._documents]
        self._pending: deque[list[float]] = deque()  # [weight per chunk, chunks left] of documents chunked
        self._credited = 0.0  # chunks embedded so far, as counted by embedded()
        self._done = 0
        self._embedded = 0
        self._ocr = ""
        kwargs.setdefault("leave", False)
        super().__init__(total=sum(self._sizes) + sum(self._embed_weights) or None, unit="B", unit_scale=True,
                         unit_divisor=1024,
                         bar_format="{percentage:3.0f}%|{bar:20}| {desc} [{elapsed}, about {remaining} left]",
                         **kwargs)
        self._show()

    def _show(self) -> None:
        n = len(self._documents)
        if self._done < n:
            what = f"document {self._done + 1}/{n}: {self._documents[self._done][1].name}{self._ocr}"
        else:
            what = f"{n}/{n} documents read; embedding"
        if self._embedded:
            what += f"; {self._embedded:,} chunks embedded"
        self.set_description_str(what, refresh=True)

    def update(self, n: float | None = 1) -> bool | None:  # one document finished (whatever n says)
        if self._done >= len(self._sizes):
            return None
        size = self._sizes[self._done]
        self._done += 1
        self._ocr = ""
        self._show()
        return super().update(size)

    def chunked(self, n_chunks: int) -> None:
        """The document just loaded has ``n_chunks`` chunks to embed (0: it failed, its embedding weight is done)."""
        weight = self._embed_weights[self._done - 1] if 0 < self._done <= len(self._embed_weights) else 0
        if n_chunks <= 0:
            super().update(weight)
        else:
            self._pending.append([weight / n_chunks, n_chunks])

    def embedded(self, chunks: float) -> None:
        """``chunks`` chunks (a fraction counts part of a batch) of the documents chunked so far are embedded."""
        todo, self._credited = max(0.0, chunks - self._credited), max(self._credited, chunks)
        weight = 0.0
        while todo > 1e-9 and self._pending:
            head = self._pending[0]
            take = min(todo, head[1])
            weight += take * head[0]
            head[1] -= take
            todo -= take
            if head[1] <= 1e-9:
                self._pending.popleft()
        if weight:
            super().update(weight)

    def ocr_page(self, done: int, total: int) -> None:
        """The document being read has ``done`` of its ``total`` scanned pages read by OCR."""
        self._ocr = f" ({ocr_label(done, total)})"
        self._show()

    def set_postfix(self, ordered_dict=None, refresh=True, **kwargs) -> None:
        """The builder reports chunks embedded; shown after the document being read."""
        if "chunks_embedded" in kwargs:
            self._embedded = int(kwargs["chunks_embedded"])
            self.embedded(self._embedded)
            self._show()
            return
        super().set_postfix(ordered_dict, refresh, **kwargs)

    def finished(self, doc_id: str, pages: int, failed: str = "") -> None:
        """The bar has moved already (``update``); nothing more to show."""

    def embedding(self, n_chunks: int) -> None:
        """The bar follows the batch through ``embedded``; nothing more to show."""

    def batch_embedded(self, total: int, n_chunks: int, seconds: float) -> None:
        """A batch is done: ``total`` chunks are embedded so far, shown after the document being read."""
        self.set_postfix(chunks_embedded=total)


class LineProgress:
    """Plain lines for a log: one per document read, ``[i/n] doc-id: P pages, T s`` (T: since the line before,
    the time to read and chunk it) or ``[i/n] doc-id: failed: reason``, and two per batch of chunks embedded,
    ``embedding N chunks...`` and ``embedded N chunks, T s``. No carriage returns, no bar."""

    def __init__(self, documents: Sequence[tuple[str, Path]], file: TextIO | None = None) -> None:
        self._total = len(documents)
        self._done = 0
        self._file = file
        self._since = time.perf_counter()

    def finished(self, doc_id: str, pages: int, failed: str = "") -> None:
        self._done += 1
        now = time.perf_counter()
        what = f"failed: {printable(failed)}" if failed else f"{pages:,} page{'' if pages == 1 else 's'}, {now - self._since:.1f} s"
        self._say(f"[{self._done}/{self._total}] {printable(doc_id)}: {what}")

    def embedding(self, n_chunks: int) -> None:
        self._say(f"embedding {_chunks(n_chunks)}...", restart=False)  # the clock restarts when the batch is done

    def batch_embedded(self, total: int, n_chunks: int, seconds: float) -> None:
        self._say(f"embedded {_chunks(n_chunks)}, {seconds:.1f} s")

    def _say(self, line: str, restart: bool = True) -> None:
        print(line, file=self._file or sys.stderr, flush=True)
        if restart:
            self._since = time.perf_counter()

    def update(self, n: float | None = 1) -> None:
        pass

    def chunked(self, n_chunks: int) -> None:
        pass

    def embedded(self, chunks: float) -> None:
        pass

    def ocr_page(self, done: int, total: int) -> None:
        pass

    def set_postfix(self, **kwargs) -> None:
        pass

    def close(self) -> None:
        pass


def _chunks(n: int) -> str:
    return f"{n:,} chunk{'' if n == 1 else 's'}"


def ocr_label(done: int, total: int) -> str:
    """How far the OCR of a document's ``total`` scanned pages is: ``OCR 3/40 pages``; a single page has no count
    to follow, so ``OCR, 1 page`` (not ``OCR 1/1 pages``)."""
    if total == 1:
        return "OCR, 1 page"
    return f"OCR {done:,}/{total:,} pages"


def _size(path: Path) -> int:
    try:
        return max(1, path.stat().st_size)
    except OSError:
        return 1


def _weight(path: Path) -> int:
    size = _size(path)
    if path.suffix.lower() == ".pdf" and size > 1 and _looks_scanned(path):
        return size * SCANNED_WEIGHT
    return size


def _looks_scanned(path: Path) -> bool:
    """A cheap guess from the first 64 KB: images and no fonts."""
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    return b"/Image" in head and b"/Font" not in head
