"""HTTP fixtures: an in-process client and a real uvicorn server on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from tests.conftest import make_settings

ADMIN_KEY = "test-admin-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(app, settings=None, port: int | None = None) -> Iterator[str]:
    """Run ``app`` under a real uvicorn server on a free loopback port (or on ``port``), as `sesam serve` runs it
    when given settings."""
    port = port or free_port()
    if settings is not None:
        from assistant.server import uvicorn_options

        options = {**uvicorn_options(settings), "host": "127.0.0.1", "port": port, "log_level": "warning"}
    else:
        options = {"host": "127.0.0.1", "port": port, "log_level": "warning", "access_log": False}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(10)


def wait_until_ready(url: str, process: subprocess.Popen, timeout_s: float = 90) -> None:
    """Poll ``url``/v1/health until it answers 200; fail early if ``process`` (a `sesam serve`) exits."""
    deadline = time.monotonic() + timeout_s
    while True:
        assert process.poll() is None, f"sesam serve exited: {process.communicate()}"
        try:
            if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"sesam serve did not answer /v1/health within {timeout_s:.0f} s"
        time.sleep(0.2)


@pytest.fixture(scope="session")
def api_settings(shipped_index: Path):
    return make_settings(index_dir=shipped_index, cors_origins=["https://kommun.example"], rate_limit_per_minute=0)


@pytest.fixture(scope="session")
def client(api_settings) -> TestClient:
    return TestClient(create_app(api_settings))


@pytest.fixture(scope="session")
def server_url(api_settings) -> Iterator[str]:
    with live_server(create_app(api_settings)) as url:
        yield url


@pytest.fixture()
def admin_env(shipped_index: Path, tmp_path: Path):
    """A private copy of the corpus and index, with admin endpoints on."""
    from tests.conftest import CORPUS

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index = tmp_path / "index"
    shutil.copytree(shipped_index, index)
    settings = make_settings(corpus_dir=corpus, index_dir=index, admin_api_key=ADMIN_KEY, rate_limit_per_minute=0,
                             admin_rate_limit_per_minute=0,
                             max_upload_bytes=64 * 1024)
    return settings, TestClient(create_app(settings))


def sse_events(text: str) -> list[tuple[str, str]]:
    events = []
    for block in text.strip().split("\n\n"):
        kind = next(line[7:] for line in block.split("\n") if line.startswith("event: "))
        data = "".join(line[6:] for line in block.split("\n") if line.startswith("data: "))
        events.append((kind, data))
    return events

