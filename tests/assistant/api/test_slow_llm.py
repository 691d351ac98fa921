"""A slow LLM endpoint must not take the service down: LLM calls are limited, the rest answer extractively,
and /v1/health is served regardless. A real uvicorn server and a real (slow) OpenAI-compatible endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from assistant.api.app import create_app
from tests.assistant.api.conftest import live_server
from tests.conftest import make_settings
from tests.llmserver import FakeLLM


@contextmanager
def slow_llm_service(index: Path, **limits) -> Iterator[tuple[FakeLLM, str]]:
    """An endpoint that takes 8 s per call, and a real server in generative mode using it."""
    with FakeLLM() as llm:
        llm.delay_s = 8.0
        settings = make_settings(index_dir=index, llm_url=llm.url, rate_limit_per_minute=0, **limits)
        with live_server(create_app(settings)) as url:
            yield llm, url


def test_sixty_questions_to_a_slow_llm_leave_health_and_answers_working(shipped_index: Path) -> None:
    with slow_llm_service(shipped_index, llm_max_concurrent=2, llm_queue_timeout_s=0.5) as (llm, url):
        results: list[str] = []

        def ask(i: int) -> None:
            try:
                r = httpx.post(f"{url}/v1/ask", json={"question": f"Vad gör ett socialt företag? ({i})"},
                               timeout=30.0)
                results.append(r.json()["mode"] if r.status_code == 200 else str(r.status_code))
            except httpx.TimeoutException:
                results.append("timeout")

        clients = [threading.Thread(target=ask, args=(i,)) for i in range(60)]
        for c in clients:
            c.start()
        time.sleep(4.0)  # the questions are retrieved; the ones with an LLM slot wait for it until 8 s
        started = time.perf_counter()
        health = httpx.get(f"{url}/v1/health", timeout=10)
        health_s = time.perf_counter() - started
        for c in clients:
            c.join()
        # before: health waited for a worker thread, i.e. for the 8 s LLM calls
        assert health.status_code == 200 and health_s < 3.0, health_s
        assert len(llm.requests) <= 2  # never more calls in flight than llm_max_concurrent
        # two questions got the slots and a generative answer; the others waited 0.5 s and were answered extractively
        assert sorted(set(results)) == ["extractive", "generative"] and results.count("generative") <= 2, results


def test_the_llm_call_of_a_client_that_went_away_is_cancelled(shipped_index: Path) -> None:
    with slow_llm_service(shipped_index, llm_max_concurrent=1, llm_queue_timeout_s=30) as (llm, url):
        def leave_early() -> None:
            try:
                httpx.post(f"{url}/v1/ask", json={"question": "Vad gör ett socialt företag?"}, timeout=1.5)
            except httpx.TimeoutException:
                pass  # the client went away after 1.5 s

        leaver = threading.Thread(target=leave_early)
        leaver.start()
        time.sleep(2.5)
        started = time.perf_counter()
        answer = httpx.post(f"{url}/v1/ask", json={"question": "Vad är ett kooperativ?"}, timeout=60).json()
        took = time.perf_counter() - started
        leaver.join()
        assert len(llm.requests) == 2 and answer["mode"] == "generative"
        # the one slot was freed when the first client left: this question waited for no one. Before, it waited
        # for the abandoned call to end (8 s after it began), then 8 s more for its own: about 13.5 s
        assert took < 11.5, took
