"""Every error the API answers, as `{"error": {"code", "message"}}`, never with a stack trace."""
from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from simgov.errors import BadInput, ImageTooLarge, SimgovError, UnknownId
from simgov.storage.errors import StorageUnavailable

from .models import ErrorResponse

log = logging.getLogger("simgov.api")

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
          413: "too_large", 415: "unsupported_media_type", 422: "validation_error", 429: "rate_limited",
          503: "unavailable"}


class ApiError(StarletteHTTPException):
    """An HTTP error with our own code (an HTTPException, so FastAPI re-raises it from body parsing)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(status_code=status, detail=message, headers=headers)
        self.code = code


def error_json(status: int, code: str, message: str, headers: dict[str, str] | None = None,
               details: list[dict[str, Any]] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _allowed_methods(request: Request) -> str:
    """Every method the spec has for this path (Starlette's 405 names only the first route that matched)."""
    table = getattr(request.app.state, "allowed_methods", None)
    if table is None:
        table = [(compile_path(path)[0], {m.upper() for m in operations})
                 for path, operations in request.app.openapi()["paths"].items()]
        request.app.state.allowed_methods = table
    path = request.scope["path"]
    return ", ".join(sorted({m for regex, methods in table if regex.match(path) for m in methods}))


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = getattr(exc, "code", None) or _CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    headers = {k.lower(): v for k, v in (getattr(exc, "headers", None) or {}).items()}
    if exc.status_code == 404 and message == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        headers["allow"] = _allowed_methods(request) or headers.get("allow", "")
        message = f"{request.method} is not allowed on {request.url.path} (allowed: {headers['allow']})"
    return error_json(exc.status_code, code, message, headers=headers or None)


def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = []
    for err in exc.errors()[:20]:
        loc = [str(p) for p in err.get("loc", ())]
        details.append({"loc": loc, "msg": str(err.get("msg", "invalid")), "type": str(err.get("type", ""))})
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(p for p in first["loc"] if p not in ("body", "query", "path", "header")) or "request"
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return error_json(422, "validation_error", f"{where}: {first['msg']}{more}", details=details)


def _simgov_error(request: Request, exc: SimgovError) -> JSONResponse:
    if isinstance(exc, UnknownId):
        status = 404
    elif isinstance(exc, ImageTooLarge):
        status = 413
    elif isinstance(exc, BadInput):
        status = 422
    else:
        log.error("simgov error on %s %s: %s", request.method, request.url.path, exc)
        status = 500
    return error_json(status, exc.code, str(exc))


def _storage_error(request: Request, exc: StorageUnavailable) -> JSONResponse:
    """The store cannot be written (a full disk, a read-only folder) or stays locked. A write that
    failed was rolled back, so the request may simply be sent again."""
    log.error("store error on %s %s: %s", request.method, request.url.path, exc)
    return error_json(503, "storage_unavailable", "the index store cannot be used right now (a full disk, a "
                      "read-only folder or a long lock); a failed write was not applied, send it again later",
                      headers={"retry-after": "5"})


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_json(500, "internal_error", "internal error; the service logged the details")


def install(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(SimgovError, _simgov_error)
    app.add_exception_handler(StorageUnavailable, _storage_error)
    app.add_exception_handler(Exception, _unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error answers a route can give."""
    return {s: {"model": ErrorResponse, "description": HTTPStatus(s).phrase} for s in statuses}
