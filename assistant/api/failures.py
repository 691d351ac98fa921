"""The last line of defence: an unexpected exception becomes the JSON 500 body, logged once with its traceback.

Starlette answers an unexpected exception in its outermost layer (``ServerErrorMiddleware``), outside every
middleware the app adds, and then raises it again for the server. So that answer had no CORS headers (a widget
on an allowed origin saw a network error and blamed ``cors_origins``), the request counters never saw it, and
uvicorn logged the traceback a second time. This middleware sits inside the others: the 500 goes out through
CORS, the counters and the access log like any other answer, and the exception ends here.
"""

from __future__ import annotations

import json
import logging

from assistant.api.codes import INTERNAL

log = logging.getLogger("sesam.http")
BODY = json.dumps({"detail": "Internal error; the request could not be completed. Try again later; if it keeps "
                             "failing, the operator can find the cause in the server log.",
                   "code": INTERNAL}).encode()


class CatchUnexpected:
    """ASGI middleware: answer 500 JSON for an exception no handler took, and log it (once, on sesam.http)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watch(message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:  # noqa: BLE001 - every unexpected error ends here, answered and logged
            log.error("%s %s failed unexpectedly: %s", scope["method"], scope["path"], exc, exc_info=exc,
                      extra={"fields": {"code": INTERNAL, "status": 500}})
            if started:  # part of the answer is out: nothing more can be said to the client
                return
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(BODY)).encode())]})
            await send({"type": "http.response.body", "body": BODY})
