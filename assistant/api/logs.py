"""Service logs: text or JSON lines on stderr, and one access line per request (never the question unless asked)."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from typing import IO

from assistant.api.limits import ClientAddress

access_log = logging.getLogger("sesam.access")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_MARK = "_sesam_handler"  # set on the handler configure_logging installs, so a second call replaces only it


class TextFormatter(logging.Formatter):
    """``2026-11-26T10:00:00.123Z INFO sesam.access request method=POST path=/v1/ask status=200 …``"""

    def format(self, record: logging.LogRecord) -> str:
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        line = f"{when} {record.levelname} {record.name} {_escape(record.getMessage())}"
        fields = getattr(record, "fields", None) or {}
        line += "".join(f" {key}={_text_value(value)}" for key, value in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _escape(text: str) -> str:
    """Every control character (C0, DEL, C1) as ``\\uXXXX``: a URL or header cannot forge log lines or fields, or
    send a terminal escape sequence to whoever reads the log."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _text_value(value: object) -> str:
    """Plain when unambiguous, else quoted as JSON (questions with spaces, empty strings, control characters)."""
    if isinstance(value, str) and (not value or any(c in value for c in ' ="\\') or _CONTROL.search(value)):
        return _escape(json.dumps(value, ensure_ascii=False))
    return _escape(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the record's fields, and ``error`` with its causes."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
               "level": record.levelname.lower(), "logger": record.name, "pid": record.process,
               "message": record.getMessage(),
               **(getattr(record, "fields", None) or {})}
        if record.exc_info and record.exc_info[1] is not None:
            out["error"] = _causes(record.exc_info[1])
            out["traceback"] = self.formatException(record.exc_info)
        return _escape(json.dumps(out, ensure_ascii=False, default=str))  # JSON leaves DEL and C1 raw


def _causes(exc: BaseException) -> list[str]:
    """The exception and the chain of causes behind it, outermost first."""
    chain: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 10:
        chain.append(f"{type(seen).__name__}: {seen}")
        seen = seen.__cause__ or seen.__context__
    return chain


def configure_logging(level: str = "info", fmt: str = "text", stream: IO[str] | None = None) -> logging.Handler:
    """Send every logger (sesam's and uvicorn's) to ``stream`` (stderr) at ``level`` in ``fmt``; idempotent."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    setattr(handler, _MARK, True)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our access line replaces uvicorn's
    logging.getLogger("faiss").setLevel(logging.WARNING)  # its loader narrates every CPU feature it tries
    return handler


class AccessLog:
    """ASGI middleware: after each HTTP request, log method, path, status, duration and client on sesam.access,
    and count the answer in ``counters`` (``2xx`` … ``5xx`` and ``total``, for /v1/stats): every answer, also
    those of the limits, of CORS and of unexpected errors."""

    def __init__(self, app, client: ClientAddress, log_questions: bool = False,
                 counters: Counter | None = None) -> None:
        self.app, self.client, self.log_questions = app, client, log_questions
        self.counters = Counter() if counters is None else counters

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        status = 500  # what the client sees if the app dies before it answers

        async def send_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            fields = {"method": scope["method"], "path": scope["path"], "status": status,
                      "duration_ms": round((time.perf_counter() - start) * 1000, 1), "client": self.client(scope)}
            question = (scope.get("state") or {}).get("question")
            if self.log_questions and question is not None:
                fields["question"] = question
            self.counters[f"{status // 100}xx"] += 1
            self.counters["total"] += 1
            access_log.info("request", extra={"fields": fields})
