"""POST /v1/ask and POST /v1/ask/stream (Server-Sent Events)."""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import Iterator

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from assistant.api.deps import AssistantDep, SettingsDep
from assistant.api.schemas import AnswerOut, AskIn, ErrorOut
from assistant.generation import CANCELLATION, Cancellation
from ingest.errors import SesamError
from ingest.settings import Settings

router = APIRouter(prefix="/v1", tags=["answers"])
ERRORS = {422: {"model": ErrorOut}, 429: {"model": ErrorOut}, 413: {"model": ErrorOut}, 503: {"model": ErrorOut}}


def _check(body: AskIn, settings: Settings) -> None:
    if len(body.question) > settings.max_question_chars:
        raise HTTPException(422, detail=f"The question is {len(body.question)} characters long; "
                                        f"the limit is {settings.max_question_chars} characters.")


def _kwargs(body: AskIn) -> dict:
    return {"k": body.k, "lang": body.lang, "filters": body.filters.to_filters() if body.filters else None,
            "session_id": body.session_id}


async def _cancellable(request: Request, fn, *args, **kwargs):
    """Run ``fn`` in a worker thread; when the client disconnects first, cancel its LLM call (if any): the
    thread then finishes at once with the extractive answer, and the endpoint sees its connection close."""
    cancellation = Cancellation()
    context = contextvars.copy_context()
    context.run(CANCELLATION.set, cancellation)

    async def watch() -> None:  # the body has been read: the next message can only be a disconnect
        while (await request.receive())["type"] != "http.disconnect":
            pass
        cancellation.cancel()

    watcher = asyncio.ensure_future(watch())
    try:
        return await run_in_threadpool(context.run, fn, *args, **kwargs)
    finally:
        watcher.cancel()


@router.post("/ask", response_model=AnswerOut, responses=ERRORS, summary="Answer a question with citations")
async def ask(body: AskIn, request: Request, assistant: AssistantDep, settings: SettingsDep) -> dict:
    _check(body, settings)
    answer = await _cancellable(request, assistant.ask, body.question, **_kwargs(body))
    return {**answer.to_public(), "session_id": body.session_id}


def _sse(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/ask/stream", responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
             summary="Answer a question as Server-Sent Events: citations, delta…, done")
async def ask_stream(body: AskIn, request: Request, assistant: AssistantDep, settings: SettingsDep
                     ) -> StreamingResponse:
    _check(body, settings)
    events = assistant.ask_stream(body.question, **_kwargs(body))
    # the answer is made here; errors in the question surface as a normal HTTP error, before streaming starts
    first = await _cancellable(request, next, events)

    def generate() -> Iterator[str]:
        yield _sse(first.kind, first.data)
        try:
            for event in events:
                yield _sse(event.kind, event.data)
        except SesamError as exc:
            yield _sse("error", {"detail": str(exc)})
        except Exception:  # noqa: BLE001 - the stream says so instead of breaking off silently
            yield _sse("error", {"detail": "The answer could not be completed; try again."})

    return StreamingResponse(generate(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
