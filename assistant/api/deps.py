"""Dependencies: the settings, the Assistant (503 until an index exists) and the admin key check."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from assistant.engine import Assistant
from ingest.settings import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_assistant(request: Request) -> Assistant:
    holder = request.app.state.holder
    assistant = holder.get()
    if assistant is None:  # why, in the public words of the last failure (missing, damaged, …)
        raise HTTPException(503, detail=holder.last_error or "No index is loaded yet; run `sesam ingest` first.")
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
