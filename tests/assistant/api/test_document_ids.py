"""A document whose id ends in "/file" (reports/file.pdf) is reachable: its metadata and its original file."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.api.codes import NOT_FOUND
from ingest.pipeline import run_ingest
from tests.conftest import make_settings
from tests.pdfmaker import pdf_bytes


def test_an_id_ending_in_file_answers_its_metadata_and_its_file(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "reports").mkdir(parents=True)
    (corpus / "reports" / "file.pdf").write_bytes(pdf_bytes([["Kooperativ i Umeå."], ["Sociala företag."]]))
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index", rate_limit_per_minute=0)
    assert not run_ingest(settings, progress=False).failed
    client = TestClient(create_app(settings))
    assert [d["doc_id"] for d in client.get("/v1/documents").json()["documents"]] == ["reports/file"]
    meta = client.get("/v1/documents/reports/file")
    assert meta.status_code == 200 and meta.json()["doc_id"] == "reports/file" and meta.json()["n_pages"] == 2
    assert [p["number"] for p in meta.json()["pages"]] == [1, 2]
    second = client.get("/v1/documents/reports/file", params={"page": 2}).json()
    assert [p["number"] for p in second["pages"]] == [2] and second["next_page"] is None
    assert client.get("/v1/documents/reports/file", params={"max_pages": 0}).status_code == 422
    original = client.get("/v1/documents/reports/file/file")
    assert original.status_code == 200 and original.headers["content-type"] == "application/pdf"
    for path in ("/v1/documents/reports", "/v1/documents/reports/file/file/file", "/v1/documents/other/file"):
        assert client.get(path).json()["code"] == NOT_FOUND, path
