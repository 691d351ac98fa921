"""Generative mode against an endpoint on 127.0.0.1 that streams exactly the bytes a test scripts: split markers,
keepalives without end, malformed chunks, endless replies. Every failure must become GenerationError (the caller
answers extractively), and what streams must be what the final answer says."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler

import pytest

from assistant.generation import Generated, generate, streaming
from assistant.types import Citation
from ingest.errors import GenerationError
from tests.conftest import make_settings
from tests.localserver import local_server

CITATIONS = [Citation(1, "d", "Titel", "f.pdf", 1, "Arbetsintegrerande sociala företag säljer arbetsträning.", 1.0)]


def chunk(content: str) -> bytes:
    return f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': content}}]})}\n\n".encode()


@contextmanager
def scripted(pieces: list[bytes], pause_s: float = 0.0) -> Iterator[str]:
    """An endpoint that answers every request with ``pieces`` (raw bytes), ``pause_s`` apart; yields its /v1 URL."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            try:
                for piece in pieces:
                    self.wfile.write(piece)
                    self.wfile.flush()
                    time.sleep(pause_s)
            except OSError:  # sesam closed the connection
                pass

    with local_server(Handler) as url:
        yield url + "/v1"


def streamed(url: str, **settings) -> tuple[list[str], Generated]:
    deltas: list[str] = []

    def sink(kind: str, data: object) -> None:
        if kind == "delta":
            deltas.append(data)

    with streaming(sink):
        result = generate(make_settings(llm_url=url, **settings), "Vad är ett ASF?", CITATIONS, "sv")
    return deltas, result


def test_a_sentence_is_not_checked_before_its_marker_arrives() -> None:
    pieces = [chunk("Ett ASF säljer arbetsträning."), chunk(" ["), chunk("1]"), chunk(" Det är bäst i världen."),
              b"data: [DONE]\n\n"]
    with scripted(pieces) as url:
        deltas, result = streamed(url)
    assert result.text == "Ett ASF säljer arbetsträning. [1]"
    assert "".join(deltas).strip() == result.text


@pytest.mark.parametrize("stream", [True, False])
def test_an_endpoint_that_only_trickles_keepalives_is_given_up_on(stream: bool) -> None:
    keepalive = b": keepalive\n\n" if stream else b" "  # each read is quick, the reply never comes
    with scripted([keepalive] * 200, pause_s=0.05) as url:
        started = time.monotonic()
        with pytest.raises(GenerationError, match="did not finish within"):
            if stream:
                streamed(url, llm_timeout_s=0.3)
            else:
                generate(make_settings(llm_url=url, llm_timeout_s=0.3), "Vad är ett ASF?", CITATIONS, "sv")
        assert time.monotonic() - started < 3.0  # 3 × 0.3 s and a read, not the 10 s of keepalives


@pytest.mark.parametrize("bad", [b'data: {"choices":["garbage"]}\n\n', b'data: {"choices":[{"delta":"x"}]}\n\n',
                                 b'data: {"choices":[{"delta":{"content":5}}]}\n\n', b'data: ["x"]\n\n'])
def test_a_malformed_streamed_chunk_is_a_generation_error(bad: bytes) -> None:
    with scripted([chunk("Ett ASF säljer arbetsträning [1]. "), bad, b"data: [DONE]\n\n"]) as url:
        with pytest.raises(GenerationError):
            streamed(url)


def test_the_model_is_asked_for_a_bounded_reply_and_an_endless_one_is_refused() -> None:
    from assistant.generation import MAX_REPLY_CHARS, MAX_TOKENS
    from tests.llmserver import FakeLLM

    with FakeLLM() as llm:
        llm.reply = lambda m: "Ett ASF säljer arbetsträning [1]."
        generate(make_settings(llm_url=llm.url), "Vad är ett ASF?", CITATIONS, "sv")
        assert llm.requests[0]["body"]["max_tokens"] == MAX_TOKENS
        llm.reply = lambda m: "Ett ASF säljer arbetsträning [1]. " * (MAX_REPLY_CHARS // 30)
        for stream in (False, True):
            with pytest.raises(GenerationError, match="longer than"):
                if stream:
                    streamed(llm.url)
                else:
                    generate(make_settings(llm_url=llm.url), "Vad är ett ASF?", CITATIONS, "sv")


@pytest.mark.parametrize(("reply", "kept"), [
    ("Räntan är 3.5 procent [1].", "Räntan är 3.5 procent [1]."),  # not "5 procent [1]."
    ("Det gäller t.ex. kooperativ [1].", "Det gäller t.ex. kooperativ [1]."),
    ("ASF är bl.a. kooperativ [1]. Månen är ost.", "ASF är bl.a. kooperativ [1]."),
    ("Rad ett [1]\nRad två [1]\nSist [1].", "Rad ett [1] Rad två [1] Sist [1]."),  # a line is a sentence
    ("Enligt [1] är månen ost. ASF säljer arbetsträning [1].", "ASF säljer arbetsträning [1]."),  # must END with [n]
])
def test_sentences_split_at_their_ends_only_and_end_with_markers(reply: str, kept: str) -> None:
    pieces = [chunk(piece) for piece in reply.replace(" ", "\0 ").replace("\n", "\0\n").split("\0")]
    with scripted([*pieces, b"data: [DONE]\n\n"]) as url:
        deltas, result = streamed(url)
    assert result.text == kept
    assert "".join(deltas).strip() == kept
