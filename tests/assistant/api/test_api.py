"""The /v1 API through the in-process client and a real uvicorn server: shapes, streaming, limits, CORS."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator

from assistant.api.app import create_app
from assistant.api.codes import BODY_TOO_LARGE, NOT_FOUND, RATE_LIMITED
from tests.assistant.api.conftest import sse_events
from tests.conftest import make_settings


def schema_validator(client: TestClient, model: str) -> Draft202012Validator:
    spec = client.get("/openapi.json").json()
    schema = {"$ref": f"#/components/schemas/{model}", "components": spec["components"]}
    return Draft202012Validator(schema)


def test_ask_matches_the_schema_over_http(server_url: str, client: TestClient) -> None:
    response = httpx.post(f"{server_url}/v1/ask", json={"question": "Vad är ett arbetsintegrerande socialt företag?"})
    assert response.status_code == 200
    body = response.json()
    schema_validator(client, "AnswerOut").validate(body)
    assert not body["abstained"] and body["citations"][0]["page"] >= 1 and "[1]" in body["answer"]
    assert body["reason"] == "" and body["reply"] is False


@pytest.mark.parametrize(("question", "reason", "reply"), [
    ("Hej!", "greeting", True), ("Tack för hjälpen!", "thanks", True), ("Hur förnyar jag mitt pass?", "weak", False)])
def test_an_abstention_says_why_and_whether_it_is_a_reply(client: TestClient, server_url: str, question: str,
                                                          reason: str, reply: bool) -> None:
    """A client styles "no answer in the documents" (amber, a contact) apart from the reply to a greeting: the
    answer and the stream's first event say which it is."""
    body = client.post("/v1/ask", json={"question": question}).json()
    assert body["abstained"] and (body["reason"], body["reply"]) == (reason, reply)
    with httpx.stream("POST", f"{server_url}/v1/ask/stream", json={"question": question}) as response:
        first = json.loads(sse_events("".join(response.iter_text()))[0][1])
    assert (first["reason"], first["reply"]) == (reason, reply)


def test_search_documents_health_stats(client: TestClient) -> None:
    hits = client.post("/v1/search", json={"query": "idéburet offentligt partnerskap", "k": 3}).json()["hits"]
    assert 1 <= len(hits) <= 3 and {"chunk_id", "doc_id", "page", "text", "score"} <= set(hits[0])
    docs = client.get("/v1/documents").json()["documents"]
    assert {d["doc_id"] for d in docs} == {"coompanion-social-ekonomi", "skr-utvecklingsnatverk-sociala-foretag"}
    one = client.get("/v1/documents/coompanion-social-ekonomi").json()
    assert one["n_pages"] == 17 and [p["number"] for p in one["pages"]] == list(range(1, 18))
    missing = client.get("/v1/documents/missing")
    assert missing.status_code == 404 and missing.json() == {"detail": "There is no document 'missing'.",
                                                             "code": NOT_FOUND}
    assert client.get("/v1/health").json()["status"] == "ready"
    assert client.get("/v1/stats").json()["index"]["documents"] == 2
    assert client.get("/docs").status_code == 200


