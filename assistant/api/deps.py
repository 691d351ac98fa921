"""Dependencies: the settings, the Assistant (503 until an index exists) and the admin key check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from assistant.engine import Assistant
from assistant.types import Filters
from ingest.errors import IndexMissingError, QueryError
from ingest.settings import Settings, too_long


class CodedHTTPException(HTTPException):
    """An HTTP error with its own ``code`` (``no-index``, ``reingest-running``; assistant.api.codes). A plain
    HTTPException gets the code of its status (``codes.BY_STATUS``)."""

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


def require_admin(settings: Annotated[Settings, Depends(get_settings)],
                  x_api_key: Annotated[str | None, Header()] = None) -> None:
    """Admin endpoints exist only when a key is configured, and need it (compared in constant time)."""
    if settings.admin_api_key is None:
        raise HTTPException(404, detail="Not Found")
    expected = settings.admin_api_key.get_secret_value().encode()
    if x_api_key is None or not secrets.compare_digest(x_api_key.encode(), expected):
        raise HTTPException(401, detail="A valid X-API-Key header is needed for admin endpoints.")


SettingsDep = Annotated[Settings, Depends(get_settings)]
AssistantDep = Annotated[Assistant, Depends(get_assistant)]
AdminDep = Depends(require_admin)


def checked_filters(text: str, what: str, filters, settings: Settings, assistant: Assistant) -> Filters | None:
    """The checks the question endpoints share: the length limit, and filters that name only indexed documents."""
    message = too_long(text, settings.max_question_chars, what)
    if message:
        raise QueryError(message)
    if filters is None:
        return None
    unknown = sorted(set(filters.doc_ids) - assistant.document_ids())
    if unknown:
        raise QueryError("The filter names documents that are not in the index: "
                         + ", ".join(repr(d) for d in unknown) + "; list them with GET /v1/documents.")
    return filters.to_filters()
