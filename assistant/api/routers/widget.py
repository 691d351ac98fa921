"""GET /widget.js (the embeddable script) and GET /widget (a demo page)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parents[2] / "static"
router = APIRouter(tags=["widget"])


@router.get("/widget.js", include_in_schema=False)
def widget_js() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})


@router.get("/widget", include_in_schema=False)
def widget_page() -> FileResponse:
    return FileResponse(STATIC / "widget.html", media_type="text/html")
