"""Security properties: no unpickling of user-reachable data, no internals in error bodies, confined uploads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from tests.conftest import REPO, make_settings

CODE = [p for pkg in ("ingest", "assistant", "tui") for p in (REPO / pkg).rglob("*.py")]


@pytest.mark.parametrize("pattern", [r"\bimport pickle\b", r"pickle\.loads?\(", r"allow_pickle\s*=\s*True",
                                     r"torch\.load\(", r"(?<![\w.])eval\(", r"(?<![\w.])exec\(", r"yaml\.load\("])
def test_no_unsafe_deserialisation_in_the_code(pattern: str) -> None:
    offenders = [f"{p.relative_to(REPO)}:{n}" for p in CODE
                 for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1)
                 if re.search(pattern, line)]
    assert not offenders, offenders


def test_numpy_files_are_loaded_without_pickle() -> None:
    loads = [line for p in CODE for line in p.read_text(encoding="utf-8").splitlines() if "np.load(" in line]
    assert loads and all("allow_pickle=False" in line for line in loads)


@pytest.fixture(scope="module")
def client(shipped_index) -> TestClient:
    return TestClient(create_app(make_settings(index_dir=shipped_index, rate_limit_per_minute=0)),
                      raise_server_exceptions=False)


@pytest.mark.parametrize(("method", "path", "kwargs"), [
    ("post", "/v1/ask", {"content": b"{\"question\": "}),
    ("post", "/v1/ask", {"json": {"question": ["a"]}}),
    ("post", "/v1/ask", {"json": {"question": "hej", "k": 10**30}}),
    ("post", "/v1/ask", {"json": {"question": "hej", "session_id": "../../etc"}}),
    ("post", "/v1/ask", {"content": b"\xff\xfe\x00", "headers": {"Content-Type": "application/json"}}),
    ("post", "/v1/search", {"json": {"query": "a", "filters": {"doc_ids": [1, 2]}}}),
    ("get", "/v1/documents/..%2F..%2Fetc%2Fpasswd", {}),
    ("get", "/v1/nope", {}),
    ("post", "/v1/ask/stream", {"json": {"question": ""}}),
])
def test_error_bodies_hold_no_internals(client: TestClient, method: str, path: str, kwargs: dict) -> None:
    response = getattr(client, method)(path, **kwargs)
    assert 400 <= response.status_code < 500
    text = response.text
    assert "Traceback" not in text and "/work/" not in text and str(REPO) not in text and ".py" not in text
    assert set(response.json()) <= {"detail", "code"} and "detail" in response.json()


def test_upload_never_writes_outside_the_corpus(shipped_index, tmp_path: Path) -> None:
    corpus = tmp_path / "deep" / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "link.pdf").symlink_to(tmp_path / "target.pdf")
    client = TestClient(create_app(make_settings(corpus_dir=corpus, index_dir=shipped_index, admin_api_key="k")))
    names = ["../x.pdf", "../../x.pdf", "/tmp/x.pdf", "..\\x.pdf", "a/../../x.pdf", "x\x00.pdf", "link.pdf", "....pdf"]
    for name in names:
        client.post("/v1/admin/documents", headers={"X-API-Key": "k"}, files={"file": (name, b"%PDF-1.4\n%%EOF\n")})
    outside = [p for p in tmp_path.rglob("*") if p.is_file() and corpus not in p.parents]
    assert outside == [] and not (tmp_path / "target.pdf").exists()
