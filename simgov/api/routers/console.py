"""The investigator console: one static page, its script and its style (no data, so no key)."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/ui")
def console() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers={"cache-control": "no-cache"})
