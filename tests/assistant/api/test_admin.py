"""Admin endpoints: off without a key, 401 with a wrong one; upload confinement; re-ingest with a hot swap."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import httpx
from fastapi.testclient import TestClient

from assistant.api.app import create_app
from assistant.api.codes import (BODY_TOO_LARGE, DOCUMENT_EXISTS, NOT_FOUND, REINGEST_RUNNING, UNAUTHORIZED,
                                 UNSUPPORTED_FILE)
from tests.assistant.api.conftest import ADMIN_KEY, live_server
from tests.conftest import make_settings
from tests.pdfmaker import pdf_bytes

KEY = {"X-API-Key": ADMIN_KEY}


def test_admin_is_off_without_a_configured_key(client: TestClient) -> None:
    r = client.post("/v1/admin/reingest")
    assert r.status_code == 404 and r.json() == client.get("/v1/no-such-path").json()  # as an unknown path
    assert r.json()["code"] == NOT_FOUND
    assert client.post("/v1/admin/documents", files={"file": ("a.pdf", b"%PDF-1.4")}).status_code == 404


def test_admin_off_answers_every_method_as_an_unknown_path(client: TestClient) -> None:
    """A method an admin path lacks is no 405 (with Allow) while the admin API is off: that would tell that the
    path exists."""
    nowhere = client.get("/v1/no-such-path").json()
    for method, path in (("GET", "/v1/admin/documents"), ("OPTIONS", "/v1/admin/reingest"),
                         ("PUT", "/v1/admin/reingest"), ("DELETE", "/v1/admin/documents")):
        r = client.request(method, path)
        assert r.status_code == 404 and r.json() == nowhere and "allow" not in r.headers, (method, path)
    assert client.head("/v1/admin/documents").status_code == 404


def test_admin_off_shows_no_admin_path_through_slashes_or_the_spec(client: TestClient) -> None:
    """A trailing slash answered 307 towards the admin path (and built the Location from the Host header), and
    /openapi.json listed the admin paths, while an admin path was said to be answered as an unknown one."""
    nowhere = client.get("/v1/no-such-path").json()
    for method, path in (("GET", "/v1/admin/reingest/"), ("POST", "/v1/admin/documents/"), ("GET", "/v1/health/"),
                         ("POST", "/v1/ask/")):
        r = client.request(method, path, headers={"Host": "evil.example"}, follow_redirects=False)
        assert r.status_code == 404 and r.json() == nowhere and "location" not in r.headers, (method, path)
    paths = client.get("/openapi.json").json()["paths"]
    assert "/v1/ask" in paths and not any(p.startswith("/v1/admin") for p in paths)


def test_admin_on_is_in_the_spec(admin_env) -> None:
    _, client = admin_env
    assert "/v1/admin/reingest" in client.get("/openapi.json").json()["paths"]


def test_wrong_or_missing_key_is_401(admin_env) -> None:
    _, client = admin_env
    for r in (client.post("/v1/admin/reingest"), client.post("/v1/admin/reingest", headers={"X-API-Key": "wrong"}),
              client.get("/v1/admin/reingest", headers={"X-API-Key": ADMIN_KEY + "x"})):
        assert r.status_code == 401 and r.json() == {
            "detail": "A valid X-API-Key header is needed for admin endpoints.", "code": UNAUTHORIZED}


def test_upload_is_confined_typed_and_limited(admin_env) -> None:
    settings, client = admin_env
    corpus = settings.corpus_dir
    before = {p.name for p in corpus.parent.rglob("*")}
    ok = client.post("/v1/admin/documents", headers=KEY,
                     files={"file": ("Ny rapport å.pdf", pdf_bytes([["Kooperativ i Umeå."]]), "application/pdf")})
    assert ok.status_code == 201 and (corpus / ok.json()["stored"]).is_file()
    for name in ("../../escape.pdf", "/etc/passwd.pdf", "..\\..\\x.pdf", "sub/../../y.pdf", ".hidden.pdf"):
        r = client.post("/v1/admin/documents", headers=KEY, files={"file": (name, pdf_bytes([["x y z"]]))})
        assert r.status_code in (201, 415, 422)
        if r.status_code == 201:
            assert (corpus / r.json()["stored"]).resolve().parent == corpus.resolve()
    assert not (corpus.parent.parent / "escape.pdf").exists()
    created = {p.name for p in corpus.parent.rglob("*")} - before
    assert all((corpus / n).exists() for n in created), created
    for name, content in (("x.exe", b"MZ..."), ("fake.pdf", b"<html>not a pdf</html>")):  # by name, by content
        r = client.post("/v1/admin/documents", headers=KEY, files={"file": (name, content)})
        assert r.status_code == 415 and r.json()["code"] == UNSUPPORTED_FILE
    docx = client.post("/v1/admin/documents", headers=KEY, files={"file": ("handbok.docx", b"PK\x03\x04" + b"\x00" * 60)})
    assert docx.status_code == 201 and (corpus / "handbok.docx").is_file()  # a Word file is a ZIP archive
    assert client.post("/v1/admin/documents", headers=KEY,
                       files={"file": ("fake.docx", b"%PDF-1.4 not word")}).status_code == 415
    page = client.post("/v1/admin/documents", headers=KEY, files={"file": ("sida.html", b"<html><p>Hej</p></html>")})
    assert page.status_code == 201
    big = client.post("/v1/admin/documents", headers=KEY, files={"file": ("big.txt", b"a" * 70_000)})
    assert big.status_code == 413 and big.json()["code"] == BODY_TOO_LARGE and not (corpus / "big.txt").exists()
    assert not list(corpus.glob(".upload-*"))


def test_an_upload_replaces_a_corpus_file_only_when_asked_to(admin_env) -> None:
    """An upload named as a corpus file replaced it without a word (and "a&b.pdf" is stored as "a_b.pdf")."""
    settings, client = admin_env
    first = pdf_bytes([["Första upplagan om kooperativ."]])
    assert client.post("/v1/admin/documents", headers=KEY, files={"file": ("a_b.pdf", first)}).json()["replaced"] is False
    second = pdf_bytes([["Andra upplagan om kooperativ."]])
    refused = client.post("/v1/admin/documents", headers=KEY, files={"file": ("a&b.pdf", second)})
    assert refused.status_code == 409 and refused.json()["code"] == DOCUMENT_EXISTS
    assert "a_b.pdf" in refused.json()["detail"] and "replace=true" in refused.json()["detail"]
    assert (settings.corpus_dir / "a_b.pdf").read_bytes() == first and not list(settings.corpus_dir.glob(".upload-*"))
    ok = client.post("/v1/admin/documents?replace=true", headers=KEY, files={"file": ("a&b.pdf", second)})
    assert ok.status_code == 201 and ok.json()["replaced"] is True and ok.json()["detail"].startswith("Replaced")
    assert (settings.corpus_dir / "a_b.pdf").read_bytes() == second
    decomposed = settings.corpus_dir / "a\u030arsrapport.pdf"  # "årsrapport.pdf" as a Mac or a zip file writes it
    decomposed.write_bytes(first)
    same = client.post("/v1/admin/documents", headers=KEY, files={"file": ("årsrapport.pdf", second)})
    assert same.status_code == 409 and same.json()["code"] == DOCUMENT_EXISTS
    ok = client.post("/v1/admin/documents?replace=true", headers=KEY, files={"file": ("årsrapport.pdf", second)})
    assert ok.json()["replaced"] is True and decomposed.read_bytes() == second
    assert sorted(p.name for p in settings.corpus_dir.glob("*rsrapport.pdf")) == [decomposed.name]


def test_reingest_swaps_the_index_while_requests_keep_succeeding(admin_env) -> None:
    settings, _ = admin_env
    app = create_app(settings)
    failures: list[str] = []
    answers: list[str] = []
    stop = threading.Event()
    with live_server(app) as url:
        def hammer() -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                n = 0
                while not stop.is_set():
                    n += 1
                    try:
                        r = http.post("/v1/ask", json={"question": f"Vad är ett socialt företag? ({n % 7})"})
                    except httpx.HTTPError as exc:
                        failures.append(repr(exc))
                        continue
                    if r.status_code != 200:
                        failures.append(f"{r.status_code} {r.text[:100]}")
                    else:
                        answers.append(r.json()["answer"])

        workers = [threading.Thread(target=hammer) for _ in range(4)]
        for w in workers:
            w.start()
        try:
            version_before = httpx.get(f"{url}/v1/health").json()["version"]
            (settings.corpus_dir / "ny.txt").write_text("Lokalt kooperativ i Tierp driver ett kafé för arbetsträning.\n")
            assert httpx.post(f"{url}/v1/admin/reingest", headers=KEY).status_code == 202
            busy = httpx.post(f"{url}/v1/admin/reingest", headers=KEY)
            assert busy.status_code == 409 and busy.json()["code"] == REINGEST_RUNNING
            deadline = time.monotonic() + 60
            while httpx.get(f"{url}/v1/admin/reingest", headers=KEY).json()["state"] == "running":
                assert time.monotonic() < deadline
                time.sleep(0.2)
            status = httpx.get(f"{url}/v1/admin/reingest", headers=KEY).json()
            time.sleep(0.5)
        finally:
            stop.set()
            for w in workers:
                w.join()
        assert status["state"] == "succeeded", status
        assert status["report"]["ingested"] == ["ny-txt"], status
        assert httpx.get(f"{url}/v1/health").json()["version"] != version_before
        hits = httpx.post(f"{url}/v1/search", json={"query": "kafé i Tierp"}).json()["hits"]
        assert hits[0]["doc_id"] == "ny-txt"
    assert not failures, failures[:3]
    assert len(answers) > 10


def test_cli_ingest_is_picked_up_by_a_running_service(shipped_index, tmp_path) -> None:
    import shutil

    from ingest.pipeline import run_ingest
    from tests.conftest import CORPUS

    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    index = tmp_path / "index"
    shutil.copytree(shipped_index, index)
    settings = make_settings(corpus_dir=corpus, index_dir=index, rate_limit_per_minute=0)
    app = create_app(settings)
    app.state.holder.check_every_s = 0.1
    client = TestClient(app)
    before = client.get("/v1/health").json()["version"]
    (corpus / "extra.md").write_text("# Nytt\n\nSolcellskooperativ i Laxå.\n")
    run_ingest(settings, progress=False)
    deadline = time.monotonic() + 30  # the new version is opened on a thread of its own, not by a request
    while (now := client.get("/v1/health").json()["version"]) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert now != before


def _wait_for_reingest(url: str) -> dict:
    deadline = time.monotonic() + 60
    while (status := httpx.get(f"{url}/v1/admin/reingest", headers=KEY).json())["state"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return status


def test_reingest_of_a_moved_corpus_is_refused_and_the_service_keeps_answering(admin_env) -> None:
    settings, _ = admin_env
    with live_server(create_app(settings)) as url:
        version = httpx.get(f"{url}/v1/health").json()["version"]
        settings.corpus_dir.rename(settings.corpus_dir.parent / "corpus.off")  # mv corpus corpus.off
        assert httpx.post(f"{url}/v1/admin/reingest", headers=KEY).status_code == 202
        status = _wait_for_reingest(url)
        assert status["state"] == "failed" and "does not exist" in status["error"], status
        assert "allow_removal=true" in status["error"]
        settings.corpus_dir.mkdir()  # an empty corpus folder: refused as well
        assert httpx.post(f"{url}/v1/admin/reingest", headers=KEY).status_code == 202
        status = _wait_for_reingest(url)
        assert status["state"] == "failed" and "would remove all 2 indexed documents" in status["error"], status
        assert httpx.get(f"{url}/v1/health").json()["version"] == version
        answer = httpx.post(f"{url}/v1/ask", json={"question": "Vad är ett socialt företag?"}).json()
        assert not answer["abstained"] and answer["citations"]
        assert httpx.post(f"{url}/v1/admin/reingest?allow_removal=true", headers=KEY).status_code == 202
        status = _wait_for_reingest(url)
        assert status["state"] == "succeeded" and len(status["report"]["removed"]) == 2, status


def test_reingest_whose_only_work_is_a_broken_file_reports_it(admin_env) -> None:
    settings, _ = admin_env
    with live_server(create_app(settings)) as url:
        # the index was copied from the shipped corpus's: a first run records the copy as its corpus folder
        assert httpx.post(f"{url}/v1/admin/reingest", headers=KEY).status_code == 202
        assert _wait_for_reingest(url)["state"] == "succeeded"
        (settings.corpus_dir / "empty.pdf").write_bytes(b"")
        version = httpx.get(f"{url}/v1/health").json()["version"]
        for _ in range(2):  # the second run was a TypeError (tuple + list) in ingest/pipeline.py
            assert httpx.post(f"{url}/v1/admin/reingest", headers=KEY).status_code == 202
            status = _wait_for_reingest(url)
            assert status["state"] == "succeeded", status
            assert [f["path"] for f in status["report"]["failed"]] == ["empty.pdf"], status
        assert httpx.get(f"{url}/v1/health").json()["version"] == version


def test_reingest_reports_the_files_it_does_not_read_as_skipped(admin_env) -> None:
    """As `sesam ingest --json` does: a file of a type sesam does not read is skipped, not failed."""
    settings, client = admin_env
    (settings.corpus_dir / "notes.xyz").write_text("anteckningar")
    assert client.post("/v1/admin/reingest", headers=KEY).status_code == 202
    client.app.state.reingest.wait(60)
    status = client.get("/v1/admin/reingest", headers=KEY).json()
    assert status["state"] == "succeeded" and status["report"]["failed"] == [], status
    [skipped] = status["report"]["skipped"]
    assert skipped["path"] == "notes.xyz" and skipped["reason"].startswith("not read: sesam does not read .xyz files")
    report = client.get("/openapi.json").json()["components"]["schemas"]["ReingestReportOut"]
    assert "skipped" in report["required"] and "not read" in report["properties"]["skipped"]["description"]


def test_reingest_report_carries_the_warnings_the_cli_report_has(admin_env) -> None:
    """As `sesam ingest --json`'s "warnings": a bad sources.toml value is reported (before: the HTTP report had no
    warnings at all), named from the corpus folder, with no server path; and a run that changes nothing names the
    version that stays served."""
    settings, client = admin_env
    sources = settings.corpus_dir / "sources.toml"
    sources.write_text(sources.read_text(encoding="utf-8").replace('language = "sv"', 'language = "fi"', 1),
                       encoding="utf-8")
    assert client.post("/v1/admin/reingest", headers=KEY).status_code == 202
    client.app.state.reingest.wait(120)
    status = client.get("/v1/admin/reingest", headers=KEY).json()
    assert status["state"] == "succeeded", status
    [warning] = status["report"]["warnings"]
    assert warning.startswith("sources.toml: ['coompanion-social-ekonomi.pdf'] language = 'fi' is not valid; allowed:")
    assert str(settings.corpus_dir) not in warning and str(settings.corpus_dir.parent) not in warning
    served = client.get("/v1/health").json()["version"]
    assert status["report"]["version"] == served
    assert client.post("/v1/admin/reingest", headers=KEY).status_code == 202  # again: nothing changed
    client.app.state.reingest.wait(120)
    again = client.get("/v1/admin/reingest", headers=KEY).json()["report"]
    assert again["version"] == served and again["new_version"] is False and again["warnings"] == [warning]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["ReingestReportOut"]
    assert {"warnings", "new_version"} <= set(schema["required"])


def test_reingest_while_a_cli_ingest_holds_the_index_is_a_409_that_says_so(admin_env) -> None:
    """A `sesam ingest` started outside the service holds ``<index>/ingest.lock`` (here another process takes the
    lock as the CLI does). Before: 202 "running", then "failed" with the generic "could not run" sentence."""
    settings, client = admin_env
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys; fh = open(sys.argv[1], 'a'); fcntl.flock(fh, fcntl.LOCK_EX); "
                               "print('locked', flush=True); sys.stdin.read()", str(settings.index_dir / "ingest.lock")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        r = client.post("/v1/admin/reingest", headers=KEY)
        assert r.status_code == 409 and r.json()["code"] == REINGEST_RUNNING, r.text
        assert "started outside this server" in r.json()["detail"]
        assert client.get("/v1/admin/reingest", headers=KEY).json()["state"] == "idle"
        # The lock taken between that check and the run (the job started directly): the job's error says so.
        assert client.app.state.reingest.start()
        client.app.state.reingest.wait(60)
        status = client.get("/v1/admin/reingest", headers=KEY).json()
        assert status["state"] == "failed" and "started outside this server" in status["error"], status
    finally:
        holder.communicate("", timeout=10)
    assert client.post("/v1/admin/reingest", headers=KEY).status_code == 202  # the lock released: it runs
    client.app.state.reingest.wait(120)
    assert client.get("/v1/admin/reingest", headers=KEY).json()["state"] == "succeeded"
