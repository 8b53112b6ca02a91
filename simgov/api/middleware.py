"""One plain ASGI middleware for every request: body and time limits, how many writes run at once,
how many failed key checks an address may make, request id, security headers, metrics, access log."""
from __future__ import annotations

import asyncio
import logging
import math
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import metrics
from .deps import KEY_SCOPE
from .errors import ApiError, error_json

log = logging.getLogger("simgov.api")
access_log = logging.getLogger("simgov.api.access")

# The console is one static page with its script and style files: nothing inline, nothing remote.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def _log_late_failure(task: asyncio.Task) -> None:
    """A request answered 503 that failed afterwards: logged, since nobody else will see it."""
    if not task.cancelled() and task.exception() is not None:
        log.error("request failed after its time limit", exc_info=task.exception())


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS handling, with a refused preflight answered in the API's JSON error shape
    (Starlette answers it in plain text) and the same headers."""

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code != 400:
            return answer
        refused = bytes(answer.body).decode().removeprefix("Disallowed CORS ")
        headers = {k: v for k, v in answer.headers.items() if k not in ("content-length", "content-type")}
        return error_json(400, "cors_refused", f"cross-origin request refused: {refused} not allowed", headers)


class FailedAuthLimiter:
    """A token bucket per client address, spent by every 401 answer: an address that keeps sending
    missing or wrong keys is answered 429 for a while, whatever it sends, instead of being free to
    try keys as fast as the server answers. Addresses with a full bucket are forgotten first."""

    def __init__(self, rate: float, burst: int, max_addresses: int = 10_000):
        self.rate, self.burst, self.max_addresses = rate, burst, max_addresses
        self._buckets: dict[str, tuple[float, float]] = {}  # address -> (tokens, when counted)

    def _tokens(self, address: str, now: float) -> float:
        tokens, then = self._buckets.get(address, (float(self.burst), now))
        return min(float(self.burst), tokens + (now - then) * self.rate)

    def wait(self, address: str) -> float:
        """0.0 when the address may be answered, else the seconds until it may."""
        if self.rate == 0 or address not in self._buckets:
            return 0.0
        tokens = self._tokens(address, time.monotonic())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def failed(self, address: str) -> None:
        if self.rate == 0:
            return
        now = time.monotonic()
        if len(self._buckets) >= self.max_addresses and address not in self._buckets:
            self._buckets = {a: b for a, b in self._buckets.items() if self._tokens(a, now) < self.burst}
            if len(self._buckets) >= self.max_addresses:  # every one still counting: the oldest goes
                self._buckets.pop(next(iter(self._buckets)))
        self._buckets[address] = (self._tokens(address, now) - 1.0, now)


def _is_write(scope: Scope) -> bool:
    """A request that changes the index (a search or a compare posts a body but only reads)."""
    return scope["method"] in ("PUT", "POST", "PATCH", "DELETE") and scope["path"] not in ("/v1/search", "/v1/compare")


class RequestMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int, timeout_s: float, max_concurrent_writes: int,
                 failed_auth: FailedAuthLimiter):
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.timeout_s = timeout_s
        self.max_concurrent_writes = max_concurrent_writes
        self.writes = 0  # writes running in this process (one event loop: no lock needed)
        self.failed_auth = failed_auth

    async def _within_time_limit(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app's answer, or a 503 once the time limit passes without one. The late work runs on
        (a worker thread cannot be stopped) but whatever it sends is dropped."""
        late = started = False

        async def send_unless_late(message: Message) -> None:
            nonlocal started
            if not late:
                started = started or message["type"] == "http.response.start"
                await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, send_unless_late))
        try:
            done, _ = await asyncio.wait({task}, timeout=self.timeout_s)
        except asyncio.CancelledError:  # the client went away
            task.cancel()
            raise
        if done or started:
            await task  # finished, or its answer is already on the way
            return
        late = True
        task.add_done_callback(_log_late_failure)
        await error_json(503, "timeout", f"the request took longer than the limit of {self.timeout_s:g} s; "
                         "try again later", headers={"retry-after": "1"})(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        given_id = headers.get("x-request-id", "")
        request_id = given_id if _REQUEST_ID.match(given_id) else uuid.uuid4().hex
        status = 0
        address = (scope.get("client") or ("", 0))[0]
        limit = self.max_body_bytes
        too_large = f"request body over the limit of {limit} bytes"

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 401:  # counted before the client can see it and send its next guess
                    self.failed_auth.failed(address)
                out = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    out.setdefault(name, value)
                if scope["path"].startswith("/v1/"):
                    out.setdefault("cache-control", "no-store")
                out["x-request-id"] = request_id
            await send(message)

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise ApiError(413, "too_large", too_large)
            return message

        write = _is_write(scope)
        try:
            length = headers.get("content-length")
            refused_for = math.ceil(self.failed_auth.wait(address))
            if refused_for:
                await error_json(429, "rate_limited", "too many requests with a missing or invalid API key from this "
                                 f"address; retry after {refused_for} s", headers={"retry-after": str(refused_for)})(
                    scope, receive, send_with_headers)
            elif length is not None and length.isdigit() and int(length) > limit:
                await error_json(413, "too_large", too_large, headers={"connection": "close"})(
                    scope, receive, send_with_headers)
            elif write and self.writes >= self.max_concurrent_writes:
                await error_json(503, "busy", f"{self.writes} writes are already running, the most this server takes "
                                 "at once; nothing of this request was applied, send it again shortly",
                                 headers={"retry-after": "1"})(scope, receive, send_with_headers)
            elif write:
                # Its body must arrive within the time limit; its work then has none, so that its
                # answer always says whether it was applied (a 503 said "may still finish").
                deadline = time.monotonic() + self.timeout_s
                body_done = False

                async def receive_in_time() -> Message:
                    nonlocal body_done
                    if body_done:
                        return await limited_receive()
                    try:
                        message = await asyncio.wait_for(limited_receive(), max(0.0, deadline - time.monotonic()))
                        body_done = not message.get("more_body", False)
                        return message
                    except asyncio.TimeoutError:
                        raise ApiError(408, "timeout", f"the request body did not arrive within {self.timeout_s:g} s; "
                                       "nothing was applied", headers={"connection": "close"}) from None

                self.writes += 1
                try:
                    await self.app(scope, receive_in_time, send_with_headers)
                finally:
                    self.writes -= 1
            else:
                await self._within_time_limit(scope, limited_receive, send_with_headers)
        except Exception:
            # Answered here rather than by Starlette's outermost handler, which would re-raise and
            # make the server drop the connection.
            if status:
                raise
            log.exception("unhandled error on %s %s", scope["method"], scope["path"], extra={"request_id": request_id})
            await error_json(500, "internal_error", "internal error; the service logged the details")(
                scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            status = status or 500
            metrics.REQUESTS.labels(method, route, str(status)).inc()
            metrics.LATENCY.labels(method, route).observe(elapsed)
            access_log.info("request", extra={
                "request_id": request_id, "method": method, "path": scope["path"], "route": route,
                "status": status, "ms": round(elapsed * 1000, 2), "key_id": scope.get(KEY_SCOPE),
                "client": address,
            })
