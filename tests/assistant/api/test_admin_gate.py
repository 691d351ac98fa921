"""The rate limits and the admin gate answer before any body is read: a stranger cannot make the server buffer an
upload, learn from a 422 about the body that an admin path exists, or have a rate-limited body read in full."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.api.codes import BODY_TOO_LARGE, INVALID, NOT_FOUND, RATE_LIMITED, UNAUTHORIZED
from tests.assistant.api.conftest import ADMIN_KEY
from tests.conftest import make_settings

CHUNKS = 8  # of 256 KiB each: under the upload limit, over the limit of every other body
CHUNK = b"x" * (256 * 1024)


def _send(app, path: str, headers: dict[str, str]) -> tuple[int, dict, int]:
    """POST a chunked body of CHUNKS pieces to ``path`` straight through ASGI; (status, body, pieces read)."""
    read, status, body = 0, None, b""

    async def receive():
        nonlocal read
        read += 1
        if read > CHUNKS:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": CHUNK, "more_body": read < CHUNKS}

    async def send(message):
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            body += message.get("body", b"")

    scope = {"type": "http", "method": "POST", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"content-type", b"multipart/form-data; boundary=x"), (b"transfer-encoding", b"chunked"),
                         *((k.lower().encode(), v.encode()) for k, v in headers.items())],
             "client": ("203.0.113.7", 5000), "server": ("testserver", 80), "scheme": "http",
             "http_version": "1.1", "root_path": ""}
    asyncio.run(app(scope, receive, send))
    return status, json.loads(body or b"{}"), read


def _app(tmp_path: Path, admin_api_key: str | None, limits_per_minute: int = 0):
    """An app without an index (the gate and the limits need none)."""
    settings = make_settings(index_dir=tmp_path / "no-index", corpus_dir=tmp_path / "corpus",
                             admin_api_key=admin_api_key, rate_limit_per_minute=limits_per_minute,
                             admin_rate_limit_per_minute=limits_per_minute)
    return create_app(settings)


@pytest.mark.parametrize(("key", "sent", "status", "code"), [
    (None, {}, 404, NOT_FOUND),  # the admin API off: an unknown path
    (ADMIN_KEY, {}, 401, UNAUTHORIZED),
    (ADMIN_KEY, {"X-API-Key": "wrong"}, 401, UNAUTHORIZED),
])
def test_an_upload_refused_by_the_admin_gate_is_not_read(tmp_path: Path, key, sent, status, code) -> None:
    status_, body, read = _send(_app(tmp_path, admin_api_key=key), "/v1/admin/documents", sent)
    assert (status_, body["code"], read) == (status, code, 0)


def test_rate_limited_requests_are_not_read(tmp_path: Path) -> None:
    app = _app(tmp_path, admin_api_key=ADMIN_KEY, limits_per_minute=1)
    for path, headers in (("/v1/admin/documents", {"X-API-Key": ADMIN_KEY}), ("/v1/ask", {})):
        _send(app, path, headers)  # the one request of this minute
        status, body, read = _send(app, path, headers)
        assert (status, body["code"], read) == (429, RATE_LIMITED, 0), path


def test_the_upload_limit_is_only_for_uploads_past_the_gate(tmp_path: Path) -> None:
    app = _app(tmp_path, admin_api_key=ADMIN_KEY)
    status, body, read = _send(app, "/v1/admin/reingest", {"X-API-Key": ADMIN_KEY})
    assert (status, body["code"]) == (413, BODY_TOO_LARGE) and read < CHUNKS  # the small limit
    status, body, read = _send(app, "/v1/admin/documents", {"X-API-Key": ADMIN_KEY})
    assert status == 422 and read == CHUNKS  # read in full, then refused as not multipart


@pytest.mark.parametrize(("key", "sent", "status", "code"), [
    (None, {}, 404, NOT_FOUND),
    (None, {"X-API-Key": ADMIN_KEY}, 404, NOT_FOUND),
    (ADMIN_KEY, {}, 401, UNAUTHORIZED),
    (ADMIN_KEY, {"X-API-Key": "wrong"}, 401, UNAUTHORIZED),
    (ADMIN_KEY, {"X-API-Key": ADMIN_KEY}, 422, INVALID),  # only with the key is the body looked at
])
def test_a_malformed_upload_is_judged_only_after_the_key(tmp_path: Path, key, sent, status, code) -> None:
    client = TestClient(_app(tmp_path, admin_api_key=key))
    r = client.post("/v1/admin/documents", content=b"garbage",
                    headers={"content-type": "multipart/form-data; boundary=zz", **sent})
    assert (r.status_code, r.json()["code"]) == (status, code)
    if status == 404:
        assert r.json() == client.get("/v1/no-such-path").json()


@pytest.mark.parametrize(("key", "status"), [(ADMIN_KEY, 405), (None, 404)])
def test_a_method_no_admin_endpoint_takes_is_answered_by_the_routing(tmp_path: Path, key, status) -> None:
    """TRACE or PUT to an admin path, GET to the upload, is no admin request: 405 as anywhere (404 while the admin
    API is off), whatever the key, as the OpenAPI contract says (schemathesis checks it), not 401."""
    with TestClient(_app(tmp_path, key)) as client:
        for method, path in (("TRACE", "/v1/admin/reingest"), ("PUT", "/v1/admin/reingest"),
                             ("GET", "/v1/admin/documents")):  # only POST uploads
            response = client.request(method, path, headers={"X-API-Key": "wrong"})
            assert response.status_code == status, (method, path, response.text)
