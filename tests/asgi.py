"""One in-process transport for tests: the real httpx client talks to the real ASGI app
without sockets (httpx's own ASGITransport is async-only)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
from anyio.from_thread import BlockingPortal
from starlette.types import ASGIApp


class SyncASGITransport(httpx.BaseTransport):
    """Run an ASGI app for a synchronous :class:`httpx.Client` through a blocking portal."""

    def __init__(self, app: ASGIApp, portal: BlockingPortal) -> None:
        self._transport = httpx.ASGITransport(app=app)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()  # the sync stream, replayed as an async one (same headers)

        async def stream() -> AsyncIterator[bytes]:
            yield body

        copy = httpx.Request(request.method, request.url, headers=request.headers, content=stream())
        return self._portal.call(self._send, copy)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._transport.handle_async_request(request)
        content = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=content)
