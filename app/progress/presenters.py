"""What the lesson read path answers, for the general routes and the hot path (app/progress/hot_asgi.py)
alike: the lesson page's context, the lesson API's body and a progress item."""

from __future__ import annotations

from app.catalog.constants import LESSON_KIND_LABELS
from app.catalog.models import Lesson
from app.catalog.schemas import LessonRead
from app.catalog.service import LessonSnapshot
from app.progress.hot import Figures, HotView
from app.progress.models import Enrolment
from app.progress.reading import ReadingView
from app.progress.schemas import ProgressItem
from app.quizzes.models import Quiz


def progress_item(enrolment: Enrolment | Figures, course_slug: str) -> ProgressItem:
    return ProgressItem(
        course_slug=course_slug,
        cohort_id=enrolment.cohort_id,
        lessons_completed=enrolment.lessons_completed,
        lessons_total=enrolment.lessons_total,
        percent=enrolment.percent,
        completed_at=enrolment.completed_at,
        late=enrolment.late,
    )


def lesson_context(view: ReadingView | HotView, quiz: Quiz | None) -> dict[str, object]:
    """The lesson page's (and its progress fragment's) context, for the general path and the hot one."""
    return {
        "view": view,
        "lesson": view.lesson,
        "course": view.course,
        "kinds": LESSON_KIND_LABELS,
        "quiz": quiz,
    }


def media_url(lesson: Lesson | LessonSnapshot) -> str | None:
    return f"/media/{lesson.media_id}" if lesson.media_id else None


def lesson_read(view: ReadingView | HotView, quiz: Quiz | None) -> LessonRead:
    """The lesson API's answer, from the general read path or the hot one (app/progress/hot.py)."""
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
        quiz_id=quiz.id if quiz else None,
        quiz_slug=lesson.quiz_slug,
        previous_id=view.previous.id if view.previous else None,
        next_id=view.next.id if view.next else None,
    )
