"""ASGI middleware: request body size and time limits (413, 408), the admin gate (404, 401) and per-client rate
limiting (429 with Retry-After). The rate limits and the gate answer before any body is read."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Callable, Iterable
from ipaddress import ip_address, ip_network

from starlette.routing import Match, Router

from assistant.api.codes import BODY_TIMEOUT, BODY_TOO_LARGE, RATE_LIMITED
from assistant.api.deps import admin_refusal
from ingest.settings import Settings


async def _send_json(send, status: int, detail: str, code: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail, "code": code}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


ADMIN_PASSED = "sesam.admin"  # the scope key AdminGate sets on a request it let through


class AdminGate:
    """Requests to admin paths (``prefix``) are checked here, before their body is read, as the admin router's
    own check does (``deps.admin_refusal``): 404 as for an unknown path while the admin API is off, 401 without
    the right X-API-Key. So a stranger neither learns that an admin path exists (not from a 422 about the body
    either) nor makes the server read an upload. A request let through is marked (``ADMIN_PASSED``). A request no
    admin endpoint takes (GET where only POST is served, TRACE …: no route of ``router`` matches it fully) passes
    on to the routing, which answers 405 (404 while the admin API is off) without reading the body."""

    def __init__(self, app, settings: Settings, prefix: str, router: Router) -> None:
        self.app, self.settings, self.prefix, self.router = app, settings, prefix, router

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix) \
                or not any(route.matches(scope)[0] == Match.FULL for route in self.router.routes):
            return await self.app(scope, receive, send)
        key = next((value.decode("latin-1") for name, value in scope.get("headers", ()) if name == b"x-api-key"),
                   None)
        refused = admin_refusal(self.settings, key)
        if refused is not None:
            return await _send_json(send, *refused)
        scope[ADMIN_PASSED] = True
        return await self.app(scope, receive, send)


class BodyLimit:
    """Refuse bodies over ``limit`` bytes (``upload_limit`` for uploads that passed the admin gate), also when
    sent chunked, and bodies that
    do not arrive in time: a request's body must be complete within ``timeout_s`` of its head (an upload's may
    take longer, but may not pause for longer than that), so a client that stalls or trickles its body cannot hold
    a connection (the head has its own timeout, ``header_timeout_s``)."""

    def __init__(self, app, limit: int, upload_limit: int, upload_path: str, timeout_s: float = 30.0) -> None:
        self.app, self.limit, self.upload_limit, self.upload_path = app, limit, upload_limit, upload_path
        self.timeout_s = timeout_s

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        upload = scope["path"] == self.upload_path and scope.get(ADMIN_PASSED, False)
        limit = self.upload_limit if upload else self.limit
        message = f"The request body is larger than the limit of {limit} bytes."
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                return await _send_json(send, 413, message, BODY_TOO_LARGE)
        # no (or a small) Content-Length: read the body here, refusing it as soon as it passes the limit
        chunks, seen, more = [], 0, True
        deadline = time.monotonic() + self.timeout_s
        while more:
            wait = self.timeout_s if upload else deadline - time.monotonic()
            try:
                msg = await asyncio.wait_for(receive(), timeout=max(wait, 0.0))
            except TimeoutError:
                return await _send_json(send, 408, f"The request body did not arrive within {self.timeout_s:g} s; "
                                        "send it again in one go.", BODY_TIMEOUT, [(b"connection", b"close")])
            if msg["type"] != "http.request":
                return await self.app(scope, _replay([msg]), send)
            chunks.append(msg)
            seen += len(msg.get("body", b""))
            if seen > limit:
                return await _send_json(send, 413, message, BODY_TOO_LARGE)
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


class ClientAddress:
    """The client's address: the peer, or — only when the peer is a trusted proxy — the nearest untrusted
    address in X-Forwarded-For, read from the right (each proxy appends the address it received from).

    With no trusted proxies (the default) X-Forwarded-For is ignored: anyone can write that header.
    """

    def __init__(self, trusted: Iterable[str] = ()) -> None:
        self.networks = [ip_network(item, strict=False) for item in trusted]

    def trusted(self, address: str) -> bool:
        try:
            ip = ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def __call__(self, scope) -> str:
        peer = (scope.get("client") or ("unknown", 0))[0]
        if not self.networks or not self.trusted(peer):
            return peer
        hops = [h.strip() for name, value in scope.get("headers", ()) if name == b"x-forwarded-for"
                for h in value.decode("latin-1").split(",")]
        for hop in reversed(hops):
            try:
                ip_address(hop)
            except ValueError:
                return peer  # a malformed entry: believe nothing further left of it
            if not self.trusted(hop):
                return hop
        return hops[0] if hops else peer  # every hop is a trusted proxy: take the leftmost


IPV6_CLIENT_PREFIX = 64  # an IPv6 client holds a whole /64 (one home, one host): its addresses share one bucket


def bucket_of(address: str) -> str:
    """The rate limit's key for a client address: an IPv6 address's /64 network (each of its 2**64 addresses had a
    bucket of its own, so one client was not limited at all), an IPv4-mapped one as IPv4, anything else itself."""
    try:
        ip = ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return address


class RateLimit:
    """A token bucket per client (its address; an IPv6 client's /64, ``bucket_of``) on the question endpoints:
    ``per_minute`` requests, bursts allowed.
    OPTIONS is not counted: a CORS preflight is answered before this (allowed or refused), and any other OPTIONS
    asks nothing (405).

    A bucket left alone for a minute is full again, exactly as if it did not exist, so buckets idle that long
    are dropped by a sweep at most once a minute: memory follows the clients of the last minute or two.
    """

    def __init__(self, app, per_minute: int, prefixes: tuple[str, ...] = ("/v1/ask", "/v1/search"),
                 client: Callable[[dict], str] | None = None, clock: Callable[[], float] = time.monotonic,
                 what: str = "questions") -> None:
        self.app, self.per_minute, self.prefixes, self.what = app, per_minute, prefixes, what
        self.client = client or ClientAddress()
        self.clock = clock
        self.idle_s = 60.0  # time to refill a bucket from empty
        self._buckets: dict[str, tuple[float, float]] = {}
        self._swept = clock()
        self._lock = threading.Lock()

    def _take(self, client: str) -> float:
        """0 when the request may pass, else the seconds until it may."""
        rate = self.per_minute / 60.0
        now = self.clock()
        with self._lock:
            if now - self._swept >= self.idle_s:
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < self.idle_s}
                self._swept = now
            tokens, last = self._buckets.get(client, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / rate

    def __len__(self) -> int:
        return len(self._buckets)

    async def __call__(self, scope, receive, send):
        if (scope["type"] != "http" or not self.per_minute or scope.get("method") == "OPTIONS"
                or not scope["path"].startswith(self.prefixes)):
            return await self.app(scope, receive, send)
        wait = self._take(bucket_of(self.client(scope)))
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            return await _send_json(send, 429,
                                    f"Too many {self.what} from this client; wait {seconds} s and try again.",
                                    RATE_LIMITED, [(b"retry-after", str(seconds).encode())])
        return await self.app(scope, receive, send)
