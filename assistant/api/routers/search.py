"""POST /v1/search: ranked passages with scores."""

from __future__ import annotations

from fastapi import APIRouter, Request

from assistant.api.deps import AssistantDep, JsonDep, SettingsDep, checked_filters
from assistant.api.schemas import ErrorOut, SearchIn, SearchOut

router = APIRouter(prefix="/v1", tags=["search"], dependencies=[JsonDep])


@router.post("/search", response_model=SearchOut, responses={413: {"model": ErrorOut}, 415: {"model": ErrorOut},
                                                            422: {"model": ErrorOut}, 429: {"model": ErrorOut},
                                                            503: {"model": ErrorOut}},
             summary="Retrieve ranked passages")
def search(body: SearchIn, assistant: AssistantDep, settings: SettingsDep, request: Request) -> dict:
    request.state.question = body.query  # logged only when log_questions is on
    filters = checked_filters(body.query, "query", body.filters, settings, assistant)
    hits = assistant.search(body.query, k=body.k or settings.top_k, lang=body.lang, filters=filters)
    return {"query": body.query, "hits": [
        {"chunk_id": h.chunk_id, "doc_id": h.doc_id, "title": h.title, "file": h.file, "page": h.page,
         "text": h.text, "score": round(h.score, 4), "language": h.language, "section": h.heading,
         "page_label": h.page_label or None, "ocr": h.ocr, "kind": h.kind} for h in hits]}
