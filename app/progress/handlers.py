"""The learning path's requests: the lesson page and API, lesson completion (API, form and htmx).

One handler per request, called by its route (`routes_api.py`, `routes_html.py`) and, when
`FAST_DISPATCH` is on, by the dispatch in front of the router (`dispatch.py`): same rules
(`learning.py`), same answers (`presenters.py`). A handler resolves the portal and the token
(`app/accounts/signedin.py`), runs the learning function where it costs least (`runner.py`) and shapes the
answer. Errors are raised as domain errors and answered by the app's handlers, whoever called.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from app.accounts.deps import LoginRequired, page_next_url
from app.accounts.signedin import portal_claims
from app.core.errors import Unauthorized
from app.core.security import TokenClaims
from app.core.web import AUTH_COOKIE, is_htmx, redirect_to
from app.progress import learning, presenters, runner
from app.progress.learning import LessonView
from app.tenancy.deps import request_portal


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


async def _run(request: Request, token: str | None, fn: Any, lesson_id: int) -> LessonView:
    tenant, national_id = await request_portal(request)
    claims: TokenClaims = portal_claims(token, tenant.id, request.app.state.settings)
    view: LessonView = await runner.run(
        request, tenant, national_id, fn, claims, lesson_id, visits=request.app.state.lesson_visits
    )
    # What the page chrome and the CSRF check need to know of who is signed in.
    request.state.user = view.account
    request.state.user_roles = view.account.roles
    request.state.token_claims = claims
    request.state.csrf_binding = f"auth:{claims.jti}"
    return view


async def _page_view(request: Request, fn: Any, lesson_id: int) -> LessonView:
    try:
        return await _run(request, request.cookies.get(AUTH_COOKIE), fn, lesson_id)
    except Unauthorized as exc:
        raise LoginRequired(page_next_url(request)) from exc


async def lesson_api(request: Request, lesson_id: int) -> Response:
    """`GET /api/v1/lessons/{id}`: the lesson with its sanitised HTML, for enrolled learners and staff."""
    view = await _run(request, bearer_token(request), learning.open_lesson, lesson_id)
    return presenters.lesson_api_response(request, view)


async def complete_api(request: Request, lesson_id: int) -> Response:
    """`POST /api/v1/lessons/{id}/complete`: idempotent; the learner's progress in the course after it."""
    view = await _run(request, bearer_token(request), learning.complete_lesson, lesson_id)
    assert view.enrolment is not None
    return JSONResponse(presenters.progress_item(view.enrolment, view.course.slug).model_dump(mode="json"))


async def lesson_page(request: Request, lesson_id: int) -> Response:
    """`GET /lessons/{id}`: the lesson page."""
    view = await _page_view(request, learning.open_lesson, lesson_id)
    return presenters.lesson_page(request, view)


async def complete_page(request: Request, lesson_id: int) -> Response:
    """`POST /lessons/{id}/complete`: a plain form post (works without JavaScript) goes on to the next lesson;
    htmx swaps in the progress box alone. The caller has checked the CSRF token."""
    view = await _page_view(request, learning.complete_lesson, lesson_id)
    if is_htmx(request):
        return presenters.progress_box(request, view)
    if view.next is not None:
        return redirect_to(request, "lessons:view", lesson_id=view.next.id)
    return redirect_to(request, "courses:detail", slug=view.course.slug)
