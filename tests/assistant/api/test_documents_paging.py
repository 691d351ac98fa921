"""GET /v1/documents/{id} is bounded: pages per response and characters per response, with next_page."""

from __future__ import annotations

from pathlib import Path

import httpx

from assistant.api.app import create_app
from ingest.pipeline import run_ingest
from tests.assistant.api.conftest import live_server
from tests.conftest import make_settings


def test_a_long_document_comes_in_bounded_pages_over_http(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "many.txt").write_text("\f".join(f"Sida {i} om kooperativ." for i in range(1, 61)))  # 60 pages
    page = "Sociala företag och kooperativ i kommunen. " * 10  # 430 characters
    (corpus / "wide.txt").write_text("\f".join(f"{i} {page}" for i in range(1, 13)))
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index", rate_limit_per_minute=0,
                             max_response_chars=1000)
    assert not run_ingest(settings, progress=False).failed
    with live_server(create_app(settings)) as url:
        many = httpx.get(f"{url}/v1/documents/many-txt").json()
        assert many["n_pages"] == 60 and [p["number"] for p in many["pages"]] == list(range(1, 21))
        assert many["next_page"] == 21
        three = httpx.get(f"{url}/v1/documents/many-txt", params={"page": 59, "max_pages": 3}).json()
        assert [p["number"] for p in three["pages"]] == [59, 60] and three["next_page"] is None
        seen, size, at = [], [], 1
        while at is not None:  # follow next_page through the whole document
            body = httpx.get(f"{url}/v1/documents/wide-txt", params={"page": at}).json()
            seen += [p["number"] for p in body["pages"]]
            size.append(sum(len(p["text"]) for p in body["pages"]))
            at = body["next_page"]
        assert seen == list(range(1, 13)) and max(size) <= 1000 and len(size) == 6
        too_many = httpx.get(f"{url}/v1/documents/many-txt", params={"max_pages": 100_000})
        assert too_many.status_code == 422 and "max_pages" in too_many.json()["detail"]


def test_a_page_number_beyond_any_document_is_refused_not_a_server_error(server_url: str) -> None:
    for page in ("9223372036854775808", "100001", "0", "9" * 5000):
        r = httpx.get(f"{server_url}/v1/documents/coompanion-social-ekonomi", params={"page": page})
        assert r.status_code == 422, (page, r.text)
        assert r.json()["detail"].startswith("Invalid request (query.page: ")
    r = httpx.get(f"{server_url}/v1/documents/coompanion-social-ekonomi", params={"page": 100_000})
    assert r.status_code == 200 and r.json()["pages"] == [] and r.json()["next_page"] is None
