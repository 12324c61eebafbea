"""Catalog API: list and read courses, read a lesson."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.accounts.deps import ApiUser
from app.catalog import service
from app.catalog.constants import API_PAGE_SIZE
from app.catalog.models import Course
from app.catalog.presenters import course_list_item
from app.catalog.schemas import CourseList, CourseRead, LessonSummary, ModuleRead
from app.core.deps import DbSession
from app.core.numbers import MAX_ID
from app.quizzes import service as quizzes_service
from app.tenancy.deps import CurrentTenant
from app.tenancy.models import TenantContext

router = APIRouter(prefix="/api/v1", tags=["catalog"])


def course_read(course: Course, tenant: TenantContext, quiz_ids: dict[str, int] | None = None) -> CourseRead:
    """The course shape; `quiz_ids` (quiz slug → id) fills `quiz_id` on quiz lessons."""
    quiz_ids = quiz_ids or {}
    return CourseRead(
        **course_list_item(course, tenant).model_dump(),
        modules=[
            ModuleRead(
                id=m.id,
                title=m.title,
                lessons=[
                    LessonSummary(
                        id=x.id,
                        title=x.title,
                        kind=x.kind,
                        quiz_id=quiz_ids.get(x.quiz_slug) if x.quiz_slug else None,
                        quiz_slug=x.quiz_slug,
                    )
                    for x in m.lessons
                ],
            )
            for m in course.modules
        ],
    )


@router.get("/courses", response_model=CourseList, name="api:courses")
def list_courses(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    user: ApiUser,
    q: Annotated[str | None, Query(max_length=200)] = None,
    target_group: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = API_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> CourseList:
    """Published courses of this portal's catalog: its own and the national ones."""
    settings = request.app.state.settings
    courses, total = service.list_courses(
        session,
        user,
        q=q,
        target_group=target_group,
        limit=limit,
        offset=offset,
        cache=request.app.state.cache,
        ttl=settings.content_cache_seconds,
    )
    return CourseList(items=[course_list_item(c, tenant) for c in courses], total=total)


@router.get("/courses/{slug}", response_model=CourseRead, name="api:course")
def get_course(slug: str, session: DbSession, tenant: CurrentTenant, user: ApiUser) -> CourseRead:
    course = service.get_course(session, slug, user, include_drafts=True)
    return course_read(course, tenant, quizzes_service.quiz_ids_by_slug(session, course.id))
