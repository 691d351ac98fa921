"""GET /v1/documents, GET /v1/documents/{doc_id} and GET /v1/documents/{doc_id}/file (the original file).

An id may end in ``/file`` (``reports/file.pdf`` has the id ``reports/file``), so ``…/reports/file`` matches the
file route too: when ``reports`` is no document but ``reports/file`` is, it answers that document's metadata."""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response
from fastapi.responses import FileResponse, JSONResponse

from assistant.api.deps import AssistantDep, SettingsDep
from assistant.api.schemas import DocumentDetailOut, DocumentsOut, ErrorOut
from ingest.errors import QueryError
from ingest.types import DocumentMeta

router = APIRouter(prefix="/v1/documents", tags=["documents"])
log = logging.getLogger("sesam.http")
MEDIA_TYPES = {"pdf": "application/pdf", "txt": "text/plain; charset=utf-8", "md": "text/markdown; charset=utf-8",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}
# A stored web page opens in the browser, but sandboxed: no script runs, no form posts, nothing is loaded from
# elsewhere (it is a document from the corpus, not a page of this service); the browser may not guess the type.
SANDBOX = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
MAX_PAGES = 200  # pages in one response at most
MAX_PAGE_NUMBER = 100_000  # no document has more pages; larger numbers do not fit the index's integers


def _meta(d: DocumentMeta) -> dict:
    return {"doc_id": d.doc_id, "title": d.title, "file": d.path, "publisher": d.publisher, "language": d.language,
            "date": d.date, "url": d.url}


@router.get("", response_model=DocumentsOut, summary="List the indexed documents")
def documents(assistant: AssistantDep) -> dict:
    pages = assistant.page_counts()
    return {"documents": [{**_meta(d), "pages": pages.get(d.doc_id, 0)} for d in assistant.documents()]}


class _Checksums:
    """sha256 of served files, recomputed only when a file's size or modification time changes."""

    def __init__(self) -> None:
        self._seen: dict[Path, tuple[int, int, str]] = {}
        self._lock = threading.Lock()

    def of(self, path: Path) -> str:
        stat = path.stat()
        with self._lock:
            seen = self._seen.get(path)
        if seen and seen[:2] == (stat.st_size, stat.st_mtime_ns):
            return seen[2]
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while block := f.read(1 << 20):
                digest.update(block)
        with self._lock:
            self._seen[path] = (stat.st_size, stat.st_mtime_ns, digest.hexdigest())
        return digest.hexdigest()


_checksums = _Checksums()


def _html_type(path: Path) -> str:
    """UTF-8 when the page is (as ingest reads it first); else no charset, so the page's own <meta charset> counts."""
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return "text/html"
    return "text/html; charset=utf-8"


@router.get("/{doc_id:path}/file", response_class=FileResponse, responses={
    200: {"content": {"application/pdf": {}, "text/plain": {}, "text/markdown": {}, "text/html": {},
                      MEDIA_TYPES["docx"]: {}},
          "description": "The original file; link to a page of a PDF with #page=N."},
    404: {"model": ErrorOut}, 422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
    summary="The original file of an indexed document")
def document_file(doc_id: str, assistant: AssistantDep, settings: SettingsDep,
                  page: Annotated[int, Query(ge=1, le=MAX_PAGE_NUMBER, include_in_schema=False)] = 1,
                  max_pages: Annotated[int, Query(ge=1, le=MAX_PAGES, include_in_schema=False)] = 20
                  ) -> Response:
    """Only files that are in the index, inside the corpus folder and unchanged since they were indexed.
    (``page`` and ``max_pages`` are for the metadata of a document whose id ends in ``/file``.)"""
    try:
        meta, _ = assistant.document(doc_id)
    except QueryError as exc:
        if assistant.index.document(f"{doc_id}/file") is not None:  # GET /v1/documents/{id ending in /file}
            body = document(f"{doc_id}/file", assistant, settings, page=page, max_pages=max_pages)
            return JSONResponse(DocumentDetailOut.model_validate(body).model_dump(mode="json"))
        raise HTTPException(404, detail=f"There is no document {doc_id!r}.") from exc
    corpus = settings.corpus_dir.resolve()
    path = (corpus / meta.path).resolve()
    unavailable = HTTPException(404, detail=f"The original file of {doc_id!r} is not available.")
    if not path.is_relative_to(corpus) or not path.is_file():
        log.warning("document %s: file %s is not in the corpus folder %s", doc_id, meta.path, corpus)
        raise unavailable
    if meta.sha256 and _checksums.of(path) != meta.sha256:
        log.warning("document %s: %s changed since it was indexed; re-ingest to serve it again", doc_id, path)
        raise unavailable
    headers = {"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"}
    if meta.kind == "html":
        headers["Content-Security-Policy"] = SANDBOX
        headers["Content-Type"] = _html_type(path)
    return FileResponse(path, media_type=MEDIA_TYPES.get(meta.kind, "application/octet-stream"),
                        content_disposition_type="inline", filename=Path(meta.path).name, headers=headers)


@router.get("/{doc_id:path}", response_model=DocumentDetailOut, responses={404: {"model": ErrorOut},
                                                                          422: {"model": ErrorOut}},
            summary="One document with the text of a range of its pages (follow next_page for more)")
def document(doc_id: str, assistant: AssistantDep, settings: SettingsDep,
             page: Annotated[int, Query(ge=1, le=MAX_PAGE_NUMBER, description="number of the first page returned")] = 1,
             max_pages: Annotated[int, Query(ge=1, le=MAX_PAGES, description="pages per response")] = 20) -> dict:
    """A response holds at most ``max_pages`` pages and ``max_response_chars`` characters of text (always at
    least one page); ``next_page`` is the number to ask for next, or null after the last page."""
    limit = settings.max_response_chars
    index = assistant.index
    meta = index.document(doc_id)
    if meta is None:
        raise HTTPException(404, detail=f"There is no document {doc_id!r}.")
    pages, size = [], 0
    for p in index.pages(doc_id, first=page, limit=max_pages):
        if pages and size + len(p.text) > limit:
            break
        pages.append({"number": p.number, "text": p.text[:limit]})
        size += len(p.text)
    n_pages = index.n_pages(doc_id)
    last = pages[-1]["number"] if pages else n_pages
    return {**_meta(meta), "n_pages": n_pages, "pages": pages, "next_page": last + 1 if last < n_pages else None}
