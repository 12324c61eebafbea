"""How the learning path's answers look: the lesson page and its progress box, the lesson and progress API
shapes.

The routes and the fast dispatch (`app/dispatch.py`) both answer with these, so a request gets the same
bytes whichever of them served it.

Page assembly (a mechanism, `ASSEMBLE_PAGES`): one learner's lesson page differs from another's (same
portal, language and roles) only in its progress box and its CSRF token. The rest — the portal's chrome, the
lesson, its neighbours — is rendered once per portal (its settings as they are now), language, roles, lesson
and content version, and kept in a bounded LRU cache on `app.state`; a view renders the progress box alone and
puts it and the token in place. `tests/progress/test_learning.py` checks the assembled page equals the
rendered one byte for byte; `bench/http.py --ablation` measures what it buys.
"""

from __future__ import annotations

from typing import Any

from cachetools import LRUCache
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from app.catalog.constants import LESSON_KIND_LABELS
from app.catalog.schemas import LessonRead
from app.catalog.service import LessonSnapshot
from app.core.i18n import format_date
from app.core.web import csrf_token, finish_browser_response, render, render_fragment, request_language
from app.progress.learning import LessonView, Progress
from app.progress.models import Enrolment
from app.progress.schemas import ProgressItem

_PROGRESS_MARK = "<!--assembled:progress-->"
_CSRF_MARK = "assembled-csrf-token-mark"


def lesson_context(view: LessonView) -> dict[str, object]:
    """The lesson page's (and its progress box's) template context."""
    return {
        "view": view,
        "lesson": view.lesson,
        "course": view.course,
        "kinds": LESSON_KIND_LABELS,
        "quiz": view.quiz,
    }


def media_url(lesson: LessonSnapshot) -> str | None:
    return f"/media/{lesson.media_id}" if lesson.media_id else None


def lesson_read(view: LessonView) -> LessonRead:
    """The lesson API's answer."""
    lesson = view.lesson
    return LessonRead(
        id=lesson.id,
        course_slug=view.course.slug,
        module_id=lesson.module_id,
        title=lesson.title,
        kind=lesson.kind,
        required=lesson.required,
        duration_minutes=lesson.duration_minutes,
        body_html=lesson.body_html,
        video_url=media_url(lesson) if lesson.kind == "video" else None,
        embed_url=lesson.embed_url,
        document_url=media_url(lesson) if lesson.kind == "document" else None,
        quiz_id=view.quiz.id if view.quiz else None,
        quiz_slug=lesson.quiz_slug,
        previous_id=view.previous.id if view.previous else None,
        next_id=view.next.id if view.next else None,
    )


def lesson_api_response(request: Request, view: LessonView) -> Response:
    """The lesson API's answer. It is the same for every reader of the lesson (no progress in it), so its
    JSON is kept with the assembled pages, per lesson and content version."""
    if view.content_version is None or not request.app.state.settings.assemble_pages:
        return JSONResponse(lesson_read(view).model_dump(mode="json"))
    cache: LRUCache[Any, Any] = request.app.state.page_cache
    key = ("api", view.lesson.id, view.content_version)
    body = cache.get(key)
    if body is None:
        body = JSONResponse(lesson_read(view).model_dump(mode="json")).body
        cache[key] = body
    return Response(body, media_type="application/json")


def progress_item(enrolment: Enrolment | Progress, course_slug: str) -> ProgressItem:
    """A progress item of the API (SPEC §9)."""
    return ProgressItem(
        course_slug=course_slug,
        cohort_id=enrolment.cohort_id,
        lessons_completed=enrolment.lessons_completed,
        lessons_total=enrolment.lessons_total,
        percent=enrolment.percent,
        completed_at=enrolment.completed_at,
        late=enrolment.late,
    )


def progress_box(request: Request, view: LessonView) -> HTMLResponse:
    """The progress box alone (what htmx swaps in after a completion)."""
    return render(request, "progress/_progress.html", lesson_context(view))


def page_cache(max_bytes: int) -> LRUCache[Any, Any]:
    """The assembled pages' cache: bounded by the bytes it holds, least recently used out first."""
    return LRUCache(maxsize=max_bytes, getsizeof=_size)


def _size(value: tuple[str, str] | bytes | str) -> int:
    return len(value) if isinstance(value, bytes | str) else len(value[0]) + len(value[1])


def lesson_page(request: Request, view: LessonView) -> HTMLResponse:
    """The lesson page: assembled from its shared part when `ASSEMBLE_PAGES` is on, else rendered whole."""
    state = request.app.state
    if not state.settings.assemble_pages or view.content_version is None:
        return render(request, "progress/lesson.html", lesson_context(view))
    key = (
        getattr(request.state, "tenant", None),
        request_language(request),
        view.account.roles,
        view.lesson.id,
        view.content_version,
    )
    cache: LRUCache[Any, tuple[str, str]] = state.page_cache
    parts = cache.get(key)
    if parts is None:
        context = {**lesson_context(view), "progress_mark": _PROGRESS_MARK, "csrf_token": _CSRF_MARK}
        before, after = (
            bytes(render(request, "progress/lesson.html", context).body).decode().split(_PROGRESS_MARK)
        )
        parts = (before, after)
        cache[key] = parts
    token = csrf_token(request)
    box = _box(request, view, cache, key).replace(_CSRF_MARK, token)
    response = HTMLResponse(parts[0].replace(_CSRF_MARK, token) + box + parts[1].replace(_CSRF_MARK, token))
    finish_browser_response(request, response)
    return response


def _box(request: Request, view: LessonView, cache: LRUCache[Any, Any], page_key: tuple[Any, ...]) -> str:
    """The progress box with a mark for the CSRF token: rendered once per distinct state of the box (the
    figures, whether this lesson is done, the completion date in the reader's language)."""
    e = view.enrolment
    figures = None
    if e is not None:
        completed = format_date(page_key[1], e.completed_at) if e.completed_at else None
        figures = (
            e.lessons_completed,
            e.lessons_total,
            e.percent,
            completed,
            e.late,
            e.certified_at is not None,
        )
    key = ("box", *page_key, figures, view.lesson.id in view.done)
    box = cache.get(key)
    if box is None:
        box = render_fragment(
            request, "progress/_progress.html", {**lesson_context(view), "csrf_token": _CSRF_MARK}
        )
        cache[key] = box
    return box  # type: ignore[no-any-return]
