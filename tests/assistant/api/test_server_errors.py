"""An unexpected error is answered like every other: JSON 500 with CORS headers, counted, logged once."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx

from assistant.api.app import create_app
from assistant.api.codes import INTERNAL
from assistant.api.routers import ask
from assistant.sessions import MemorySessions
from assistant.types import StreamEvent
from tests.assistant.api.conftest import live_server, sse_events
from tests.conftest import make_settings

ORIGIN = "https://kommun.example"


class FailingAssistant:
    """An index that opens but fails with a bug (not a SesamError) when asked anything."""

    sessions = MemorySessions(ttl_s=60)

    def reload(self) -> bool:
        return False

    def info(self) -> dict:
        return {"version": "v-test", "documents": 0}

    def document_ids(self) -> set[str]:
        return set()

    def ask(self, question, **kwargs):
        raise RuntimeError("bug in /srv/secret/engine.py")

    search = ask


def test_an_unexpected_error_is_json_with_cors_headers_and_logged_once(tmp_path: Path, caplog) -> None:
    settings = make_settings(index_dir=tmp_path, cors_origins=[ORIGIN], rate_limit_per_minute=0)
    app = create_app(settings, assistant=FailingAssistant())
    with caplog.at_level(logging.INFO), live_server(app, settings) as url:
        r = httpx.post(f"{url}/v1/ask", json={"question": "Vad är IOP?"}, headers={"Origin": ORIGIN})
    assert r.status_code == 500 and r.json()["code"] == "internal"
    assert r.json()["detail"].startswith("Internal error; ") and "secret" not in r.text
    assert r.headers["access-control-allow-origin"] == ORIGIN and "origin" in r.headers["vary"].lower()
    tracebacks = [rec for rec in caplog.records if rec.exc_info]
    assert len(tracebacks) == 1 and tracebacks[0].name == "sesam.http", [(x.name, x.getMessage()) for x in tracebacks]
    assert any(rec.name == "sesam.access" and rec.fields["status"] == 500 for rec in caplog.records)


def test_stats_count_every_answer_errors_and_refusals_included(tmp_path: Path) -> None:
    settings = make_settings(index_dir=tmp_path, rate_limit_per_minute=1, max_body_bytes=1024)
    with live_server(create_app(settings, assistant=FailingAssistant()), settings) as url:
        assert httpx.post(f"{url}/v1/ask", json={"question": "Vad är IOP?"}).status_code == 500
        assert httpx.post(f"{url}/v1/ask", json={"question": "Vad är IOP?"}).status_code == 429
        assert httpx.post(f"{url}/v1/search", json={"query": "x" * 2000}).status_code == 429  # before the size
        assert httpx.post(f"{url}/v1/health", content=b"x" * 2000).status_code == 413
        assert httpx.get(f"{url}/v1/health").status_code == 200
        requests = httpx.get(f"{url}/v1/stats").json()["requests"]
    assert requests == {"2xx": 1, "4xx": 3, "5xx": 1, "total": 5}


def test_a_body_nested_too_deeply_is_refused_as_such(tmp_path: Path) -> None:
    settings = make_settings(index_dir=tmp_path, rate_limit_per_minute=0)
    with live_server(create_app(settings, assistant=FailingAssistant()), settings) as url:
        r = httpx.post(f"{url}/v1/ask", content=b"[" * 30_000, headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and r.json()["detail"].startswith("The request body is nested too deeply")


def test_a_stream_that_breaks_off_unexpectedly_says_so_with_a_code(client, monkeypatch) -> None:
    def broken(*args, **kwargs):
        yield StreamEvent("citations", {"citations": [], "abstained": False})
        raise RuntimeError("bug in /srv/secret/engine.py")

    monkeypatch.setattr(ask, "stream_events", broken)
    r = client.post("/v1/ask/stream", json={"question": "Vad är IOP?"})
    kinds, data = zip(*sse_events(r.text))
    assert kinds == ("citations", "error") and "secret" not in r.text
    assert json.loads(data[1]) == {"detail": "The answer could not be completed; try again.", "code": INTERNAL}
