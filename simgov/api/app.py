"""The HTTP API and the investigator console (CONTRACT.md section 4), as an app factory.

`create_app(index_dir)` makes the app; the server's start opens the index once for the process, and
every request shares it. Writes go to the SQLite store first (the source of truth) and are
replayed into the search structures at once; lookups call `SimIndex.refresh()`, which picks up other
workers' writes and newly published index generations, so several uvicorn workers
(`create_app_from_env`) stay in step.
"""
from __future__ import annotations

import gc
import os
import threading
from contextlib import asynccontextmanager
from pathlib import Path

import faiss
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from simgov.config import (BURST_ENV, CORS_ENV, INDEX_ENV, MAX_BODY_ENV, RATE_ENV, RATE_SHARED_ENV, TIMEOUT_ENV,
                           env, env_path)
from simgov.index import SimIndex
from simgov.keys import KeyStore

from . import errors
from .middleware import FailedAuthLimiter, JsonCORSMiddleware, RequestMiddleware
from .ratelimit import RateLimiter
from .routers import (accounts, audit, banks, compare, console, findings, images, items, ops, search, verdicts,
                      video_banks, videos)

#: Largest request body (an upload batch or a query picture), unless configured otherwise.
DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
#: Per key and server process: sustained requests a second, and the burst allowed above that.
DEFAULT_RATE, DEFAULT_BURST = 50.0, 200
#: A request still unanswered after this long gets a 503 (its work may still finish).
DEFAULT_TIMEOUT_S = 30.0
#: Writes (PUT, POST, PATCH, DELETE; not a search) one server process runs at once; more are answered
#: 503 at once, with nothing applied.
DEFAULT_MAX_CONCURRENT_WRITES = 2
#: Per client address and server process: requests answered 401 a second, and the burst allowed
#: above that, before the address is answered 429 (a client with a valid key never spends any).
FAILED_AUTH_RATE, FAILED_AUTH_BURST = 1.0, 100

DESCRIPTION = """Similarity lookups over a simgov index: items, their neighbours, search by text or picture,
batch writes that are searchable and durable as soon as they are answered.

Every endpoint but `/healthz` needs `Authorization: Bearer <key>` (`simgov keys create --role R`).
Roles: `investigator` reads (every read is recorded in the audit trail), `ingest` writes, `admin` does
both and reads the audit trail and metrics. Errors are `{"error": {"code", "message"}}`."""


def create_app(index_dir: str | os.PathLike, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               rate_per_second: float = DEFAULT_RATE, rate_burst: int = DEFAULT_BURST, rate_shared: Path | None = None,
               request_timeout_s: float = DEFAULT_TIMEOUT_S, cors_origins: list[str] | None = None,
               max_concurrent_writes: int = DEFAULT_MAX_CONCURRENT_WRITES, failed_auth_rate: float = FAILED_AUTH_RATE,
               failed_auth_burst: int = FAILED_AUTH_BURST) -> FastAPI:
    """The app over the index in `index_dir`, which is opened when the server starts.
    `rate_per_second=0` turns off both rate limits: per key, and per address for failed key checks."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # One query per search call gains nothing from OpenMP threads, and their spin-waiting
        # costs a lot when request threads and workers already share the cores.
        faiss.omp_set_num_threads(1)
        index = SimIndex.open(Path(index_dir))
        # what the server holds for its lifetime (the index's structures, the app) leaves the
        # collector's generations: full collections no longer walk it (they were ~5% of a lookup's CPU at 50k)
        gc.freeze()
        app.state.index = index
        app.state.keys = KeyStore(index.store)
        threading.Thread(target=index.accounts.warm, daemon=True, name="simgov-warm").start()
        # every listing's lookup candidates, for `similar` (built when missing; lookups answer live meanwhile)
        threading.Thread(target=index.neighbours.warm, args=(True,), daemon=True, name="simgov-neighbours").start()
        try:
            yield
        finally:
            index.close()

    # No trailing-slash redirects: Starlette builds their absolute URL from the Host header, so
    # `/ui/assets` would send a browser to whatever host a request named.
    app = FastAPI(title="simgov", version="1", description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json", redirect_slashes=False)
    errors.install(app)
    app.state.limiter = RateLimiter(rate_per_second, rate_burst, rate_shared)
    if cors_origins:  # added first, so that RequestMiddleware (headers, limits) stays the outermost
        app.add_middleware(JsonCORSMiddleware, allow_origins=cors_origins,
                           allow_methods=["GET", "POST", "PUT", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "X-Request-ID"], max_age=600)
    failed_auth = FailedAuthLimiter(failed_auth_rate if rate_per_second else 0.0, failed_auth_burst)
    app.add_middleware(RequestMiddleware, max_body_bytes=max_body_bytes, timeout_s=request_timeout_s,
                       max_concurrent_writes=max_concurrent_writes, failed_auth=failed_auth)
    for module in (ops, items, images, videos, search, compare, accounts, audit, verdicts, banks, video_banks, findings,
                   console):
        app.include_router(module.router)
    app.mount("/ui/assets", StaticFiles(directory=console.STATIC), name="assets")
    app.openapi = lambda: _with_limit_answers(FastAPI.openapi(app))
    return app


def _with_limit_answers(spec: dict) -> dict:
    """Document the answers every route can give: 503 past the time limit or (a write) when too many
    writes run, 429 past a key's rate or an address's failed key checks, 408 for a write whose body
    comes too slowly."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            write = method.upper() in ("PUT", "POST", "PATCH", "DELETE") and path not in ("/v1/search", "/v1/compare")
            extra = errors.responses(*((408, 429, 503) if write else (429, 503)))
            for status, answer in extra.items():
                operation["responses"].setdefault(str(status), {
                    "description": answer["description"],
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}})
    return spec


def create_app_from_env() -> FastAPI:
    """The factory uvicorn workers call: the index folder comes from SIMGOV_INDEX."""
    index_dir = env(INDEX_ENV)
    if not index_dir:
        raise RuntimeError(f"set {INDEX_ENV} to the index folder")
    return create_app(index_dir, max_body_bytes=int(env(MAX_BODY_ENV, str(DEFAULT_MAX_BODY_BYTES))),
                      rate_per_second=float(env(RATE_ENV, str(DEFAULT_RATE))),
                      rate_burst=int(env(BURST_ENV, str(DEFAULT_BURST))),
                      rate_shared=env_path(RATE_SHARED_ENV),
                      request_timeout_s=float(env(TIMEOUT_ENV, str(DEFAULT_TIMEOUT_S))),
                      cors_origins=[o.strip() for o in (env(CORS_ENV) or "").split(",") if o.strip()])
