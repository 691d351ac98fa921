"""GET /widget.js (the embeddable script) and GET /widget (a demo page)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from assistant.i18n import widget_texts

STATIC = Path(__file__).resolve().parents[2] / "static"
router = APIRouter(tags=["widget"])


@cache
def _script() -> bytes:
    """widget.js with its texts written in (the placeholder ``/*sesam:texts*/null/*end*/``)."""
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    texts = json.dumps(widget_texts(), ensure_ascii=False).replace("</", "<\\/")
    return source.replace("/*sesam:texts*/null/*end*/", texts, 1).encode("utf-8")


@router.get("/widget.js", include_in_schema=False)
def widget_js() -> Response:
    return Response(_script(), media_type="text/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})


@router.get("/widget", include_in_schema=False)
def widget_page() -> FileResponse:
    return FileResponse(STATIC / "widget.html", media_type="text/html")
