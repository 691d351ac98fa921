"""ASGI middleware: request body size limits (413) and per-client rate limiting (429 with Retry-After)."""

from __future__ import annotations

import json
import math
import threading
import time


async def _send_json(send, status: int, detail: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse bodies over ``limit`` bytes (``upload_limit`` for uploads), also when sent chunked."""

    def __init__(self, app, limit: int, upload_limit: int, upload_path: str) -> None:
        self.app, self.limit, self.upload_limit, self.upload_path = app, limit, upload_limit, upload_path

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.upload_limit if scope["path"] == self.upload_path else self.limit
        message = f"The request body is larger than the limit of {limit} bytes."
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return await _send_json(send, 413, message)
        # no (or a small) Content-Length: read the body here, refusing it as soon as it passes the limit
        chunks, seen, more = [], 0, True
        while more:
            msg = await receive()
            if msg["type"] != "http.request":
                return await self.app(scope, _replay([msg]), send)
            chunks.append(msg)
            seen += len(msg.get("body", b""))
            if seen > limit:
                return await _send_json(send, 413, message)
            more = msg.get("more_body", False)
        await self.app(scope, _replay(chunks, receive), send)


def _replay(messages: list[dict], then=None):
    """A receive callable that hands out already-read messages, then defers to ``then``."""
    pending = list(messages)

    async def receive():
        if pending:
            return pending.pop(0)
        if then is not None:
            return await then()
        return {"type": "http.disconnect"}

    return receive


class RateLimit:
    """A token bucket per client address on the question endpoints: ``per_minute`` requests, bursts allowed."""

    def __init__(self, app, per_minute: int, prefixes: tuple[str, ...] = ("/v1/ask", "/v1/search"),
                 what: str = "questions") -> None:
        self.app, self.per_minute, self.prefixes, self.what = app, per_minute, prefixes, what
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _take(self, client: str) -> float:
        """0 when the request may pass, else the seconds until it may."""
        rate = self.per_minute / 60.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            if len(self._buckets) > 100_000:  # forget idle clients
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 120}
            return (1 - tokens) / rate

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not self.per_minute or not scope["path"].startswith(self.prefixes):
            return await self.app(scope, receive, send)
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self._take(client)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            return await _send_json(send, 429,
                                    f"Too many {self.what} from this client; wait {seconds} s and try again.",
                                    [(b"retry-after", str(seconds).encode())])
        return await self.app(scope, receive, send)
