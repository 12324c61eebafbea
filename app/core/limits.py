"""At most N requests per worker inside the application at once; the rest wait in the event loop.

Why: a sync endpoint takes a database connection in one threadpool hop (the tenant or user dependency) and
keeps it while it waits for the next hop. With more requests in flight than pooled connections, every
worker thread can end up waiting for a connection that is held by a request waiting for a thread: the
worker stalls until `pool_timeout`. Admitting no more requests than the pool holds makes that impossible,
keeps latency flat under a burst (queued requests cost a coroutine, not a thread), and answers 503 with
`Retry-After` when a request has waited too long. A slot is released when the response starts: by then
the request's session has committed and closed (the session dependency runs before the response is sent),
so a long download does not hold a slot.
"""

from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Paths that never touch the database through a request session, or must answer while the app is saturated.
EXEMPT_PREFIXES = ("/static/", "/healthz", "/readyz", "/__bench/")


class ConcurrencyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limit: int, queue_timeout: float) -> None:
        self.app = app
        self.limit = limit
        self.queue_timeout = queue_timeout
        self._semaphore: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        if self._semaphore is None:  # created inside the worker's event loop
            self._semaphore = asyncio.Semaphore(self.limit)
        semaphore = self._semaphore
        try:
            await asyncio.wait_for(semaphore.acquire(), timeout=self.queue_timeout)
        except TimeoutError:
            await _busy(scope, send)
            return
        held = True

        async def send_wrapper(message: Message) -> None:
            nonlocal held
            if held and message["type"] == "http.response.start":
                held = False
                semaphore.release()
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if held:
                semaphore.release()


async def _busy(scope: Scope, send: Send) -> None:
    body = json.dumps(
        {
            "type": "about:blank",
            "title": "Service unavailable",
            "status": 503,
            "detail": "Hệ thống đang bận, vui lòng thử lại sau giây lát. / The service is busy, retry soon.",
            "code": "busy",
        },
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"5"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
