"""Admin hardening: an unusable admin key stops `sesam serve` at start-up; admin requests are rate limited."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from assistant.api.app import create_app
from assistant.api.codes import RATE_LIMITED
from ingest.errors import ConfigError
from tests.assistant.api.conftest import ADMIN_KEY, free_port, live_server
from tests.conftest import make_settings


@pytest.mark.parametrize("key", ["", "   ", "nyckel-åäö-2026", " padded-key "])
def test_sesam_serve_refuses_an_empty_whitespace_or_non_ascii_admin_key(key: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESAM_")}
    env.update(SESAM_ADMIN_API_KEY=key, SESAM_INDEX_DIR=str(tmp_path / "index"))
    try:
        run = subprocess.run([sys.executable, "-m", "tui.cli", "serve", "--port", str(free_port())], cwd=tmp_path,
                             env=env, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`sesam serve` started with the admin key {key!r} instead of refusing it")
    assert run.returncode == 2, run.stderr
    assert "admin_api_key" in run.stderr and ("empty or only whitespace" in run.stderr
                                              or "printable ASCII" in run.stderr), run.stderr
    assert key.strip() not in run.stderr or not key.strip()  # the key itself is never printed


def test_an_empty_admin_key_is_a_configuration_error_not_an_open_door() -> None:
    with pytest.raises(ConfigError, match="empty or only whitespace"):
        make_settings(admin_api_key="")
    assert make_settings(admin_api_key="printable-ascii-key").admin_api_key is not None


def test_admin_requests_are_rate_limited_per_client_wrong_keys_included(shipped_index: Path) -> None:
    settings = make_settings(index_dir=shipped_index, admin_api_key=ADMIN_KEY, admin_rate_limit_per_minute=3,
                             rate_limit_per_minute=0)
    with live_server(create_app(settings)) as url:
        codes = [httpx.get(f"{url}/v1/admin/reingest", headers={"X-API-Key": f"guess-{i}"}).status_code
                 for i in range(3)]
        assert codes == [401, 401, 401]
        refused = httpx.get(f"{url}/v1/admin/reingest", headers={"X-API-Key": ADMIN_KEY})
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
        assert refused.json()["detail"].startswith("Too many admin requests from this client; wait")
        assert refused.json()["code"] == RATE_LIMITED
        # questions have their own limit (here off) and are not affected
        assert httpx.post(f"{url}/v1/search", json={"query": "kooperativ"}).status_code == 200
