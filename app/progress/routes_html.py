"""The learner's pages: enrol, continue, the lesson viewer with "mark complete", and My learning."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from app.accounts.deps import PageUser
from app.catalog import service as catalog_service
from app.cohorts import service as cohorts_service
from app.core.deps import DbSession
from app.core.numbers import parse_int
from app.core.web import html_router, redirect_to, render
from app.progress import handlers, service
from app.progress.visits import apply_pending
from app.tenancy.deps import CurrentTenant

router = html_router()


@router.post("/courses/{slug}/enrol", name="courses:enrol")
def enrol(
    request: Request,
    slug: str,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageUser,
    cohort_id: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    course = catalog_service.get_course(session, slug, user)
    chosen = parse_int(cohort_id, minimum=1)
    cohort = cohorts_service.get_cohort(session, chosen) if chosen is not None else None
    service.enrol(session, user, course, cohort=cohort)
    return redirect_to(request, "courses:continue", slug=course.slug)


@router.get("/courses/{slug}/continue", name="courses:continue")
def continue_course(
    request: Request, slug: str, session: DbSession, tenant: CurrentTenant, user: PageUser
) -> Response:
    """Resume: the first incomplete lesson from where the learner left off."""
    course = catalog_service.get_course(session, slug, user, include_drafts=True)
    enrolment = service.get_enrolment(session, user.id, course.id)
    last = None
    if enrolment is not None:  # a lesson opened on this worker may not be written yet (progress/visits.py)
        visits = request.app.state.lesson_visits
        last = apply_pending(visits, tenant.id, enrolment.id, enrolment.last_lesson_id)
    lesson = service.resume_lesson(session, enrolment, course, last_lesson_id=last)
    if lesson is None or (enrolment is None and not catalog_service.is_staff(user)):
        return redirect_to(request, "courses:detail", slug=course.slug)
    return redirect_to(request, "lessons:view", lesson_id=lesson.id)


@router.get("/lessons/{lesson_id}", name="lessons:view")
async def lesson_page(request: Request, lesson_id: int) -> Response:
    return await handlers.lesson_page(request, lesson_id)


@router.post("/lessons/{lesson_id}/complete", name="lessons:complete")
async def complete_lesson(request: Request, lesson_id: int) -> Response:
    """A plain form post (works without JavaScript); htmx swaps in just the progress fragment."""
    return await handlers.complete_page(request, lesson_id)


@router.get("/learning", name="learning:dashboard")
def my_learning(request: Request, session: DbSession, tenant: CurrentTenant, user: PageUser) -> Response:
    return render(request, "progress/dashboard.html", {"enrolments": service.my_enrolments(session, user)})
