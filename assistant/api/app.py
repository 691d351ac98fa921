"""The app factory: routers, middleware (access log, CORS, rate limits, admin gate, body limit) and error bodies
without paths."""

from __future__ import annotations

import logging
from collections import Counter
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.api.codes import BY_STATUS, HTTP_ERROR, INVALID
from assistant.api.contract import HeadAsGet, JsonCORSMiddleware, allowed_methods, state_question_limit
from assistant.api.deps import ADMIN_PREFIX, UNKNOWN_PATH, CodedHTTPException
from assistant.api.docs import add_offline_docs
from assistant.api.failures import CatchUnexpected
from assistant.api.holder import AssistantHolder
from assistant.api.limits import AdminGate, BodyLimit, ClientAddress, RateLimit
from assistant.api.logs import AccessLog
from assistant.api.reingest import ReingestJob
from assistant.api.routers import admin, ask, documents, health, search, widget
from assistant.engine import Assistant
from ingest.errors import IndexError_, QueryError, SesamError
from ingest.settings import Settings

log = logging.getLogger("sesam.http")


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        if err.get("type") == "json_invalid":  # loc is ("body", <character offset>)
            at = err.get("loc", ("body", "?"))[-1]
            reason = (err.get("ctx") or {}).get("error", "it cannot be parsed")
            return f"The request body is not valid JSON: {str(reason).rstrip('.').lower()} at character {at}."
        if err.get("type") == "string_pattern_mismatch" and err.get("loc", ())[-1] in ("question", "query"):
            parts.append(f"{err['loc'][-1]}: must contain more than whitespace")
            continue
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {str(err.get('msg', 'invalid')).removeprefix('Value error, ')}")
    return "Invalid request (" + "; ".join(parts) + ")."


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    """Build the service. Without an index it starts anyway and answers 503 until one appears."""
    app = FastAPI(title="sesam", version="1", summary="Cited answers about the social economy.",
                  description="Answers in Swedish or English with citations (document, page) from the indexed "
                              "documents, or an explicit abstention when they do not answer.",
                  docs_url=None, redoc_url=None)
    add_offline_docs(app)
    holder = AssistantHolder(settings, assistant)
    if assistant is None:
        holder.refresh()
    app.state.settings = settings
    app.state.holder = holder
    app.state.counters = Counter()
    app.state.reingest = ReingestJob(settings, on_done=holder.refresh)

    # a path with a trailing slash is an unknown path: Starlette's redirect to the other spelling told that an admin
    # path exists while the admin API is off, and built its Location from the request's Host header
    app.router.redirect_slashes = False
    for module in (ask, search, documents, health, widget):
        app.include_router(module.router)
    app.include_router(admin.router, include_in_schema=settings.admin_api_key is not None)  # off: not in the spec
    state_question_limit(app, settings.max_question_chars)

    app.add_middleware(CatchUnexpected)  # innermost: its 500 passes through CORS, the counters and the access log
    app.add_middleware(HeadAsGet)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_message(exc), "code": INVALID}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not parse the body: a client error like any invalid input
            if request.headers.get("content-type", "").lower().startswith("multipart/"):
                return JSONResponse({"detail": "The request body is not valid multipart/form-data; send the file "
                                               "as the form field 'file'.", "code": INVALID}, status_code=422)
            if isinstance(exc.__cause__, RecursionError):  # json gives up on arrays or objects nested very deep
                return JSONResponse({"detail": "The request body is nested too deeply (arrays or objects inside "
                                               "each other); send the JSON the schema describes.", "code": INVALID},
                                    status_code=422)
            return JSONResponse({"detail": "The request body is not valid JSON in UTF-8.", "code": INVALID},
                                status_code=422)
        if exc.status_code == 405 and settings.admin_api_key is None and request.url.path.startswith(
                ADMIN_PREFIX + "/"):  # the admin API off: its paths do not exist, whatever the method
            exc = StarletteHTTPException(404)
        headers, detail = exc.headers, str(exc.detail)
        if exc.status_code == 405:  # Starlette names only the first matching route's methods
            allow = allowed_methods(app, request.scope)
            headers = {**(headers or {}), "Allow": ", ".join(allow)}
            if detail == HTTPStatus.METHOD_NOT_ALLOWED.phrase:
                detail = (f"This address does not accept the method {request.method}; use "
                          f"{' or '.join(allow)}. The endpoints and their methods are listed at /docs.")
        elif exc.status_code == 404 and detail == HTTPStatus.NOT_FOUND.phrase:  # an unknown path, the admin API off
            detail = UNKNOWN_PATH
        code = exc.code if isinstance(exc, CodedHTTPException) else BY_STATUS.get(exc.status_code, HTTP_ERROR)
        return JSONResponse({"detail": detail, "code": code}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(SesamError)
    async def sesam_error(request: Request, exc: SesamError) -> JSONResponse:
        """The client gets the error's public message; the operator's message (with paths) goes to the log."""
        status = 422 if isinstance(exc, QueryError) else 503 if isinstance(exc, IndexError_) else 500
        if status >= 500:
            log.error("%s %s failed: %s", request.method, request.url.path, exc, exc_info=exc,
                      extra={"fields": {"code": exc.code, "status": status}})
        return JSONResponse({"detail": exc.public, "code": exc.code}, status_code=status)

    # added innermost first: the rate limits, then the admin gate answer before the body limit reads any body
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes + 64 * 1024,
                       upload_path=ADMIN_PREFIX + "/documents", timeout_s=settings.body_timeout_s)
    app.add_middleware(AdminGate, settings=settings, prefix=ADMIN_PREFIX + "/", router=app.router)
    client = ClientAddress(settings.trusted_proxies)
    app.add_middleware(RateLimit, per_minute=settings.rate_limit_per_minute, client=client)
    app.add_middleware(RateLimit, per_minute=settings.admin_rate_limit_per_minute, prefixes=(ADMIN_PREFIX,),
                       client=client, what="admin requests")
    # also with no cors_origins: then every preflight is refused here (400 cors-refused), before the rate limit
    app.add_middleware(JsonCORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                       allow_headers=["Content-Type", "X-API-Key"], max_age=600)
    app.add_middleware(AccessLog, client=client, log_questions=settings.log_questions,  # outermost: sees every answer
                       counters=app.state.counters)
    return app
