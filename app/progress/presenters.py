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
from fastapi.responses import HTMLResponse

from app.catalog.constants import LESSON_KIND_LABELS
from app.catalog.schemas import LessonRead
from app.catalog.service import LessonSnapshot
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


def page_cache(max_bytes: int) -> LRUCache[Any, tuple[str, str]]:
    """The assembled pages' cache: bounded by the bytes it holds, least recently used out first."""
    return LRUCache(maxsize=max_bytes, getsizeof=lambda parts: len(parts[0]) + len(parts[1]))


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
    box = render_fragment(request, "progress/_progress.html", lesson_context(view))
    response = HTMLResponse(parts[0].replace(_CSRF_MARK, token) + box + parts[1].replace(_CSRF_MARK, token))
    finish_browser_response(request, response)
    return response
