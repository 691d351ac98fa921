"""`sesam serve` as a process: settings and log configuration reach every worker; SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.assistant.api.conftest import free_port, wait_until_ready
from tests.conftest import REPO


def test_two_workers_log_json_trust_the_configured_proxy_and_time_out_slow_heads(shipped_index: Path,
                                                                                  tmp_path: Path) -> None:
    port = free_port()
    # a stray sesam.toml where the service starts: the workers read it once and took what the given config (here
    # SESAM_CONFIG) left unset from it, an admin key among them
    (tmp_path / "sesam.toml").write_text('admin_api_key = "stray-key-from-the-working-folder"\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAM_")}
    env.update(SESAM_LOG_FORMAT="json", SESAM_TRUSTED_PROXIES='["127.0.0.1"]', SESAM_HEADER_TIMEOUT_S="1",
               SESAM_CONFIG=str(REPO / "tests" / "empty.toml"))
    server = subprocess.Popen([sys.executable, "-m", "tui.cli", "serve", "--workers", "2", "--port", str(port),
                               "--index", str(shipped_index)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, server)
        for _ in range(6):  # enough for both workers to answer some
            response = httpx.post(f"{url}/v1/search", json={"query": "IOP"}, timeout=30,
                                  headers={"X-Forwarded-For": "198.51.100.23"})
            assert response.status_code == 200
        for _ in range(4):  # admin stays off in every worker (404, as for an unknown path)
            admin = httpx.post(f"{url}/v1/admin/reingest", headers={"X-API-Key": "stray-key-from-the-working-folder"})
            assert admin.status_code == 404, admin.text
        # the workers share the conversations: a follow-up is resolved whichever worker it reaches (each request on
        # a connection of its own, so the kernel spreads them; before, 6 of 10 follow-ups lost their context)
        for _ in range(8):
            first = httpx.post(f"{url}/v1/ask", json={"question": "Vad är Coompanion?", "session_id": "new"},
                               timeout=30).json()
            follow = httpx.post(f"{url}/v1/ask", json={"question": "Och vem finansierar dem?",
                                                       "session_id": first["session_id"]}, timeout=30).json()
            assert follow["session_id"] == first["session_id"], follow
            assert (follow["resolved_question"] or "").startswith("Vad är Coompanion?"), follow
        # header_timeout_s reaches the workers' protocol: partial heads (spread over both workers) are cut off
        slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
        started = time.monotonic()
        for sock in slow:
            sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")
        for sock in slow:
            sock.settimeout(max(0.1, started + 3.0 - time.monotonic()))
            assert sock.recv(1) == b"", "a worker kept a connection with a partial head open"
            sock.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        _, stderr = server.communicate(timeout=60)
    assert server.returncode == 0, stderr
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert len(lines) == len(stderr.splitlines()), "every log line is JSON"
    access = [x for x in lines if x["logger"] == "sesam.access" and x["path"] == "/v1/search"]
    assert len(access) == 6 and {x["client"] for x in access} == {"198.51.100.23"}
    serving = [x for x in lines if x["message"].startswith("serving index version")]
    assert len({x["pid"] for x in serving}) == 2  # each worker opened the index and said so
