"""POST /v1/ask and POST /v1/ask/stream (Server-Sent Events)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from assistant.api.cancel import ClientWatch
from assistant.api.codes import INTERNAL
from assistant.api.deps import AssistantDep, JsonDep, SettingsDep, checked_filters
from assistant.api.schemas import AnswerOut, AskIn, ErrorOut
from assistant.engine import Assistant
from assistant.streaming import public_answer, stream_events
from ingest.errors import SesamError
from ingest.settings import Settings

log = logging.getLogger("sesam.http")
router = APIRouter(prefix="/v1", tags=["answers"], dependencies=[JsonDep])
ERRORS = {422: {"model": ErrorOut}, 429: {"model": ErrorOut}, 413: {"model": ErrorOut}, 415: {"model": ErrorOut},
          503: {"model": ErrorOut}}


def _kwargs(body: AskIn, settings: Settings, assistant: Assistant) -> dict:
    # no session_id: nothing is kept; an id this service gave out (not expired) continues its conversation; any
    # other ("new") starts one under an id the service chooses
    session = body.session_id
    if session is not None and not assistant.sessions.known(session):
        session = assistant.sessions.new_id()
    return {"k": body.k or settings.top_k, "lang": body.lang, "session_id": session,
            "filters": checked_filters(body.question, "question", body.filters, settings, assistant)}


@router.post("/ask", response_model=AnswerOut, responses=ERRORS, summary="Answer a question with citations")
async def ask(body: AskIn, assistant: AssistantDep, settings: SettingsDep, request: Request) -> dict:
    request.state.question = body.question  # for the access log, which prints it only when log_questions is on
    kwargs = _kwargs(body, settings, assistant)
    answer = await ClientWatch(request).run(assistant.ask, body.question, **kwargs)
    return public_answer(answer, kwargs["session_id"])


def _sse(kind: str, data: dict) -> str:
    return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


@router.post("/ask/stream", responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
             summary="Answer a question as Server-Sent Events: citations, delta…, done")
async def ask_stream(body: AskIn, assistant: AssistantDep, settings: SettingsDep,
                     request: Request) -> StreamingResponse:
    request.state.question = body.question
    client = ClientWatch(request)  # the client going away cancels the model's call, also half-way through its reply
    events = stream_events(assistant, body.question, **_kwargs(body, settings, assistant))
    # errors in the question surface as a normal HTTP error, before streaming starts
    first = await client.run(next, events)

    def generate() -> Iterator[str]:
        yield _sse(first.kind, first.data)
        try:
            for event in events:
                yield _sse(event.kind, event.data)
        except SesamError as exc:
            log.error("answer stream broke off: %s", exc, exc_info=exc)
            yield _sse("error", {"detail": exc.public, "code": exc.code})
        except Exception as exc:  # noqa: BLE001 - the stream says so instead of breaking off silently
            log.error("answer stream broke off unexpectedly: %s", exc, exc_info=exc)
            yield _sse("error", {"detail": "The answer could not be completed; try again.", "code": INTERNAL})

    return StreamingResponse(client.stream(generate()), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
