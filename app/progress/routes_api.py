"""Progress API: enrol, complete a lesson, my progress."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from app.accounts.deps import ApiUser
from app.catalog import service as catalog_service
from app.cohorts import service as cohorts_service
from app.core.deps import DbSession, manual_write
from app.progress import reading, service
from app.progress.presenters import progress_item
from app.progress.schemas import EnrolRequest, ProgressItem, ProgressList

router = APIRouter(prefix="/api/v1", tags=["progress"])


@router.post("/courses/{slug}/enrol", response_model=ProgressItem, name="api:enrol")
def enrol(
    slug: str, session: DbSession, user: ApiUser, response: Response, body: EnrolRequest | None = None
) -> ProgressItem:
    """Enrol yourself in a published course, optionally in one of its cohorts open to self-enrolment.

    201 when newly enrolled, 200 when already enrolled.
    """
    course = catalog_service.get_course(session, slug, user)
    cohort = None
    if body is not None and body.cohort_id is not None:
        cohort = cohorts_service.get_cohort(session, body.cohort_id)
    enrolment, created = service.enrol(session, user, course, cohort=cohort)
    response.status_code = 201 if created else 200
    return progress_item(enrolment, course.slug)


@router.post("/lessons/{lesson_id}/complete", response_model=ProgressItem, name="api:lesson_complete")
@manual_write  # reading.complete_lesson takes the write lock itself, briefly
def complete(request: Request, lesson_id: int, session: DbSession, user: ApiUser) -> ProgressItem:
    """Mark a lesson complete (idempotent: completing it again changes nothing)."""
    view = reading.complete_lesson(
        session,
        user,
        lesson_id,
        request.app.state.cache,
        ttl=request.app.state.settings.content_cache_seconds,
    )
    assert view.enrolment is not None
    return progress_item(view.enrolment, view.course.slug)


@router.get("/me/progress", response_model=ProgressList, name="api:my_progress")
def my_progress(session: DbSession, user: ApiUser) -> ProgressList:
    enrolments = service.my_enrolments(session, user)
    return ProgressList(items=[progress_item(e, e.course.slug) for e in enrolments], total=len(enrolments))
