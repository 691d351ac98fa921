"""A small OpenAI-compatible chat-completions server on 127.0.0.1 for tests, scriptable per test."""

from __future__ import annotations

import json
import re
import select
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeLLM:
    """``reply(messages) -> str`` decides the answer; ``status`` and ``delay_s`` simulate failures."""

    def __init__(self) -> None:
        self.reply: Callable[[list[dict]], str] = lambda messages: "Det står i källan. [1]"
        self.status = 200
        self.delay_s = 0.0
        self.chunk_delay_s = 0.0  # between the pieces of a streamed reply (``"stream": true``)
        self.requests: list[dict] = []
        self.dropped: list[float] = []  # time.monotonic() when sesam closed a connection before the reply ended
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def pause(self, seconds: float) -> bool:
                """Sleep ``seconds``, or less when the client closes the connection: then note when, and say so."""
                deadline = time.monotonic() + seconds
                while (left := deadline - time.monotonic()) > 0:
                    if select.select([self.connection], [], [], min(left, 0.05))[0]:
                        try:
                            closed = self.connection.recv(1, socket.MSG_PEEK) == b""
                        except OSError:
                            closed = True
                        if closed:
                            owner.dropped.append(time.monotonic())
                            return False
                return True

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                owner.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if not self.pause(owner.delay_s):
                    return
                if owner.status != 200:
                    self.send_response(owner.status)
                    self.end_headers()
                    self.wfile.write(b'{"error": "boom"}')
                    return
                content = owner.reply(body.get("messages", []))
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for piece in re.findall(r"\S+\s*", content):
                        chunk = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": piece}}]}
                        try:
                            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                            self.wfile.flush()
                        except OSError:  # the client closed the connection before this piece
                            owner.dropped.append(time.monotonic())
                            return
                        if not self.pause(owner.chunk_delay_s):
                            return
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                data = json.dumps({"id": "x", "object": "chat.completion", "model": body.get("model"),
                                   "choices": [{"index": 0, "finish_reason": "stop",
                                                "message": {"role": "assistant", "content": content}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
