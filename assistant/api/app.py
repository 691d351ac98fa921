"""The app factory: routers, middleware (CORS, body limits, rate limits) and error bodies without internals."""

from __future__ import annotations

import logging
from collections import Counter

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.api.holder import AssistantHolder
from assistant.api.limits import BodyLimit, RateLimit
from assistant.api.reingest import ReingestJob
from assistant.api.routers import admin, ask, documents, health, search, widget
from assistant.engine import Assistant
from ingest.errors import IndexError_, QueryError, SesamError
from ingest.settings import Settings

log = logging.getLogger("sesam.http")


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "Invalid request (" + "; ".join(parts) + ")."


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    """Build the service. Without an index it starts anyway and answers 503 until one appears."""
    app = FastAPI(title="sesam", version="1", summary="Cited answers about the social economy.",
                  description="Answers in Swedish or English with citations (document, page) from the indexed "
                              "documents, or an explicit abstention when they do not answer.")
    holder = AssistantHolder(settings, assistant)
    if assistant is None:
        holder.refresh()
    app.state.settings = settings
    app.state.holder = holder
    app.state.counters = Counter()
    app.state.reingest = ReingestJob(settings, on_done=holder.refresh)

    for module in (ask, search, documents, health, admin, widget):
        app.include_router(module.router)

    @app.middleware("http")
    async def count(request: Request, call_next):
        response = await call_next(request)
        app.state.counters[f"{response.status_code // 100}xx"] += 1
        app.state.counters["total"] += 1
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not parse the body: a client error like any invalid input
            if request.headers.get("content-type", "").lower().startswith("multipart/"):
                return JSONResponse({"detail": "The request body is not valid multipart/form-data; send the file "
                                               "as the form field 'file'."}, status_code=422)
            return JSONResponse({"detail": "The request body is not valid JSON in UTF-8."}, status_code=422)
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(SesamError)
    async def sesam_error(request: Request, exc: SesamError) -> JSONResponse:
        status = 422 if isinstance(exc, QueryError) else 503 if isinstance(exc, IndexError_) else 500
        if status == 500:
            log.error("request failed: %s", exc)
            return JSONResponse({"detail": "The request could not be completed; try again later."}, status_code=500)
        return JSONResponse({"detail": str(exc).split(" at /")[0]}, status_code=status)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s", request.url.path)
        return JSONResponse({"detail": "Internal error; the request could not be completed."}, status_code=500)

    app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute)
    app.add_middleware(RateLimit, per_minute=settings.admin_rate_limit_per_minute, prefixes=("/v1/admin",),
                       what="admin requests")
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes + 64 * 1024,
                       upload_path="/v1/admin/documents")
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "X-API-Key"], max_age=600)
    return app
