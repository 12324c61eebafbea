"""Fast dispatch (a mechanism, `FAST_DISPATCH`): the learning path's requests answered in front of the router.

Matching a request against every route and solving its dependencies costs the lesson page more than its
database work. This middleware recognises the learning path's requests by their method and path and calls the
very handler their route calls (`app/progress/handlers.py`, `app/quizzes/handlers.py`); anything else goes on
to the router. Errors are answered by the
app's own exception handlers, as the router would. It sits inside every other middleware (security headers,
compression, page-view counting, the concurrency limit, request logs), so those apply to its answers too.
`bench/http.py --ablation` measures what it buys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable

from fastapi.responses import Response
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.numbers import MAX_ID
from app.core.web import verify_csrf
from app.progress import handlers
from app.quizzes import handlers as quiz_handlers
from app.quizzes.schemas import AnswersBody

# A handler answers, or returns None to leave the request to the router (which gets the body it read).
Handler = Callable[[Request, int], Awaitable[Response | None]]


async def _complete_page(request: Request, lesson_id: int) -> Response:
    await verify_csrf(request)  # the route's router checks it as a dependency
    return await handlers.complete_page(request, lesson_id)


async def _submit_api(request: Request, attempt_id: int) -> Response | None:
    """A JSON body the route's `AnswersBody` accepts; anything else (another content type, bad JSON, a body
    that does not validate) goes to the router, whose answer to it is FastAPI's own."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return None
    try:
        body = AnswersBody.model_validate(json.loads(await request.body() or b"{}"))
    except (ValueError, ValidationError):
        return None
    return await quiz_handlers.submit_api(request, attempt_id, body.answers)


_ID = r"([1-9][0-9]{0,9})"
ROUTES: tuple[tuple[str, re.Pattern[str], Handler], ...] = (
    ("GET", re.compile(rf"/lessons/{_ID}"), handlers.lesson_page),
    ("GET", re.compile(rf"/api/v1/lessons/{_ID}"), handlers.lesson_api),
    ("POST", re.compile(rf"/api/v1/lessons/{_ID}/complete"), handlers.complete_api),
    ("POST", re.compile(rf"/lessons/{_ID}/complete"), _complete_page),
    ("POST", re.compile(rf"/api/v1/attempts/{_ID}/submit"), _submit_api),
)


class FastDispatchMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            for verb, pattern, handler in ROUTES:
                # An id no row can have is the router's to refuse (`ids_in_range`), as for every route.
                if verb == method and (match := pattern.fullmatch(path)) and int(match.group(1)) <= MAX_ID:
                    request = Request(scope, receive)
                    try:
                        response = await handler(request, int(match.group(1)))
                    except Exception as exc:
                        response = await _error_response(request, exc)
                    if response is None:
                        await self.app(scope, _replay(await request.body()), send)
                    else:
                        await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _replay(body: bytes) -> Receive:
    """A `receive` that hands the router the body the dispatch already read."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _error_response(request: Request, exc: Exception) -> Response:
    """The answer the app's exception handlers give (looked up by the exception's class, as Starlette does);
    an exception nobody handles goes on up, to the server-error middleware."""
    handlers_by_class = request.app.exception_handlers
    for cls in type(exc).__mro__:
        handler = handlers_by_class.get(cls)
        if handler is not None:
            return await handler(request, exc)  # type: ignore[no-any-return]
    raise exc
