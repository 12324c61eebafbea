"""Request bodies limited while they stream in, before anything reads, parses or spools them.

Three sizes (docs/limits.md; settings `MAX_BODY_ANONYMOUS_KB`, `MAX_BODY_KB`, the upload sizes):
- a request without a valid sign-in (no token, or one whose signature or expiry fails — checked without the
  database) gets the small one: sign-in and registration forms need a few hundred bytes;
- a signed-in request gets the larger one: the biggest form is a lesson's Markdown;
- a route marked `@accepts_upload(...)` gets its upload size, once the account behind the token is one of
  the roles allowed there (one primary-key read, only for a body larger than the signed-in size).

A `Content-Length` past the limit is answered 413 at once, unread, and the connection closed; a body without
one (chunked) is counted as it arrives and answered 413 the moment it passes the limit, whatever the
application was doing with it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi.routing import iter_route_contexts
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.security import InvalidToken, decode_access_token
from app.core.web import request_token

F = TypeVar("F", bound=Callable[..., Any])

KB = 1024
MB = 1024 * 1024


@dataclass(frozen=True)
class UploadSpec:
    """What `@accepts_upload` records on an endpoint: the setting with its size in MB, who may upload."""

    size_setting: str
    roles: tuple[str, ...]


def accepts_upload(size_setting: str, roles: Sequence[str]) -> Callable[[F], F]:
    """Mark an endpoint that takes a file: bodies up to `settings.<size_setting>` MB (plus the form around
    the file) for an account with one of `roles`. Put it under the `@router.post(...)` line."""

    def mark(endpoint: F) -> F:
        endpoint.__upload__ = UploadSpec(size_setting, tuple(roles))  # type: ignore[attr-defined]
        return endpoint

    return mark


@dataclass(frozen=True)
class UploadRoute:
    path: re.Pattern[str]
    methods: frozenset[str]
    max_bytes: int
    roles: tuple[str, ...]


def upload_routes(routes: Sequence[Any], settings: Any) -> list[UploadRoute]:
    """The routes whose endpoint is marked `@accepts_upload`, with their body size from settings."""
    found = []
    allowance = settings.upload_form_allowance_kb * KB
    for route in iter_route_contexts(routes):  # included routers' routes too, with their full paths
        spec = getattr(route.endpoint, "__upload__", None)
        if isinstance(spec, UploadSpec):
            size = int(getattr(settings, spec.size_setting)) * MB + allowance
            found.append(UploadRoute(route.path_regex, frozenset(route.methods or ()), size, spec.roles))
    return found


class BodyTooLarge(Exception):
    """Raised from `receive` when a streamed body passes its limit."""


# (scope, roles) → whether the signed-in account behind the request holds one of the roles.
Authorize = Callable[[Scope, tuple[str, ...]], Awaitable[bool]]
# (scope, limit in bytes) → the 413 answer (problem+json on the API, the error page elsewhere).
Refuse = Callable[[Scope, int], Awaitable[Response]]


class BodyLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        anonymous_bytes: int,
        signed_in_bytes: int,
        uploads: Callable[[], list[UploadRoute]],
        authorize: Authorize,
        refuse: Refuse,
    ) -> None:
        self.app = app
        self.anonymous_bytes = anonymous_bytes
        self.signed_in_bytes = signed_in_bytes
        self._uploads = uploads
        self._upload_routes: list[UploadRoute] | None = None
        self.authorize = authorize
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        length = int(declared) if declared and declared.isascii() and declared.isdigit() else None
        if "transfer-encoding" not in headers and (length is None or length <= self.anonymous_bytes):
            # No body, or one the server will not let grow past its Content-Length: nothing to count.
            await self.app(scope, receive, send)
            return
        limit = await self._limit(scope, length)
        if length is not None and length > limit:
            await self._send_refusal(scope, send, limit)
            return
        await self._counted(scope, receive, send, limit)

    async def _limit(self, scope: Scope, length: int | None) -> int:
        connection = HTTPConnection(scope)
        if not self._signed_in(connection):
            return self.anonymous_bytes
        if length is not None and length <= self.signed_in_bytes:
            return self.signed_in_bytes
        upload = self._upload_route(scope)
        if upload is not None and await self.authorize(scope, upload.roles):
            return upload.max_bytes
        return self.signed_in_bytes

    def _signed_in(self, connection: HTTPConnection) -> bool:
        """A token whose signature and expiry hold (no database: revocation is the route's to check)."""
        token = request_token(connection)
        if not token:
            return False
        settings = connection.app.state.settings
        try:
            decode_access_token(token, secret=settings.secret_key, algorithm=settings.jwt_algorithm)
        except InvalidToken:
            return False
        return True

    def _upload_route(self, scope: Scope) -> UploadRoute | None:
        if self._upload_routes is None:
            self._upload_routes = self._uploads()
        for route in self._upload_routes:
            if scope["method"] in route.methods and route.path.match(scope["path"]):
                return route
        return None

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        tripped = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, tripped
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    tripped = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if tripped:
                return  # whatever the application answered to the cut-off body, the answer is 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not tripped or started:
                raise
        if tripped and not started:
            await self._send_refusal(scope, send, limit)

    async def _send_refusal(self, scope: Scope, send: Send, limit: int) -> None:
        response = await self.refuse(scope, limit)
        response.headers["Connection"] = "close"  # the rest of the body is never read

        async def no_body() -> Message:
            return {"type": "http.disconnect"}

        await response(scope, no_body, send)
