"""Which client the rate limiter sees (X-Forwarded-For only from trusted proxies) and how its buckets expire."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.api.codes import METHOD_NOT_ALLOWED, RATE_LIMITED
from assistant.api.limits import ClientAddress, RateLimit, bucket_of
from tests.assistant.api.conftest import live_server
from tests.conftest import make_settings


def scope(peer: str, forwarded: str | None = None) -> dict:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return {"type": "http", "client": (peer, 5000), "headers": headers, "path": "/v1/ask"}


@pytest.mark.parametrize(("trusted", "peer", "forwarded", "client"), [
    ([], "203.0.113.9", "1.2.3.4", "203.0.113.9"),  # no trusted proxies: the header is ignored
    (["10.0.0.0/8"], "203.0.113.9", "1.2.3.4", "203.0.113.9"),  # the peer is no trusted proxy
    (["10.0.0.0/8"], "10.0.0.2", "1.2.3.4", "1.2.3.4"),
    (["10.0.0.0/8"], "10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.7", "1.2.3.4"),  # a client's forged entry stays left
    (["10.0.0.0/8"], "10.0.0.2", "1.2.3.4, not-an-address", "10.0.0.2"),  # malformed: believe nothing
    (["10.0.0.0/8"], "10.0.0.2", None, "10.0.0.2"),
    (["10.0.0.2", "10.0.0.3"], "10.0.0.2", "10.0.0.3", "10.0.0.3"),  # only proxies: the leftmost
    (["::1"], "::1", "2001:db8::5", "2001:db8::5"),
])
def test_client_address(trusted, peer, forwarded, client) -> None:
    assert ClientAddress(trusted)(scope(peer, forwarded)) == client


def test_buckets_expire_by_time_not_by_count() -> None:
    now = [1000.0]
    limiter = RateLimit(app=None, per_minute=2, clock=lambda: now[0])
    for n in range(500):
        assert limiter._take(f"198.51.100.{n % 250}-{n}") == 0.0
    assert len(limiter) == 500
    assert limiter._take("a") == 0.0 and limiter._take("a") == 0.0
    assert limiter._take("a") > 0  # a's bucket is empty
    now[0] += 30
    assert limiter._take("b") == 0.0 and len(limiter) == 502  # half a minute: nothing forgotten
    assert limiter._take("a") == 0.0  # one token back after 30 s at 2 per minute
    assert limiter._take("a") > 0
    now[0] += 61
    assert limiter._take("c") == 0.0
    assert len(limiter) == 1  # every bucket idle for a minute is full again, hence dropped
    assert limiter._take("a") == 0.0 and limiter._take("a") == 0.0  # and a starts full


def test_limiter_answers_429_with_retry_after() -> None:
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def send(message):
        sent.append(message)

    limiter = RateLimit(app, per_minute=1)
    for _ in range(2):
        asyncio.run(limiter(scope("192.0.2.1"), None, send))
    statuses = [m["status"] for m in sent if m["type"] == "http.response.start"]
    assert statuses == [200, 429]
    assert (b"retry-after", b"60") in sent[1]["headers"]
    assert json.loads(sent[2]["body"]) == {"detail": "Too many questions from this client; wait 60 s and try again.",
                                           "code": RATE_LIMITED}


def _codes(url: str, forwarded: list[str]) -> list[int]:
    with httpx.Client(base_url=url, timeout=30) as http:
        return [http.post("/v1/search", json={"query": "IOP"}, headers={"X-Forwarded-For": f}).status_code
                for f in forwarded]


def test_forged_forwarded_for_does_not_escape_the_limit(shipped_index) -> None:
    settings = make_settings(index_dir=shipped_index, rate_limit_per_minute=2)
    with live_server(create_app(settings), settings) as url:  # real uvicorn, options as `sesam serve` sets them
        assert _codes(url, ["1.1.1.1", "2.2.2.2", "3.3.3.3"]) == [200, 200, 429]
        refused = httpx.post(f"{url}/v1/search", json={"query": "IOP"})
        assert refused.status_code == 429 and refused.json()["code"] == RATE_LIMITED and refused.headers["retry-after"]


@pytest.mark.parametrize(("address", "bucket"), [
    ("203.0.113.9", "203.0.113.9"), ("2001:db8:1:2::b", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:1:2:3", "2001:db8:1:2::/64"), ("::ffff:192.0.2.7", "192.0.2.7"), ("unknown", "unknown"),
])
def test_an_ipv6_client_is_limited_by_its_64(address: str, bucket: str) -> None:
    assert bucket_of(address) == bucket


def test_addresses_of_one_ipv6_64_share_a_limit(shipped_index) -> None:
    """Each address of an IPv6 client's /64 (2**64 of them, all its own) had a bucket of its own: no limit."""
    settings = make_settings(index_dir=shipped_index, rate_limit_per_minute=2, trusted_proxies=["127.0.0.1"])
    with live_server(create_app(settings), settings) as url:
        assert _codes(url, [f"2001:db8:1:2::{n:x}" for n in range(2, 6)] + ["2001:db8:1:3::2"]) == \
            [200, 200, 429, 429, 200]


def test_forwarded_for_from_a_trusted_proxy_separates_clients(shipped_index) -> None:
    settings = make_settings(index_dir=shipped_index, rate_limit_per_minute=2, trusted_proxies=["127.0.0.1"])
    with live_server(create_app(settings), settings) as url:
        assert _codes(url, ["1.1.1.1", "2.2.2.2", "1.1.1.1", "2.2.2.2", "3.3.3.3"]) == [200] * 5
        assert _codes(url, ["1.1.1.1", "9.9.9.9, 2.2.2.2"]) == [429, 429]  # a forged left entry changes nothing


def test_an_options_request_that_is_no_preflight_spares_the_rate_limit(shipped_index) -> None:
    """OPTIONS without Access-Control-Request-Method (with or without Origin) is answered 405, as before, and
    leaves the client's questions as a refused preflight does."""
    client = TestClient(create_app(make_settings(index_dir=shipped_index, rate_limit_per_minute=3)))
    for headers in ({}, {"Origin": "https://evil.example"}) * 3:
        r = client.options("/v1/search", headers=headers)
        assert r.status_code == 405 and r.json() == {
            "detail": "This address does not accept the method OPTIONS; use POST. The endpoints and their methods "
                      "are listed at /docs.", "code": METHOD_NOT_ALLOWED}
    assert [client.post("/v1/search", json={"query": "IOP"}).status_code for _ in range(4)] == [200, 200, 200, 429]
