"""The HTTP API and the investigator console (CONTRACT.md section 4), as an app factory.

`create_app(index_dir)` makes the app; the server's start opens the index once for the process, and
every request shares it. Writes go to the SQLite store first (the source of truth) and are
replayed into the search structures at once; lookups call `SimIndex.refresh()`, which picks up other workers' writes and newly published
index generations, so several uvicorn workers (`create_app_from_env`) stay in step.
"""
from __future__ import annotations

import os
from contextlib import asynccontextmanager
from pathlib import Path

import faiss
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from simgov.index import SimIndex
from simgov.keys import KeyStore

from . import errors
from .middleware import RequestMiddleware
from .routers import accounts, audit, console, images, items, ops, search

INDEX_ENV = "SIMGOV_INDEX"
MAX_BODY_ENV = "SIMGOV_MAX_BODY_BYTES"
#: Largest request body (an upload batch or a query picture), unless configured otherwise.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024

DESCRIPTION = """Similarity lookups over a simgov index: items, their neighbours, search by text or picture,
batch writes that are searchable and durable as soon as they are answered.

Every endpoint but `/healthz` needs `Authorization: Bearer <key>` (`simgov keys create --role R`).
Roles: `investigator` reads (every read is recorded in the audit trail), `ingest` writes, `admin` does
both and reads the audit trail and metrics. Errors are `{"error": {"code", "message"}}`."""


def create_app(index_dir: str | os.PathLike, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> FastAPI:
    """The app over the index in `index_dir`, which is opened when the server starts."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # One query per search call gains nothing from OpenMP threads, and their spin-waiting
        # costs a lot when request threads and workers already share the cores.
        faiss.omp_set_num_threads(1)
        index = SimIndex.open(Path(index_dir))
        app.state.index = index
        app.state.keys = KeyStore(index.store)
        try:
            yield
        finally:
            index.close()

    app = FastAPI(title="simgov", version="1", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    errors.install(app)
    app.add_middleware(RequestMiddleware, max_body_bytes=max_body_bytes)
    for module in (ops, items, images, search, accounts, audit, console):
        app.include_router(module.router)
    app.mount("/ui/assets", StaticFiles(directory=console.STATIC), name="assets")
    return app


def create_app_from_env() -> FastAPI:
    """The factory uvicorn workers call: the index folder comes from SIMGOV_INDEX."""
    index_dir = os.environ.get(INDEX_ENV)
    if not index_dir:
        raise RuntimeError(f"set {INDEX_ENV} to the index folder")
    return create_app(index_dir, max_body_bytes=int(os.environ.get(MAX_BODY_ENV, DEFAULT_MAX_BODY_BYTES)))
