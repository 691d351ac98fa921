"""Where the chat's answers come from: the in-process Assistant, or a `sesam serve` over HTTP.

Both yield the same typed events — ``Sources`` first, then ``Piece``s of the text, then ``Finished`` — and raise
``BackendError`` with a kind that ``error_text`` puts in the interface's words (the detail is for the log).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import httpx

from assistant.api.codes import NO_MATCH
from assistant.i18n import no_match, t
from assistant.intents import is_reply
from assistant.types import Citation, Filters
from ingest.errors import IndexMissingError, SesamError
from ingest.settings import Settings


class BackendError(SesamError):
    """The backend cannot be used or a request failed."""

    def __init__(self, kind: str, detail: str = "", retry_after: int | None = None,
                 filters: Filters | None = None) -> None:
        super().__init__(detail or kind)
        self.kind = kind  # "no_index", "unreachable", "busy" (429), "invalid" (413, 422), "filter" or "failed"
        self.detail = detail
        self.retry_after = retry_after
        self.filters = filters  # "filter": the filters that leave no document


def error_text(error: BackendError, lang: str, server_url: str | None, index_dir: Path | None) -> str:
    """What the chat tells its user about ``error``, in ``lang``: what went wrong and what to do about it."""
    if error.kind == "no_index":
        if server_url:
            return t(lang, "no_index_server")
        where = str(index_dir or Path(".sesam/index"))
        return t(lang, "no_index", dir=where, cmd=f"sesam ingest --index {shlex.quote(where)}")
    if error.kind == "unreachable":
        return t(lang, "unreachable", url=server_url or "")
    if error.kind == "busy":
        if not error.retry_after:
            return t(lang, "limit_soon")
        return t(lang, "limit_one") if error.retry_after == 1 else t(lang, "limit", s=str(error.retry_after))
    if error.kind == "invalid":
        return t(lang, "invalid")
    if error.kind == "filter":  # the filter leaves no document: the HTTP API's 422 sentence, in the chat's language
        return no_match(lang, error.filters)
    return t(lang, "failed")


@dataclass(frozen=True)
class Sources:
    citations: tuple[Citation, ...]
    abstained: bool
    reply: bool = False  # a greeting, thanks, a request or gibberish got a one-line reply (assistant.intents)


@dataclass(frozen=True)
class Piece:
    text: str


@dataclass(frozen=True)
class Finished:
    text: str
    reply: bool = False  # as in Sources


Event = Sources | Piece | Finished


class ChatBackend(Protocol):
    def info(self) -> dict: ...
    def documents(self) -> list[dict]: ...
    def page_text(self, doc_id: str, page: int) -> str: ...
    def ask_stream(self, question: str, *, filters: Filters | None, session_id: str,
                   lang: str | None) -> Iterator[Event]: ...


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
        p = self._assistant.page(doc_id, page)
        return p.text if p else ""

    def ask_stream(self, question, *, filters, session_id, lang):
        from assistant.streaming import answer_events

        if filters and not self._assistant.matches(filters):  # an error, as over HTTP (422), not an abstention
            raise BackendError("filter", no_match("en", filters), filters=filters)
        try:
            for event in answer_events(self._assistant, question, filters=filters, session_id=session_id, lang=lang):
                if event[0] == "citations":
                    yield Sources(tuple(event[1]), event[2], is_reply(event[4]))
                elif event[0] == "delta":
                    yield Piece(event[1])
                else:
                    yield Finished(event[1].text, event[1].reply)
        except SesamError as exc:
            raise BackendError("failed", str(exc)) from exc


def _error(response: httpx.Response, filters: Filters | None = None) -> BackendError:
    try:
        body = response.json()
        detail, code, ours = body.get("detail", ""), body.get("code"), True
    except (ValueError, AttributeError):  # not sesam's JSON: a proxy's page, say
        detail, code, ours = response.text[:200], None, False
    status = response.status_code
    if status in (502, 503, 504) and not ours:  # a proxy in front of sesam says it is down
        return BackendError("unreachable", f"HTTP {status} that is not sesam's: {detail}")
    if status == 422 and code == NO_MATCH and filters:  # said as the local backend says it, in the chat's language
        return BackendError("filter", detail, filters=filters)
    if status == 429:
        retry = response.headers.get("retry-after", "")
        return BackendError("busy", detail, int(retry) if retry.isdigit() else None)
    if status in (413, 422):
        return BackendError("invalid", detail)
    if status == 503:
        return BackendError("no_index", detail)
    return BackendError("failed", f"HTTP {status}: {detail}")


class HttpBackend:
    """A `sesam serve` at ``url``, streaming answers over Server-Sent Events."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)
        self._sessions: dict[str, str] = {}  # the chat's conversation → the id the server gave it (it chooses them)
        try:
            health = self._http.get("/v1/health")
        except httpx.HTTPError as exc:
            self._http.close()
            raise BackendError("unreachable", str(exc)) from exc
        if health.status_code != 200:  # 503: no index yet (sesam's JSON), or sesam down behind a proxy (its page)
            self._http.close()
            raise _error(health)

    def _get(self, path: str, read: Callable[[dict], T]) -> T:
        """``read`` of the JSON that GET ``path`` answers; an answer that is not JSON or lacks a field that ``read``
        takes is a BackendError, as a failed request is."""
        try:
            r = self._http.get(path)
        except httpx.HTTPError as exc:
            raise BackendError("unreachable", str(exc)) from exc
        if r.status_code != 200:
            raise _error(r)
        return _decoded(f"GET {path}", lambda: read(r.json()))

    def info(self) -> dict:
        return self._get("/v1/stats", lambda body: body["index"] or {})

    def documents(self) -> list[dict]:
        return self._get("/v1/documents", lambda body: [
            {"doc_id": d["doc_id"], "title": d["title"], "language": d["language"]} for d in body["documents"]])

    def page_text(self, doc_id: str, page: int) -> str:
        return self._get(f"/v1/documents/{doc_id}?page={int(page)}&max_pages=1",
                         lambda body: next((p["text"] for p in body["pages"] if p["number"] == page), ""))

    def ask_stream(self, question, *, filters, session_id, lang):
        body = {"question": question, "session_id": self._sessions.get(session_id, "new"), "lang": lang}
        if filters:
            body["filters"] = {"doc_ids": list(filters.doc_ids), "languages": list(filters.languages)}
        try:
            with self._http.stream("POST", "/v1/ask/stream", json=body) as r:
                if r.status_code != 200:
                    r.read()
                    raise _error(r, filters)
                kind, data = "message", ""
                for line in r.iter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        data += line[6:]
                    elif not line and data:
                        payload = _decoded(f"event {kind!r}", lambda: json.loads(data))
                        event = _decoded(f"event {kind!r}", lambda: _event(kind, payload))
                        if kind == "done" and isinstance(given := payload["answer"].get("session_id"), str):
                            self._sessions[session_id] = given
                        yield event
                        kind, data = "message", ""
        except httpx.HTTPError as exc:
            raise BackendError("unreachable", str(exc)) from exc


def _event(kind: str, data: dict) -> Event:
    if kind == "citations":
        return Sources(tuple(Citation.from_public(c) for c in data["citations"]), bool(data["abstained"]),
                       bool(data.get("reply")))
    if kind == "delta":
        return Piece(data["text"])
    if kind == "done":
        return Finished(data["answer"]["answer"], bool(data["answer"].get("reply")))
    raise BackendError("failed", data.get("detail", f"unexpected event {kind!r}"))


T = TypeVar("T")


def _decoded(what: str, read: Callable[[], T]) -> T:
    """``read()``, where an answer that is not JSON, or not of the shape expected (a field missing, another type),
    is a BackendError that says so: a proxy's HTML page or a cut body is a failed request, never a traceback."""
    try:
        return read()
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:  # JSONDecodeError is a ValueError
        raise BackendError("failed", f"{what}: not the answer expected ({type(exc).__name__}: {exc})") from exc


def open_backend(settings: Settings) -> ChatBackend:
    return HttpBackend(settings.server_url) if settings.server_url else LocalBackend(settings)
