"""Dependencies: the settings, the Assistant (503 until an index exists) and the admin key check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from assistant.engine import Assistant
from assistant.i18n import no_match
from assistant.types import Filters
from assistant.api.codes import NO_MATCH, NOT_FOUND, UNAUTHORIZED, UNSUPPORTED_MEDIA_TYPE
from ingest.errors import IndexMissingError, QueryError
from ingest.settings import Settings, too_long

UNKNOWN_PATH = "There is nothing at this address; check the URL. The endpoints are listed at /docs."
ADMIN_KEY_NEEDED = "A valid X-API-Key header is needed for admin endpoints."
ADMIN_PREFIX = "/v1/admin"


class CodedHTTPException(HTTPException):
    """An HTTP error with its own ``code`` (``no-index``, ``reingest-running``, ``filter-matches-nothing``;
    assistant.api.codes). A plain HTTPException gets the code of its status (``codes.BY_STATUS``)."""

    def __init__(self, status_code: int, detail: str, code: str) -> None:
        super().__init__(status_code, detail=detail)
        self.code = code


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_assistant(request: Request) -> Assistant:
    holder = request.app.state.holder
    assistant = holder.get()
    if assistant is None:  # why, in the public words and the code of the last failure (missing, damaged, …)
        raise CodedHTTPException(503, holder.last_error or IndexMissingError.public_message, holder.last_code)
    return assistant


def admin_refusal(settings: Settings, x_api_key: str | None) -> tuple[int, str, str] | None:
    """Why an admin request is refused, as (status, detail, code), or None when it may pass. Admin endpoints exist
    only when a key is configured (else 404, as an unknown path), and need it (compared in constant time)."""
    if settings.admin_api_key is None:
        return 404, UNKNOWN_PATH, NOT_FOUND
    expected = settings.admin_api_key.get_secret_value().encode()
    if x_api_key is None or not secrets.compare_digest(x_api_key.encode(), expected):
        return 401, ADMIN_KEY_NEEDED, UNAUTHORIZED
    return None


def require_admin(settings: Annotated[Settings, Depends(get_settings)],
                  x_api_key: Annotated[str | None, Header()] = None) -> None:
    """The admin router's own check; ``limits.AdminGate`` makes the same one before the body is read."""
    refused = admin_refusal(settings, x_api_key)
    if refused is not None:
        raise CodedHTTPException(*refused)


async def require_json(request: Request) -> None:
    """A body for a JSON endpoint must say that it is JSON. FastAPI does not parse a body of another type (or of
    none), so it reached the schema as bytes and was refused as "body: Input should be a valid dictionary"; and a
    cross-origin page may send text/plain without a CORS preflight. Runs before the body is validated; an empty
    body is left to the schema (it says the body is missing)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == "application/json" or (media.startswith("application/") and media.endswith("+json")):
        return
    if await request.body():
        raise CodedHTTPException(415, "The request body must be JSON sent with the header Content-Type: "
                                      "application/json; send it again with that header.", UNSUPPORTED_MEDIA_TYPE)


SettingsDep = Annotated[Settings, Depends(get_settings)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]
AdminDep = Depends(require_admin)
JsonDep = Depends(require_json)


def checked_filters(text: str, what: str, filters, settings: Settings, assistant: Assistant) -> Filters | None:
    """The checks the question endpoints share: the length limit, and filters that name only indexed documents and
    publishers and leave some passage to search (a filter that matches nothing is the client's mistake, not a
    question the documents fail to answer)."""
    message = too_long(text, settings.max_question_chars, what)
    if message:
        raise QueryError(message)
    if filters is None:
        return None
    _refuse_unknown(filters.doc_ids, assistant.document_ids(), "documents that are not in the index",
                    "list them with GET /v1/documents")
    _refuse_unknown(filters.publishers, {d.publisher for d in assistant.documents()},
                    "publishers that no indexed document has", "GET /v1/documents lists each document's publisher")
    chosen = filters.to_filters()
    if chosen and not assistant.matches(chosen):  # each part names something indexed, but not together
        raise CodedHTTPException(422, f"{no_match('en', chosen)} GET /v1/documents lists the documents with their "
                                      "language and publisher.", NO_MATCH)
    return chosen


def _refuse_unknown(asked, known: set[str], what: str, hint: str) -> None:
    unknown = sorted(set(asked) - known)
    if unknown:
        raise QueryError(f"The filter names {what}: " + ", ".join(repr(v) for v in unknown) + f"; {hint}.")
