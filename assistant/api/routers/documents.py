"""GET /v1/documents and GET /v1/documents/{doc_id}: metadata and page texts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from assistant.api.deps import AssistantDep, SettingsDep
from assistant.api.schemas import DocumentDetailOut, DocumentsOut, ErrorOut
router = APIRouter(prefix="/v1/documents", tags=["documents"])
MAX_PAGES = 200  # pages in one response at most


def _meta(d) -> dict:
    return {"doc_id": d.doc_id, "title": d.title, "file": d.path, "publisher": d.publisher, "language": d.language,
            "date": d.date, "url": d.url}


@router.get("", response_model=DocumentsOut, summary="List the indexed documents")
def documents(assistant: AssistantDep) -> dict:
    index = assistant.index
    return {"documents": [{**_meta(d), "pages": index.n_pages(d.doc_id)} for d in assistant.documents()]}


@router.get("/{doc_id:path}", response_model=DocumentDetailOut, responses={404: {"model": ErrorOut},
                                                                          422: {"model": ErrorOut}},
            summary="One document with the text of a range of its pages (follow next_page for more)")
def document(doc_id: str, assistant: AssistantDep, settings: SettingsDep,
             page: Annotated[int, Query(ge=1, description="number of the first page returned")] = 1,
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
