"""Generative answers stream as the model writes them, through the real HTTP service; only checked sentences."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from assistant.api.app import create_app
from tests.assistant.api.conftest import live_server
from tests.conftest import make_settings
from tests.llmserver import FakeLLM

QUESTION = "Vad är ett arbetsintegrerande socialt företag?"


def timed_events(url: str, question: str) -> list[tuple[float, str, dict]]:
    events, started = [], time.monotonic()
    with httpx.stream("POST", f"{url}/v1/ask/stream", json={"question": question}, timeout=30) as response:
        assert response.status_code == 200
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                events.append((time.monotonic() - started, kind, json.loads(line[6:])))
    return events


def test_generated_sentences_arrive_while_the_model_writes(shipped_index: Path) -> None:
    with FakeLLM() as llm:
        llm.chunk_delay_s = 0.15
        llm.reply = lambda m: ("Ett ASF säljer arbetsträning till offentlig sektor [1]. "
                               "Det är helt säkert bäst i världen. "
                               "Överskottet går tillbaka till verksamheten [1].")
        settings = make_settings(index_dir=shipped_index, llm_url=llm.url, rate_limit_per_minute=0)
        with live_server(create_app(settings)) as url:
            events = timed_events(url, QUESTION)
    kinds = [kind for _, kind, _ in events]
    assert kinds[0] == "citations" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"}
    deltas = [(at, data["text"]) for at, kind, data in events if kind == "delta"]
    done_at, done = events[-1][0], events[-1][2]["answer"]
    assert done["mode"] == "generative"
    assert done["answer"] == ("Ett ASF säljer arbetsträning till offentlig sektor [1]. "
                              "Överskottet går tillbaka till verksamheten [1].")
    assert "".join(text for _, text in deltas).strip() == done["answer"]
    assert not any("bäst i världen" in text for _, text in deltas)  # an uncited sentence is never shown
    # 19 words at 0.15 s: the first sentence is out when the second begins, seconds before the model is done
    assert deltas[0][0] < done_at - 1.0, (deltas[0][0], done_at)


def test_a_generated_reply_that_fails_its_checks_streams_the_extractive_answer(shipped_index: Path) -> None:
    with FakeLLM() as llm:
        llm.reply = lambda m: "Inga källor här. Inte heller här."
        settings = make_settings(index_dir=shipped_index, llm_url=llm.url, rate_limit_per_minute=0)
        with live_server(create_app(settings)) as url:
            events = timed_events(url, QUESTION)
    done = events[-1][2]["answer"]
    assert done["mode"] == "extractive" and done["answer"].startswith("Enligt")
    assert "".join(data["text"] for _, kind, data in events if kind == "delta") == done["answer"]
