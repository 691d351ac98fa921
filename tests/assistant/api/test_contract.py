"""The API says what it enforces: schema limits, error wording, Allow, CORS refusals in JSON, filters, files."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from assistant.api import codes
from assistant.api.app import create_app
from assistant.api.codes import CORS_REFUSED, METHOD_NOT_ALLOWED, NOT_FOUND
from assistant.api.routers.admin import ALLOWED
from tests.assistant.api.conftest import ADMIN_KEY, live_server
from tests.conftest import CORPUS, REPO, make_settings
from ingest.errors import IndexMissingError
from ingest.settings import DEFAULT_K, MAX_K


def test_the_schema_states_the_question_rules(shipped_index: Path) -> None:
    client = TestClient(create_app(make_settings(index_dir=shipped_index, max_question_chars=300)))
    spec = client.get("/openapi.json").json()
    for model, field in (("AskIn", "question"), ("SearchIn", "query")):
        prop = spec["components"]["schemas"][model]["properties"][field]
        assert prop["maxLength"] == 300 and prop["pattern"] == r"\S"
        k = spec["components"]["schemas"][model]["properties"]["k"]["anyOf"][0]
        assert k["maximum"] == MAX_K and k["minimum"] == 1
    assert "429" in spec["paths"]["/v1/search"]["post"]["responses"]
    r = client.post("/v1/ask", json={"question": "x" * 301})
    assert r.status_code == 422 and r.json()["detail"] == "The question is 301 characters long; the limit is 300 characters."


def test_blank_questions_booleans_and_broken_json_are_refused_in_words(client: TestClient) -> None:
    for path, field in (("/v1/ask", "question"), ("/v1/search", "query")):
        r = client.post(path, json={field: " \n\t "})
        assert r.status_code == 422 and r.json()["detail"] == f"Invalid request ({field}: must contain more than whitespace)."
        r = client.post(path, json={field: "Vad är IOP?", "k": True})
        assert r.status_code == 422 and "(k: must be a whole number, not true or false)" in r.json()["detail"]
        r = client.post(path, json={field: "Vad är IOP?", "k": "5"})
        assert r.status_code == 422 and "(k: must be a whole number written without quotes)" in r.json()["detail"]
    r = client.post("/v1/ask", content=b'{"question": "IOP?",}', headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["detail"] == "The request body is not valid JSON: expecting property name enclosed in double quotes at character 20."


def test_a_filter_naming_an_unknown_document_is_refused(client: TestClient) -> None:
    body = {"filters": {"doc_ids": ["coompanion-social-ekonomi", "no-such-doc"]}}
    for path, field in (("/v1/ask", "question"), ("/v1/ask/stream", "question"), ("/v1/search", "query")):
        r = client.post(path, json={field: "Vad är social ekonomi?", **body})
        assert r.status_code == 422 and "'no-such-doc'" in r.json()["detail"]
        assert "coompanion" not in r.json()["detail"]
    ok = client.post("/v1/ask", json={"question": "Vad är social ekonomi?", "filters": {"doc_ids": ["coompanion-social-ekonomi"]}})
    assert ok.status_code == 200 and {c["doc_id"] for c in ok.json()["citations"]} == {"coompanion-social-ekonomi"}


def test_a_filter_that_matches_nothing_is_refused_not_abstained(client: TestClient) -> None:
    """An unknown publisher is named, like an unknown document; a filter whose parts exist but match no passage
    together (no document is in English) is a 422 that says so, not "the documents do not answer"."""
    for path, field in (("/v1/ask", "question"), ("/v1/ask/stream", "question"), ("/v1/search", "query")):
        r = client.post(path, json={field: "Vad är NIA?", "filters": {"publishers": ["Nobody", "Coompanion"]}})
        assert r.status_code == 422 and r.json() == {
            "detail": "The filter names publishers that no indexed document has: 'Nobody'; GET /v1/documents lists "
                      "each document's publisher.", "code": "invalid-query"}, path
        r = client.post(path, json={field: "Vad är NIA?", "filters": {"languages": ["en"]}})
        assert r.status_code == 422 and r.json() == {
            "detail": "No indexed document matches the filter (languages: en); widen or remove it. GET /v1/documents "
                      "lists the documents with their language and publisher.", "code": codes.NO_MATCH}, path
    docs = client.get("/v1/documents").json()["documents"]
    r = client.post("/v1/ask", json={"question": "Vad är social ekonomi?", "filters": {
        "publishers": [docs[0]["publisher"]], "languages": [docs[0]["language"]]}})
    assert r.status_code == 200 and {c["doc_id"] for c in r.json()["citations"]} <= {
        d["doc_id"] for d in docs if d["publisher"] == docs[0]["publisher"]}


def test_a_body_not_sent_as_json_is_refused_with_415(client: TestClient) -> None:
    """Not "body: Input should be a valid dictionary" (422): the client is told which header to send."""
    for path, field in (("/v1/ask", "question"), ("/v1/ask/stream", "question"), ("/v1/search", "query")):
        body = json.dumps({field: "Vad är IOP?"}).encode()
        for headers in ({}, {"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}):
            r = client.post(path, content=body, headers=headers)
            assert r.status_code == 415 and r.json() == {
                "detail": "The request body must be JSON sent with the header Content-Type: application/json; send "
                          "it again with that header.", "code": codes.UNSUPPORTED_MEDIA_TYPE}, (path, headers)
        r = client.post(path, content=body, headers={"Content-Type": "application/json; charset=utf-8"})
        assert r.status_code == 200, path
    r = client.post("/v1/ask")  # no body at all: the schema says what is missing
    assert r.status_code == 422 and r.json()["code"] == codes.INVALID


def test_the_default_k_is_the_settings_top_k(shipped_index: Path, client: TestClient) -> None:
    assert len(client.post("/v1/search", json={"query": "social ekonomi"}).json()["hits"]) == DEFAULT_K
    three = TestClient(create_app(make_settings(index_dir=shipped_index, top_k=3, rate_limit_per_minute=0)))
    assert len(three.post("/v1/search", json={"query": "social ekonomi"}).json()["hits"]) == 3


def test_every_error_response_in_the_schema_is_the_real_error_body(shipped_index: Path) -> None:
    """No operation advertises FastAPI's HTTPValidationError (a list-shaped ``detail``): every 422 sent is
    ``{detail, code}`` (ErrorOut), also where the only parameters are hidden or optional."""
    settings = make_settings(index_dir=shipped_index, admin_api_key=ADMIN_KEY, rate_limit_per_minute=0)
    client = TestClient(create_app(settings))
    paths = client.get("/openapi.json").json()["paths"]
    wrong = {(path, method, status): response["content"]["application/json"]["schema"]
             for path, operations in paths.items() for method, operation in operations.items()
             for status, response in operation["responses"].items()
             if status.startswith(("4", "5")) and path != "/v1/health"
             and response.get("content", {}).get("application/json", {}).get("schema")
             != {"$ref": "#/components/schemas/ErrorOut"}}
    assert wrong == {}
    for path in ("/v1/documents/{doc_id}/file", "/v1/admin/reingest"):
        assert "422" in paths[path]["get"]["responses"]
    r = client.get("/v1/documents/coompanion-social-ekonomi/file", params={"page": 0})
    assert r.status_code == 422 and set(r.json()) == {"detail", "code"} and r.json()["code"] == "invalid-request"


def test_the_schema_describes_every_reason_the_code_gives() -> None:
    """Every literal reason judge() abstains with, every kind of answer asked for and every reply intent is named
    in the description of ``reason``, and in the one list the code checks against."""
    import ast

    from assistant.api.schemas import AnswerOut
    from assistant.evidence import REASONS
    from assistant.intents import REPLIES

    def literals(module: str, call: str, position: int) -> set[str]:
        tree = ast.parse((REPO / module).read_text(encoding="utf-8"))
        return {node.args[position].value for node in ast.walk(tree)
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == call and len(node.args) > position
                and isinstance(node.args[position], ast.Constant) and isinstance(node.args[position].value, str)}

    given = literals("assistant/evidence.py", "Verdict", 1) | literals("assistant/kinds.py", "Wanted", 0)
    assert {"weak", "service", "mention", "apart", "figure", "procedure"} <= given
    assert given <= set(REASONS)
    description = AnswerOut.model_json_schema()["properties"]["reason"]["description"]
    assert {reason for reason in given | set(REPLIES) if not re.search(rf"\b{reason}\b", description)} == set()


def test_allow_lists_every_method_of_the_path(admin_env) -> None:
    _, client = admin_env
    r = client.options("/v1/admin/reingest", headers={"X-API-Key": ADMIN_KEY})
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD, POST"
    assert r.json() == {"detail": "This address does not accept the method OPTIONS; use GET or HEAD or POST. The "
                                  "endpoints and their methods are listed at /docs.", "code": METHOD_NOT_ALLOWED}
    r = client.delete("/v1/ask")
    assert r.status_code == 405 and r.headers["allow"] == "POST" and r.json()["code"] == METHOD_NOT_ALLOWED


NOWHERE = "There is nothing at this address; check the URL. The endpoints are listed at /docs."


def test_unknown_paths_and_wrong_methods_are_refused_in_sentences(client: TestClient) -> None:
    """Not Starlette's "Not Found" / "Method Not Allowed": a sentence that says what to do, for every path."""
    for method, path in (("GET", "/v1/nope"), ("POST", "/nope"), ("GET", "/docs-assets/nope.js"),
                         ("POST", "/v1/admin/reingest"), ("GET", "/v1/admin/reingest")):  # the admin API is off
        r = client.request(method, path)
        assert r.status_code == 404 and r.json() == {"detail": NOWHERE, "code": NOT_FOUND}, path
    for method, path, allow in (("GET", "/v1/ask", "POST"), ("PUT", "/v1/ask/stream", "POST"),
                                ("DELETE", "/v1/health", "GET or HEAD"), ("POST", "/v1/documents", "GET or HEAD")):
        r = client.request(method, path)
        assert r.status_code == 405 and r.json() == {
            "detail": f"This address does not accept the method {method}; use {allow}. The endpoints and their "
                      "methods are listed at /docs.", "code": METHOD_NOT_ALLOWED}, path


