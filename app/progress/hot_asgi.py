"""The hot lesson requests, answered in front of the router: `HotLessonMiddleware`.

Routing a request through FastAPI (matching it against every route, solving its dependencies, validating
its answer) cost the lesson page more than its two SQL statements. This middleware recognises the four
hot requests by their path, asks `app/progress/hot.py` whether the common case applies, and answers them
itself; anything else, including every case `hot.py` declines and any error on the way, goes on to the
router unchanged, where the ordinary routes (and their error answers) handle it:

    GET  /lessons/{id}                   the lesson page
    GET  /api/v1/lessons/{id}            the lesson API
    POST /api/v1/lessons/{id}/complete   lesson completion (API)
    POST /lessons/{id}/complete          lesson completion from the page, htmx only (the CSRF token comes
                                         in the X-CSRF-Token header; a plain form post carries it in the
                                         body and goes to the router)
    GET  /courses, GET /api/v1/courses   the catalog's first page, without a search or filter

It sits inside every other middleware of the app (security headers, compression, page-view counting,
the concurrency limit, request logs), so those apply to its answers too.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi.responses import HTMLResponse, JSONResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from app.catalog.constants import API_PAGE_SIZE, CATALOG_PAGE_SIZE
from app.catalog.presenters import catalog_context, course_list_item
from app.catalog.schemas import CourseList
from app.core.security import InvalidToken, csrf_token_valid, decode_access_token
from app.core.web import (
    AUTH_COOKIE,
    CSRF_HEADER,
    csrf_token,
    is_htmx,
    redirect,
    render,
    render_fragment,
    request_language,
)
from app.progress import hot
from app.progress.presenters import lesson_context, lesson_read, progress_item
from app.tenancy.models import TenantContext

log = logging.getLogger("onetouch.hot")

_CATALOG: dict[str, str] = {"/courses": "page", "/api/v1/courses": "api"}
_ROUTES: dict[tuple[str, str], re.Pattern[str]] = {
    ("GET", "page"): re.compile(r"/lessons/([1-9][0-9]{0,17})"),
    ("GET", "api"): re.compile(r"/api/v1/lessons/([1-9][0-9]{0,17})"),
    ("POST", "api"): re.compile(r"/api/v1/lessons/([1-9][0-9]{0,17})/complete"),
    ("POST", "page"): re.compile(r"/lessons/([1-9][0-9]{0,17})/complete"),
}


def _match(scope: Scope) -> tuple[str, str, int] | None:
    method, path = scope["method"], scope["path"]
    if method == "GET" and path in _CATALOG and not scope.get("query_string"):
        return "CATALOG", _CATALOG[path], 0
    for (verb, kind), pattern in _ROUTES.items():
        if verb == method and (m := pattern.fullmatch(path)):
            return verb, kind, int(m.group(1))
    return None


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None


async def answer(request: Request, verb: str, kind: str, lesson_id: int) -> Response | None:
    """The hot answer, or None: let the router answer."""
    token = _bearer(request) if kind == "api" else request.cookies.get(AUTH_COOKIE)
    if verb == "CATALOG":
        found = await hot.run(request, hot.catalog, token)
        if found is None:
            return None
        if kind == "api":
            tenant = request.state.tenant
            items = [course_list_item(c, tenant) for c in found.cards[:API_PAGE_SIZE]]
            return JSONResponse(CourseList(items=items, total=len(found.cards)).model_dump(mode="json"))
        return catalog_page(request, found)
    if verb == "GET":
        view = await hot.run(request, hot.read, token, lesson_id)
        if view is None:
            return None
        if kind == "api":
            return JSONResponse(lesson_read(view, None).model_dump(mode="json"))
        return lesson_page(request, view)
    if kind == "page" and not (is_htmx(request) and _csrf_ok(request, token)):
        return None  # the router checks the form's CSRF token (and refuses a bad one)
    view = await hot.run(request, hot.complete, token, lesson_id)
    if view is None:
        return None
    if kind == "api":
        return JSONResponse(progress_item(view.enrolment, view.course.slug).model_dump(mode="json"))
    if is_htmx(request):
        return render(request, "progress/_progress.html", lesson_context(view, None))
    return redirect(request, f"/lessons/{view.next.id}" if view.next else f"/courses/{view.course.slug}")


# The lesson page of a learner differs from another learner's in two places only: the progress box and the
# CSRF token. The rest (the portal's chrome in the reader's language, the lesson, the outline's neighbours)
# is rendered once per portal (its settings as they are now), language, lesson and content version, and kept
# here around two marks; a page view renders the progress box alone and puts it and the token in place.
_PROGRESS_MARK = "<!--hot:progress-->"
_CSRF_MARK = "hot-csrf-token-mark"
_PAGES: dict[tuple[TenantContext, str, int, int], tuple[str, str]] = {}
_PAGES_MAX = 512  # ~10 KB each


def lesson_page(request: Request, view: hot.HotView) -> Response:
    tenant = request.state.tenant
    lang = request_language(request)
    # The portal snapshot by value: a renamed portal (or a new colour, logo…) gets its page rendered again.
    key = (tenant, lang, view.lesson.id, view.content_version)
    parts = _PAGES.get(key)
    if parts is None:
        context = {**lesson_context(view, None), "progress_mark": _PROGRESS_MARK, "csrf_token": _CSRF_MARK}
        page = bytes(render(request, "progress/lesson.html", context).body).decode()
        before, after = page.split(_PROGRESS_MARK)
        parts = (before, after)
        if len(_PAGES) >= _PAGES_MAX:
            _PAGES.clear()
        _PAGES[key] = parts
    token = csrf_token(request)
    progress = render_fragment(request, "progress/_progress.html", lesson_context(view, None))
    return HTMLResponse(parts[0].replace(_CSRF_MARK, token) + progress + parts[1].replace(_CSRF_MARK, token))


_CATALOGS: dict[tuple[TenantContext, str, int], str] = {}
_CATALOGS_MAX = 256


def catalog_page(request: Request, found: hot.HotCatalog) -> Response:
    """The catalog's first page for a learner: the same for every learner of the portal in a language, but
    for the CSRF token (rendered once per portal, language and content version, as lesson pages are)."""
    key = (request.state.tenant, request_language(request), found.content_version)
    page = _CATALOGS.get(key)
    if page is None:
        context = {
            **catalog_context(found.cards[:CATALOG_PAGE_SIZE], len(found.cards)),
            "csrf_token": _CSRF_MARK,
        }
        page = bytes(render(request, "catalog/list.html", context).body).decode()
        if len(_CATALOGS) >= _CATALOGS_MAX:
            _CATALOGS.clear()
        _CATALOGS[key] = page
    return HTMLResponse(page.replace(_CSRF_MARK, csrf_token(request)))


def _csrf_ok(request: Request, token: str | None) -> bool:
    settings = request.app.state.settings
    if not token:
        return False
    try:
        claims = decode_access_token(token, secret=settings.secret_key, algorithm=settings.jwt_algorithm)
    except InvalidToken:
        return False
    return csrf_token_valid(settings.secret_key, f"auth:{claims.jti}", request.headers.get(CSRF_HEADER))


class HotLessonMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = _match(scope) if scope["type"] == "http" else None
        if matched is not None:
            request = Request(scope, receive)
            response: Any = None
            try:
                response = await answer(request, *matched)
            except Exception:  # the database went away, say: the router's path answers (503) or retries
                log.warning("hot path failed; the router answers", exc_info=True)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
