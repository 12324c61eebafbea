"""Cohorts API for trainers and admins: create, enrol by username, read the roster."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.accounts.deps import ApiStaff
from app.cohorts import service
from app.cohorts.models import Cohort
from app.cohorts.schemas import (
    CohortCreate,
    CohortDetail,
    CohortEnrolments,
    CohortList,
    CohortRead,
    EnrolmentReportRead,
    RosterEntry,
)
from app.core.deps import DbSession
from app.core.numbers import MAX_ID
from app.units import service as units_service

router = APIRouter(prefix="/api/v1/cohorts", tags=["cohorts"])


def cohort_read(cohort: Cohort) -> CohortRead:
    return CohortRead(
        id=cohort.id,
        code=cohort.code,
        title=cohort.title,
        course_slug=cohort.course.slug,
        opens_on=cohort.opens_on,
        closes_on=cohort.closes_on,
        self_enrolment=cohort.self_enrolment,
    )


@router.get("", response_model=CohortList, name="api:cohorts")
def list_cohorts(
    session: DbSession,
    staff: ApiStaff,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> CohortList:
    cohorts, total = service.list_cohorts(session, staff, limit=limit, offset=offset)
    return CohortList(items=[cohort_read(c) for c in cohorts], total=total)


@router.post("", response_model=CohortRead, status_code=201, name="api:cohorts_create")
def create_cohort(body: CohortCreate, session: DbSession, staff: ApiStaff) -> CohortRead:
    cohort = service.create_cohort(session, staff, **body.model_dump())
    return cohort_read(service.get_cohort(session, cohort.id))


@router.get("/{cohort_id}", response_model=CohortDetail, name="api:cohort")
def get_cohort(cohort_id: int, session: DbSession, staff: ApiStaff) -> CohortDetail:
    cohort = service.get_managed_cohort(session, staff, cohort_id)
    roster = [
        RosterEntry(
            username=u.username,
            full_name=u.full_name,
            lessons_completed=e.lessons_completed,
            lessons_total=e.lessons_total,
            percent=e.percent,
            completed_at=e.completed_at,
            late=e.late,
        )
        for u, e in service.roster(session, cohort)
    ]
    return CohortDetail(**cohort_read(cohort).model_dump(), roster=roster)


@router.post("/{cohort_id}/enrolments", response_model=EnrolmentReportRead, name="api:cohort_enrol")
def enrol_usernames(
    cohort_id: int, body: CohortEnrolments, session: DbSession, staff: ApiStaff
) -> EnrolmentReportRead:
    """Enrol accounts of this portal by username (unknown ones are listed back) or by unit."""
    cohort = service.get_managed_cohort(session, staff, cohort_id)
    if body.unit:
        unit = units_service.find_unit(session, body.unit)
        report = service.enrol_unit(session, cohort, unit.id, include_subunits=body.include_subunits)
    else:
        report = service.enrol_usernames(session, cohort, body.usernames)
    return EnrolmentReportRead(
        enrolled=report.enrolled,
        already_enrolled=report.already_enrolled,
        unknown_usernames=report.unknown_usernames,
    )
