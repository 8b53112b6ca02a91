"""The investigator console and the API reference page: static pages, their scripts and style (no data, so
no key); `/` leads to the console."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/ui")
def console() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers={"cache-control": "no-cache"})


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/ui", status_code=307)


@router.get("/docs")
def docs() -> FileResponse:
    """The API reference, read from /openapi.json in the browser, with the auth header and a first call."""
    return FileResponse(STATIC / "docs.html", media_type="text/html", headers={"cache-control": "no-cache"})
