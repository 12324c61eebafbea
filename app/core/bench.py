"""A bare ASGI "hello" for benchmarks: the ceiling the real endpoints are measured against.

Installed as the outermost middleware only when `BENCH_ENDPOINTS=1`; it answers `/__bench/hello` before
any other middleware runs, so the figure is what uvicorn itself can do on this machine. Off by default
(the route does not exist in a normal deployment).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

BENCH_HELLO_PATH = "/__bench/hello"
_BODY = b"hello"
_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", str(len(_BODY)).encode())]


class BenchHelloMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == BENCH_HELLO_PATH:
            await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
            await send({"type": "http.response.body", "body": _BODY})
            return
        await self.app(scope, receive, send)
