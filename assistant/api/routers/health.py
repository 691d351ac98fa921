"""GET /v1/health (ready only with an index) and GET /v1/stats."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from assistant.api.schemas import HealthOut, StatsOut

router = APIRouter(prefix="/v1", tags=["service"])


@router.get("/health", response_model=HealthOut, responses={503: {"model": HealthOut}}, summary="Readiness")
async def health(request: Request):
    """On the event loop, not in the worker threads: answered even while every thread waits on a slow LLM."""
    holder = request.app.state.holder
    status, detail = holder.status()
    if status != "ready":
        return JSONResponse({"status": status, "version": None, "detail": detail}, status_code=503)
    return {"status": "ready", "version": holder.get().info()["version"], "detail": None}


@router.get("/stats", response_model=StatsOut, summary="Index and service counters")
def stats(request: Request) -> dict:
    assistant = request.app.state.holder.get()
    return {"index": assistant.info() if assistant else None, "requests": dict(request.app.state.counters),
            "reingest": request.app.state.reingest.status()}
