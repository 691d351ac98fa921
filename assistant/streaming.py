"""Answers as they are written: in generative mode the model's checked sentences arrive while it writes.

``answer_events`` runs ``Assistant.ask`` in a worker thread with a streaming sink (assistant.generation) and
yields typed events: ``("citations", citations, abstained, lang, reason)`` first (``reason`` says, for one,
that a greeting got a reply: assistant.intents), then ``("delta", text)`` pieces, then ``("done", answer)``.
Extractive answers (and cached ones) come whole, cut into word pieces. When a generated answer fails its checks
late and the engine falls back to the extractive one, ``done`` carries the answer that counts; clients show the
text of ``done``.
"""

from __future__ import annotations

import contextvars
import queue
import re
import threading
from collections.abc import Iterator

from assistant.engine import Assistant
from assistant.generation import streaming
from assistant.intents import is_reply
from assistant.types import Answer, StreamEvent


def pieces(text: str) -> list[str]:
    """Word by word, as an answer appears."""
    return re.findall(r"\S+\s*|\s+", text)


def answer_events(assistant: Assistant, question: str, **kwargs) -> Iterator[tuple]:
    """Typed events of one answer; errors of the question (QueryError …) are raised by the first ``next``."""
    if not assistant.settings.llm_url:
        answer = assistant.ask(question, **kwargs)
        yield "citations", answer.citations, answer.abstained, answer.lang, answer.reason
        for piece in pieces(answer.text):
            yield "delta", piece
        yield "done", answer
        return
    events: queue.Queue = queue.Queue()

    def run() -> None:
        with streaming(lambda kind, data: events.put((kind, data))):
            try:
                events.put(("answer", assistant.ask(question, **kwargs)))
            except BaseException as exc:  # noqa: BLE001 - handed to the reader, who raises it
                events.put(("raise", exc))

    # the caller's context goes along: a Cancellation set by the HTTP layer reaches the LLM call (assistant.generation)
    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(run,), name="sesam-answer", daemon=True).start()
    cited = streamed = False
    while True:
        kind, data = events.get()
        if kind == "raise":
            raise data
        if kind == "citations" and not cited:
            cited = True
            yield "citations", tuple(data[0]), False, data[1], ""
        elif kind == "delta":
            streamed = True
            yield "delta", data
        elif kind == "answer":
            if not cited:
                yield "citations", data.citations, data.abstained, data.lang, data.reason
            if not streamed:
                for piece in pieces(data.text):
                    yield "delta", piece
            yield "done", data
            return


def stream_events(assistant: Assistant, question: str, **kwargs) -> Iterator[StreamEvent]:
    """``answer_events`` in the public JSON shapes of ``POST /v1/ask/stream``."""
    for event in answer_events(assistant, question, **kwargs):
        if event[0] == "citations":
            yield StreamEvent("citations", {"citations": [c.to_public() for c in event[1]], "abstained": event[2],
                                            "lang": event[3], "reason": event[4], "reply": is_reply(event[4])})
        elif event[0] == "delta":
            yield StreamEvent("delta", {"text": event[1]})
        else:
            yield StreamEvent("done", {"answer": public_answer(event[1], kwargs.get("session_id"))})


def public_answer(answer: Answer, session_id: str | None) -> dict:
    """The answer of ``POST /v1/ask``, and of the stream's ``done`` event: the same shape, with the session."""
    return {**answer.to_public(), "session_id": session_id}
