"""GET /v1/documents and GET /v1/documents/{doc_id}: metadata and page texts."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from assistant.api.deps import AssistantDep
from assistant.api.schemas import DocumentDetailOut, DocumentsOut, ErrorOut
from ingest.errors import QueryError

router = APIRouter(prefix="/v1/documents", tags=["documents"])


def _meta(d) -> dict:
    return {"doc_id": d.doc_id, "title": d.title, "file": d.path, "publisher": d.publisher, "language": d.language,
            "date": d.date, "url": d.url}


@router.get("", response_model=DocumentsOut, summary="List the indexed documents")
def documents(assistant: AssistantDep) -> dict:
    index = assistant.index
    return {"documents": [{**_meta(d), "pages": index.n_pages(d.doc_id)} for d in assistant.documents()]}


@router.get("/{doc_id:path}", response_model=DocumentDetailOut, responses={404: {"model": ErrorOut}},
            summary="One document with the text of its pages")
def document(doc_id: str, assistant: AssistantDep) -> dict:
    try:
        meta, pages = assistant.document(doc_id)
    except QueryError as exc:
        raise HTTPException(404, detail=f"There is no document {doc_id!r}.") from exc
    return {**_meta(meta), "n_pages": len(pages),
            "pages": [{"number": p.number, "text": p.text} for p in pages]}