def test_stream_order_over_http(server_url: str) -> None:
    with httpx.stream("POST", f"{server_url}/v1/ask/stream", json={"question": "What is NIA?"}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = sse_events(text)
    kinds = [k for k, _ in events]
    assert kinds[0] == "citations" and kinds[-1] == "done" and set(kinds[1:-1]) == {"delta"}
    done = json.loads(events[-1][1])["answer"]
    assert "".join(json.loads(d)["text"] for k, d in events if k == "delta") == done["answer"]


def test_the_streams_done_event_has_the_shape_of_v1_ask(client: TestClient) -> None:
    """The session_id included, so a client can read both the same way."""
    plain = client.post("/v1/ask", json={"question": "Vad är NIA?", "session_id": "new"}).json()
    stream = client.post("/v1/ask/stream", json={"question": "Vad är NIA?", "session_id": plain["session_id"]})
    kind, data = sse_events(stream.text)[-1]
    done = json.loads(data)["answer"]
    assert kind == "done" and set(done) == set(plain) and done["session_id"] == plain["session_id"]
    schema_validator(client, "AnswerOut").validate(done)


def test_a_cached_answer_says_so_and_reports_only_this_requests_time(client: TestClient) -> None:
    """Not total 0.0 beside the first request's embed time, nor a "cached" flag among the milliseconds."""
    question = {"question": "Vilka stödjer Coompanion när de startar kooperativ?"}  # asked by no other test
    first, again = client.post("/v1/ask", json=question).json(), client.post("/v1/ask", json=question).json()
    assert (first["cached"], again["cached"]) == (False, True) and again["answer"] == first["answer"]
    assert "cached" not in first["timings_ms"] and first["timings_ms"]["total"] >= first["timings_ms"].get("embed", 0)
    assert list(again["timings_ms"]) == ["total"] and again["timings_ms"]["total"] >= 0
    schema_validator(client, "AnswerOut").validate(again)


def test_sessions_resolve_follow_ups(client: TestClient) -> None:
    first = client.post("/v1/ask", json={"question": "Vad gör SKR:s utvecklingsnätverk?", "session_id": "new"}).json()
    session = first["session_id"]
    follow = client.post("/v1/ask", json={"question": "och vilka kommuner deltar?", "session_id": session}).json()
    assert follow["session_id"] == session and any("Hudiksvall" in c["text"] for c in follow["citations"])
    assert follow["resolved_question"].startswith("Vad gör SKR:s utvecklingsnätverk?")


def test_a_session_id_the_service_did_not_give_starts_a_new_conversation(client: TestClient) -> None:
    """Client-chosen ids were bearer tokens: a second client sending "victim-1" read the first one's question in
    ``resolved_question`` and steered its next follow-up. Ids are now the service's own, 128 random bits."""
    first = client.post("/v1/ask", json={"question": "Vad gör SKR:s utvecklingsnätverk?", "session_id": "victim-1"})
    given = first.json()["session_id"]
    assert given != "victim-1" and len(given) >= 20
    guessed = client.post("/v1/ask", json={"question": "och vilka kommuner deltar?", "session_id": "victim-1"}).json()
    assert guessed["resolved_question"] is None or "SKR" not in guessed["resolved_question"], guessed
    assert guessed["session_id"] not in ("victim-1", given)
    # the conversation under the id the service gave is untouched by the other client's question
    own = client.post("/v1/ask", json={"question": "och vilka kommuner deltar?", "session_id": given}).json()
    assert own["session_id"] == given and own["resolved_question"].startswith("Vad gör SKR:s utvecklingsnätverk?")


def test_a_question_without_a_session_keeps_nothing(shipped_index: Path) -> None:
    """Every question used to be kept as the first turn of a conversation nobody would continue (its text for
    session_ttl_s, though log_questions keeps questions out of the log, and real conversations crowded out)."""
    app = create_app(make_settings(index_dir=shipped_index, rate_limit_per_minute=0))
    with TestClient(app) as client:
        answer = client.post("/v1/ask", json={"question": "Vad är IOP?"}).json()
        assert answer["session_id"] is None and not answer["abstained"]
        store = app.state.holder.sessions
        assert len(store) == 0
        started = client.post("/v1/ask", json={"question": "Vad är IOP?", "session_id": "new"}).json()
        assert started["session_id"] not in (None, "new") and len(store) == 1


def test_limits_422_413_and_no_internals_in_errors(client: TestClient) -> None:
    long = client.post("/v1/ask", json={"question": "x" * 1001})
    assert long.status_code == 422 and "the limit is 1000 characters" in long.json()["detail"]
    bad = client.post("/v1/ask", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status_code == 422 and "Traceback" not in bad.text and "/work" not in bad.text
    huge = client.post("/v1/ask", content=b'{"question": "' + b"a" * 70_000 + b'"}',
                       headers={"Content-Type": "application/json"})
    assert huge.status_code == 413 and "limit of 65536 bytes" in huge.json()["detail"]
    assert huge.json()["code"] == BODY_TOO_LARGE
    assert client.post("/v1/ask", json={"question": "hej", "k": 500}).status_code == 422


def test_chunked_body_over_the_limit_is_413(server_url: str) -> None:
    def body():
        yield b'{"question": "'
        for _ in range(80):
            yield b"a" * 1024
        yield b'"}'

    response = httpx.post(f"{server_url}/v1/ask", content=body(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and response.json() == {
        "detail": "The request body is larger than the limit of 65536 bytes.", "code": BODY_TOO_LARGE}


def test_cors_allowlist(server_url: str) -> None:
    ok = httpx.options(f"{server_url}/v1/ask", headers={"Origin": "https://kommun.example",
                                                        "Access-Control-Request-Method": "POST"})
    assert ok.headers.get("access-control-allow-origin") == "https://kommun.example"
    refused = httpx.post(f"{server_url}/v1/search", json={"query": "kooperativ"}, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in refused.headers


def test_rate_limit_429_with_retry_after(shipped_index) -> None:
    client = TestClient(create_app(make_settings(index_dir=shipped_index, rate_limit_per_minute=3)))
    codes = [client.post("/v1/search", json={"query": "kooperativ"}).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    limited = client.post("/v1/search", json={"query": "kooperativ"})
    assert int(limited.headers["retry-after"]) >= 1 and "wait" in limited.json()["detail"]
    assert limited.json()["code"] == RATE_LIMITED
    assert client.get("/v1/health").status_code == 200  # only question endpoints are limited


def test_service_without_index_is_not_ready(tmp_path) -> None:
    client = TestClient(create_app(make_settings(index_dir=tmp_path / "none")))
    health = client.get("/v1/health")
    assert health.status_code == 503 and "run `sesam ingest` first" in health.json()["detail"]
    assert client.post("/v1/ask", json={"question": "hej"}).status_code == 503


@pytest.mark.parametrize("path", ["/v1/ask", "/v1/search"])
def test_filters_reach_retrieval(client: TestClient, path: str) -> None:
    key = "question" if path == "/v1/ask" else "query"
    body = client.post(path, json={key: "sociala företag", "filters": {"doc_ids": ["skr-utvecklingsnatverk-sociala-foretag"]}}).json()
    items = body.get("citations") or body.get("hits")
    assert items and {i["doc_id"] for i in items} == {"skr-utvecklingsnatverk-sociala-foretag"}
