"""A stuck client cannot keep `sesam serve` alive after SIGTERM, and idle connections are closed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.assistant.api.conftest import free_port


def test_sigterm_with_a_stuck_upload_ends_within_the_shutdown_timeout(shipped_index: Path, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAM_")}
    env.update(SESAM_INDEX_DIR=str(shipped_index), SESAM_CORPUS_DIR=str(tmp_path), SESAM_ADMIN_API_KEY="stuck-key",
               SESAM_SHUTDOWN_TIMEOUT_S="2", SESAM_KEEP_ALIVE_TIMEOUT_S="1")
    server = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", "--port", str(port)], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 200
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.2)
        idle = socket.create_connection(("127.0.0.1", port))  # a keep-alive connection left idle
        idle.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        idle.settimeout(10)
        response = b""
        while not response.endswith(b"}"):  # the headers and the JSON body, perhaps in two pieces
            response += idle.recv(65536)
        assert response.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert idle.recv(65536) == b""  # closed by the server after keep_alive_timeout_s
        assert time.monotonic() - started < 5
        stuck = socket.create_connection(("127.0.0.1", port))  # an upload that stops half-way
        stuck.sendall(b"POST /v1/admin/documents HTTP/1.1\r\nHost: x\r\nX-API-Key: stuck-key\r\n"
                      b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n--b\r\n")
        time.sleep(0.5)
        started = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
        assert time.monotonic() - started < 8  # shutdown_timeout_s is 2; before: still running after 25 s
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
