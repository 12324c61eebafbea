"""Cohort pages for trainers and admins: list and create, roster with progress, enrol by username."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from app.accounts.deps import PageStaff
from app.catalog import service as catalog_service
from app.cohorts import service
from app.cohorts.models import Cohort
from app.core.deps import DbSession
from app.core.errors import N_, DomainError, Invalid
from app.core.web import error_text, html_router, redirect_to, render
from app.tenancy.deps import CurrentTenant
from app.units import service as units_service

router = html_router()


def _date(value: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError as exc:
        raise Invalid(N_("Dates must be valid (day/month/year)."), code="date") from exc


def _list_page(request: Request, session: DbSession, user: object, **extra: object) -> Response:
    status = extra.pop("status_code", 200)
    cohorts, total = service.list_cohorts(session, user, limit=200)  # type: ignore[arg-type]
    courses, _ = catalog_service.list_courses(session, user, include_drafts=True, limit=500)  # type: ignore[arg-type]
    return render(
        request,
        "cohorts/list.html",
        {"cohorts": cohorts, "total": total, "courses": courses, "form": {}, **extra},
        status_code=int(status),  # type: ignore[call-overload]
    )


@router.get("/cohorts", name="cohorts:list")
def cohorts_page(request: Request, session: DbSession, tenant: CurrentTenant, user: PageStaff) -> Response:
    return _list_page(request, session, user)


@router.post("/cohorts", name="cohorts:create")
def cohorts_create(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    course_slug: Annotated[str, Form(max_length=100)] = "",
    code: Annotated[str, Form(max_length=50)] = "",
    title: Annotated[str, Form(max_length=300)] = "",
    opens_on: Annotated[str, Form(max_length=10)] = "",
    closes_on: Annotated[str, Form(max_length=10)] = "",
    self_enrolment: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    form = {
        "course_slug": course_slug,
        "code": code,
        "title": title,
        "opens_on": opens_on,
        "closes_on": closes_on,
    }
    try:
        cohort = service.create_cohort(
            session,
            user,
            course_slug=course_slug,
            code=code,
            title=title,
            opens_on=_date(opens_on),
            closes_on=_date(closes_on),
            self_enrolment=bool(self_enrolment),
        )
    except DomainError as exc:
        return _list_page(
            request, session, user, error=error_text(request, exc), form=form, status_code=exc.status_code
        )
    return redirect_to(request, "cohorts:detail", cohort_id=cohort.id)


def _detail(request: Request, session: DbSession, cohort: Cohort, **extra: object) -> Response:
    return render(
        request,
        "cohorts/detail.html",
        {"cohort": cohort, "roster": service.roster(session, cohort), **extra},
    )


@router.get("/cohorts/{cohort_id}", name="cohorts:detail")
def cohort_page(
    request: Request, cohort_id: int, session: DbSession, tenant: CurrentTenant, user: PageStaff
) -> Response:
    return _detail(request, session, service.get_managed_cohort(session, user, cohort_id))


@router.post("/cohorts/{cohort_id}/enrolments", name="cohorts:enrol")
def cohort_enrol(
    request: Request,
    cohort_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    usernames: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """Usernames one per line (or separated by commas or spaces); unknown ones are listed back."""
    cohort = service.get_managed_cohort(session, user, cohort_id)
    names = usernames.replace(",", " ").split()
    try:
        report = service.enrol_usernames(session, cohort, names)
    except DomainError as exc:
        return _detail(request, session, cohort, error=error_text(request, exc), usernames=usernames)
    return _detail(request, session, cohort, report=report)


@router.post("/cohorts/{cohort_id}/enrolments/unit", name="cohorts:enrol_unit")
def cohort_enrol_unit(
    request: Request,
    cohort_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    unit: Annotated[str, Form(max_length=255)] = "",
    include_subunits: Annotated[str, Form(max_length=2)] = "",
) -> Response:
    """Every active account of a unit (by code or name), and of the units below it when ticked."""
    cohort = service.get_managed_cohort(session, user, cohort_id)
    try:
        found = units_service.find_unit(session, unit)
        report = service.enrol_unit(session, cohort, found.id, include_subunits=bool(include_subunits))
    except DomainError as exc:
        return _detail(request, session, cohort, error=error_text(request, exc), unit=unit)
    return _detail(request, session, cohort, report=report, unit=found.name)
