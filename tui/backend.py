"""Where the chat's answers come from: the in-process Assistant, or a `sesam serve` over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Protocol

import httpx

from assistant.types import Filters, StreamEvent
from ingest.errors import IndexMissingError, SesamError
from ingest.settings import Settings


class BackendError(SesamError):
    """The backend cannot be used or a request failed; the message is shown to the user."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind  # "no_index", "unreachable" or "failed"
        self.detail = detail


class ChatBackend(Protocol):
    def info(self) -> dict: ...
    def documents(self) -> list[dict]: ...
    def page_text(self, doc_id: str, page: int) -> str: ...
    def ask_stream(self, question: str, *, filters: Filters | None, session_id: str,
                   lang: str | None) -> Iterator[StreamEvent]: ...


class LocalBackend:
    """The Assistant in this process."""

    def __init__(self, settings: Settings) -> None:
        from assistant.engine import Assistant

        try:
            self._assistant = Assistant.open(settings)
        except IndexMissingError as exc:
            raise BackendError("no_index", str(exc)) from exc
        except SesamError as exc:
            raise BackendError("failed", str(exc)) from exc

    def info(self) -> dict:
        return self._assistant.info()

    def documents(self) -> list[dict]:
        return [{"doc_id": d.doc_id, "title": d.title, "language": d.language} for d in self._assistant.documents()]

    def page_text(self, doc_id: str, page: int) -> str:
        p = self._assistant.index.page(doc_id, page)
        return p.text if p else ""

    def ask_stream(self, question, *, filters, session_id, lang):
        try:
            yield from self._assistant.ask_stream(question, filters=filters, session_id=session_id, lang=lang)
        except SesamError as exc:
            raise BackendError("failed", str(exc)) from exc


class HttpBackend:
    """A `sesam serve` at ``url``, streaming answers over Server-Sent Events."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)
        try:
            health = self._http.get("/v1/health")
        except httpx.HTTPError as exc:
            raise BackendError("unreachable", str(exc)) from exc
        if health.status_code == 503:
            raise BackendError("no_index", health.json().get("detail", ""))

    def _get(self, path: str) -> dict:
        try:
            r = self._http.get(path)
            r.raise_for_status()
            return r.json()
        except httpx.HTTPError as exc:
            raise BackendError("failed", str(exc)) from exc

    def info(self) -> dict:
        return self._get("/v1/stats")["index"] or {}

    def documents(self) -> list[dict]:
        return self._get("/v1/documents")["documents"]

    def page_text(self, doc_id: str, page: int) -> str:
        pages = self._get(f"/v1/documents/{doc_id}?page={int(page)}&max_pages=1")["pages"]
        return next((p["text"] for p in pages if p["number"] == page), "")

    def ask_stream(self, question, *, filters, session_id, lang):
        body = {"question": question, "session_id": session_id, "lang": lang}
        if filters:
            body["filters"] = {"doc_ids": list(filters.doc_ids), "languages": list(filters.languages)}
        try:
            with self._http.stream("POST", "/v1/ask/stream", json=body) as r:
                if r.status_code != 200:
                    r.read()
                    raise BackendError("failed", r.json().get("detail", f"HTTP {r.status_code}"))
                kind, data = "message", ""
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        data += line[6:]
                    elif not line and data:
                        event = StreamEvent(kind, json.loads(data))
                        if kind == "error":
                            raise BackendError("failed", event.data.get("detail", ""))
                        yield event
                        kind, data = "message", ""
        except httpx.HTTPError as exc:
            raise BackendError("unreachable", str(exc)) from exc


def open_backend(settings: Settings) -> ChatBackend:
    return HttpBackend(settings.server_url) if settings.server_url else LocalBackend(settings)