def test_cors_refusal_is_json_and_retry_after_is_exposed(shipped_index: Path) -> None:
    settings = make_settings(index_dir=shipped_index, cors_origins=["https://kommun.example"], rate_limit_per_minute=1)
    client = TestClient(create_app(settings))
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    r = client.options("/v1/ask", headers={"Origin": "https://evil.example", **pre})
    assert r.status_code == 400 and r.headers["content-type"] == "application/json"
    assert "origin" in r.json()["detail"] and "cors_origins" in r.json()["detail"]
    assert r.json()["code"] == CORS_REFUSED
    assert client.options("/v1/ask", headers={"Origin": "https://kommun.example", **pre}).status_code == 200
    origin = {"Origin": "https://kommun.example"}
    client.post("/v1/search", json={"query": "IOP"}, headers=origin)
    r = client.post("/v1/search", json={"query": "IOP"}, headers=origin)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert "retry-after" in r.headers["access-control-expose-headers"].lower()


def test_without_cors_origins_a_preflight_is_refused_and_spares_the_rate_limit(shipped_index: Path) -> None:
    """The default (no cors_origins): a browser's preflight is answered 400 cors-refused, not 405, and does not
    use up the client's questions."""
    client = TestClient(create_app(make_settings(index_dir=shipped_index, rate_limit_per_minute=3)))
    pre = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "content-type"}
    for path in ("/v1/ask", "/v1/ask/stream", "/v1/search") * 3:
        r = client.options(path, headers=pre)
        assert r.status_code == 400 and r.json()["code"] == CORS_REFUSED and "cors_origins" in r.json()["detail"]
        assert "access-control-allow-origin" not in r.headers
    assert [client.post("/v1/search", json={"query": "IOP"}).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_documents_list_page_counts(client: TestClient) -> None:
    docs = {d["doc_id"]: d for d in client.get("/v1/documents").json()["documents"]}
    assert docs["coompanion-social-ekonomi"]["pages"] == 17
    assert docs["skr-utvecklingsnatverk-sociala-foretag"]["pages"] == client.get(
        "/v1/documents/skr-utvecklingsnatverk-sociala-foretag").json()["n_pages"]


def test_the_original_file_is_served_only_for_indexed_unchanged_documents(shipped_index: Path, tmp_path: Path,
                                                                           server_url: str) -> None:
    r = httpx.get(f"{server_url}/v1/documents/coompanion-social-ekonomi/file")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content == (CORPUS / "coompanion-social-ekonomi.pdf").read_bytes()
    assert r.headers["content-disposition"].startswith("inline")
    for path in ("sources/file", "..%2F..%2Fetc%2Fpasswd/file"):  # sources.toml is not indexed
        r = httpx.get(f"{server_url}/v1/documents/{path}")
        assert r.status_code == 404 and r.json()["code"] == NOT_FOUND
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    client = TestClient(create_app(make_settings(corpus_dir=corpus, index_dir=shipped_index)))
    assert client.get("/v1/documents/coompanion-social-ekonomi/file").status_code == 200
    (corpus / "coompanion-social-ekonomi.pdf").write_bytes(b"%PDF-1.4 replaced but not re-indexed")
    r = client.get("/v1/documents/coompanion-social-ekonomi/file")
    assert r.status_code == 404 and r.json() == {
        "detail": "The original file of 'coompanion-social-ekonomi' is not available.", "code": NOT_FOUND}


def test_the_widget_gets_its_texts_from_the_one_table(client: TestClient) -> None:
    from assistant.i18n import t

    script = client.get("/widget.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "sesam:texts" not in script.text
    for lang in ("sv", "en"):
        for key in ("you", "sources", "related_passages", "too_long", "w_new", "w_not_ready"):
            assert json.dumps(t(lang, key), ensure_ascii=False) in script.text


def test_a_refused_preflight_of_an_allowed_origin_names_the_header_or_method(tmp_path: Path, caplog) -> None:
    client = TestClient(create_app(make_settings(index_dir=tmp_path, cors_origins=["https://kommun.example"])))
    origin = {"Origin": "https://kommun.example"}
    with caplog.at_level(logging.WARNING, logger="sesam.http"):
        r = client.options("/v1/ask", headers={**origin, "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "content-type, authorization"})
        assert r.status_code == 400 and r.headers["content-type"] == "application/json"
        assert r.json()["detail"].startswith("The service does not accept the header authorization from other sites;")
        assert r.json()["code"] == CORS_REFUSED
        assert "origin" not in r.json()["detail"] and "cors_origins" not in r.json()["detail"]
        r = client.options("/v1/ask", headers={**origin, "Access-Control-Request-Method": "DELETE"})
        assert r.status_code == 400 and r.json()["detail"].startswith("The service does not accept the method DELETE")
    refusals = [rec.getMessage() for rec in caplog.records if rec.getMessage().startswith("CORS preflight")]
    assert len(refusals) == 2 and "authorization" in refusals[0] and "DELETE" in refusals[1]
    assert not any("cors_origins" in message for message in refusals)


def test_head_is_answered_wherever_get_is_without_a_body(tmp_path: Path) -> None:
    settings = make_settings(index_dir=tmp_path / "index")
    with live_server(create_app(settings), settings) as url:
        for path, status in (("/v1/health", 503), ("/widget", 200), ("/widget.js", 200), ("/docs", 200),
                             ("/openapi.json", 200), ("/v1/documents/x/file", 503)):
            get, head = httpx.get(url + path), httpx.head(url + path)
            assert (get.status_code, head.status_code) == (status, status), path
            assert head.content == b"" and head.headers["content-length"] == get.headers["content-length"], path
            assert head.headers["content-type"] == get.headers["content-type"], path
        assert httpx.head(f"{url}/v1/ask").status_code == 405  # no GET, no HEAD
        for method, path in (("GET", "/v1/nope"), ("POST", "/nope"), ("DELETE", "/v1")):
            r = httpx.request(method, url + path)
            assert r.status_code == 404 and r.json() == {"detail": NOWHERE, "code": NOT_FOUND}, path
        assert httpx.delete(f"{url}/v1/health").headers["allow"] == "GET, HEAD"


def test_head_of_an_original_file(server_url: str) -> None:
    r = httpx.head(f"{server_url}/v1/documents/coompanion-social-ekonomi/file")
    assert r.status_code == 200 and r.content == b"" and r.headers["content-type"] == "application/pdf"
    assert int(r.headers["content-length"]) == (CORPUS / "coompanion-social-ekonomi.pdf").stat().st_size


def test_sesam_errors_carry_their_code(tmp_path: Path, client: TestClient) -> None:
    empty = TestClient(create_app(make_settings(index_dir=tmp_path / "index")))
    r = empty.post("/v1/search", json={"query": "IOP"})
    assert r.status_code == 503 and r.json()["code"] == "no-index"
    assert empty.get("/v1/documents").json() == {"detail": IndexMissingError.public_message, "code": "no-index"}
    r = client.post("/v1/ask", json={"question": "IOP?", "filters": {"doc_ids": ["no-such-doc"]}})
    assert r.status_code == 422 and r.json()["code"] == "invalid-query" and "'no-such-doc'" in r.json()["detail"]
    r = client.post("/v1/search", json={"query": "x" * 1001})
    assert r.status_code == 422 and r.json() == {
        "detail": "The query is 1001 characters long; the limit is 1000 characters.", "code": "invalid-query"}
    for body in ({"query": "IOP", "k": 0}, b'{"query": "IOP",}'):
        r = client.post("/v1/search", **({"content": body, "headers": {"Content-Type": "application/json"}}
                                         if isinstance(body, bytes) else {"json": body}))
        assert r.status_code == 422 and r.json()["code"] == "invalid-request"


def test_the_documented_error_codes_are_the_codes() -> None:
    text = " ".join((REPO / "docs" / "http.md").read_text(encoding="utf-8").split())
    paragraph = re.search(r"\*\*Errors\.\*\*(.*?)\*\*Logs\.\*\*", text)
    assert paragraph, "docs/http.md must have an Errors paragraph"
    values = {value for name, value in vars(codes).items() if name.isupper() and isinstance(value, str)}
    assert {value for value in values if f"`{value}`" not in paragraph.group(1)} == set()
    assert set(codes.BY_STATUS.values()) <= values


def test_the_documented_upload_formats_are_the_accepted_ones() -> None:
    text = " ".join((REPO / "docs" / "http.md").read_text(encoding="utf-8").split())
    sentence = re.search(r"Uploads are limited by .*? must be (.*?) by name", text)
    assert sentence, "docs/http.md must say which files can be uploaded"
    assert set(re.findall(r"\.[a-z]+", sentence.group(1))) == ALLOWED
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert all(word in readme for word in ("PDF", "Word (`.docx`)", "(`.html`)", "TXT", "Markdown"))


def test_a_stored_web_page_opens_sandboxed(tmp_path: Path) -> None:
    from ingest.pipeline import run_ingest

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    page = ("<!doctype html><html><head><title>Kooperativ</title><script>alert(1)</script></head><body>"
            "<h1>Kooperativ i Umeå</h1><p>Ett kooperativ är en ekonomisk förening som ägs av sina medlemmar.</p>"
            "</body></html>")
    (corpus / "sida.html").write_text(page, encoding="utf-8")
    settings = make_settings(corpus_dir=corpus, index_dir=tmp_path / "index", rate_limit_per_minute=0)
    assert not run_ingest(settings, progress=False).failed
    with live_server(create_app(settings), settings) as url:
        doc_id = httpx.get(f"{url}/v1/documents").json()["documents"][0]["doc_id"]
        r = httpx.get(f"{url}/v1/documents/{doc_id}/file")
    assert r.status_code == 200 and r.text == page
    assert r.headers["content-type"] == "text/html; charset=utf-8" and r.headers["content-disposition"].startswith("inline")
    assert r.headers["content-security-policy"].split(";")[0] == "sandbox"  # no script runs, no form posts
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
