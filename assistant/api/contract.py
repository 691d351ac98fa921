"""Pieces of the HTTP contract that FastAPI and Starlette do not state by themselves.

- The OpenAPI schema gives the configured question length (``max_question_chars``) as ``maxLength``.
- A 405 lists in ``Allow`` every method the path has, also when two routes share the path.
- HEAD is answered wherever GET is (``HeadAsGet``).
- A refused CORS preflight answers JSON ``{detail, code}`` like every other error (``codes.CORS_REFUSED``), and
  names what was refused (the origin, or for an allowed origin the header or method);
  cross-origin pages may read ``Retry-After`` (a widget says how long to wait).
"""

from __future__ import annotations

import json
import logging

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.routing import Match

from assistant.api.codes import CORS_REFUSED

log = logging.getLogger("sesam.http")
QUESTION_FIELDS = {"AskIn": "question", "SearchIn": "query"}


def state_question_limit(app: FastAPI, limit: int) -> None:
    """Make ``app.openapi()`` state ``limit`` as the maxLength of questions and queries."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            for model, field in QUESTION_FIELDS.items():
                prop = schema.get("components", {}).get("schemas", {}).get(model, {}).get("properties", {}).get(field)
                if prop is not None:
                    prop["maxLength"] = limit
                    prop["description"] = f"{prop.get('description', '')} At most {limit} characters.".strip()
        return app.openapi_schema

    app.openapi = openapi


def allowed_methods(app: FastAPI, scope: dict) -> list[str]:
    """Every method some route of ``app`` fully accepts at this path (routers nest, so each is tried)."""
    methods = [method for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
               if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in app.router.routes)]
    if "GET" in methods and "HEAD" not in methods:  # HeadAsGet answers HEAD for every GET route
        methods.insert(1, "HEAD")
    return methods


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, but a refused preflight says why in JSON, and the refusal is logged for the operator."""

    def __init__(self, app, **kwargs) -> None:
        kwargs.setdefault("expose_headers", ["Retry-After"])
        super().__init__(app, **kwargs)

    def preflight_response(self, request_headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        origin = request_headers.get("origin", "")
        if not self.is_allowed_origin(origin=origin):
            log.warning("CORS preflight refused for origin %s; add it to cors_origins to allow it", origin)
            detail = "This origin may not call the service. The service's operator can allow it in cors_origins."
        else:
            refused = self._refused(request_headers)
            log.warning("CORS preflight from the allowed origin %s refused: it asked for %s, which the service "
                        "does not accept", origin, refused)
            detail = (f"The service does not accept {refused} from other sites; it allows the methods "
                      f"{', '.join(self.allow_methods)} and the headers {', '.join(sorted(self.allow_headers))}. "
                      "Send the request without it.")
        headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-type")}
        return Response(json.dumps({"detail": detail, "code": CORS_REFUSED}).encode(), status_code=400,
                        media_type="application/json", headers=headers)

    def _refused(self, request_headers) -> str:
        """What an allowed origin's preflight asked for that is not allowed, in words."""
        parts = []
        method = request_headers.get("access-control-request-method", "")
        if method not in self.allow_methods:
            parts.append(f"the method {method}")
        asked = [h.strip().lower() for h in request_headers.get("access-control-request-headers", "").split(",")]
        headers = [h for h in asked if h and h not in self.allow_headers]
        if headers:
            parts.append(("the header " if len(headers) == 1 else "the headers ") + ", ".join(headers))
        if request_headers.get("access-control-request-private-network") is not None and not self.allow_private_network:
            parts.append("private network access")
        return " and ".join(parts) or "something"


class HeadAsGet:
    """ASGI middleware: HEAD works wherever GET does (FastAPI's routes accept only the methods they name). The
    request goes to the app as GET; the answer's status and headers (Content-Length included) go out, its body
    does not."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)
