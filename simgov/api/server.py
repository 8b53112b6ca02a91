"""How uvicorn serves the app: what a client may hold open before it has sent a whole request head.

uvicorn closes an idle keep-alive connection after `timeout_keep_alive`, but has no limit on a
connection whose request headers never finish: 800 such connections stayed open. Here every
connection must complete its request line and headers within HEADER_TIMEOUT_S of opening (or of
the first byte of its next request), else it is closed. `limit_concurrency` is left unset on
purpose: it counts those idle connections too, so it would turn a slow client's connections into
503 answers for everyone else; the header time limit bounds what each connection may hold instead.
The body of a write has its own time limit (RequestMiddleware).
"""
from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

#: Seconds a connection may take to send its request line and headers.
HEADER_TIMEOUT_S = 10.0
#: Seconds an idle keep-alive connection stays open between requests (uvicorn's default).
KEEP_ALIVE_S = 5


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, closing a connection whose request head is not complete within
    `header_timeout_s`."""

    header_timeout_s = HEADER_TIMEOUT_S
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm_header_timer()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def uvicorn_options(header_timeout_s: float = HEADER_TIMEOUT_S) -> dict[str, Any]:
    """Keyword arguments for `uvicorn.run` / `uvicorn.Config` that apply the limits above. The
    protocol is named by its import path, so that `--workers N` processes can load it."""
    if header_timeout_s == HEADER_TIMEOUT_S:
        protocol: Any = f"{__name__}:HeaderTimeoutProtocol"
    else:  # one process only (a test's server)
        protocol = type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), {"header_timeout_s": header_timeout_s})
    return {"http": protocol, "timeout_keep_alive": KEEP_ALIVE_S}
