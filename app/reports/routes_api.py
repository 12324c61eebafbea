"""Reports API: a tenant's summary (admins; trainers for their cohorts) and the national roll-up."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from app.accounts.deps import ApiNationalAdmin, ApiStaff
from app.core.deps import DbSession
from app.core.errors import N_, Forbidden
from app.core.numbers import MAX_ID
from app.reports import service
from app.reports.constants import COVERAGE_KINDS
from app.reports.schemas import (
    CoverageRead,
    FiguresRead,
    NationalRead,
    NationalTotalsRead,
    ReportRowRead,
    SummaryRead,
    TenantRowRead,
)
from app.reports.service import Figures
from app.tenancy.deps import CurrentTenant

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

DateFrom = Annotated[dt.date | None, Query(alias="from")]
DateTo = Annotated[dt.date | None, Query(alias="to")]


def figures_read(f: Figures) -> dict[str, object]:
    return {
        "assigned": f.assigned,
        "started": f.started,
        "completed": f.completed,
        "certified": f.certified,
        "completion_rate": f.completion_rate,
        "late": f.late,
        "average_score": f.average_score,
    }


@router.get("/summary", response_model=SummaryRead, name="api:reports_summary")
def summary(
    session: DbSession,
    tenant: CurrentTenant,
    user: ApiStaff,
    group_by: Annotated[str, Query(pattern="^(unit|group|course|cohort)$")] = "unit",
    date_from: DateFrom = None,
    date_to: DateTo = None,
    unit: Annotated[
        int | None, Query(ge=0, le=MAX_ID, description="with group_by=unit: the unit whose children to list")
    ] = None,
) -> SummaryRead:
    """This portal's figures by unit (rolled up the tree), target group, course or cohort.

    A date range counts each event on its own day: enrolments by enrolment day, starts by start day,
    completions (and late ones, and scores) by completion day, certificates by issue day. Trainers see
    their own cohorts only.
    """
    filters = service.filters_for(session, user, date_from, date_to)
    report = service.tenant_report(session, group_by, filters, parent_unit_id=unit)
    whole_tenant = filters.cohort_ids is None and not filters.ranged
    return SummaryRead(
        group_by=group_by,
        date_from=date_from,
        date_to=date_to,
        unit_id=unit,
        items=[ReportRowRead(key=r.key, name=r.name, **figures_read(r.figures)) for r in report.rows],  # type: ignore[arg-type]
        total=len(report.rows),
        totals=FiguresRead(**figures_read(report.totals)),  # type: ignore[arg-type]
        learners=service.learners_with_completion(session, tenant.id) if whole_tenant else None,
    )


def _coverage(cells: dict[str, list[int]]) -> dict[str, CoverageRead]:
    return {
        k: CoverageRead(
            covered=cells[k][0], total=cells[k][1], share=service.Coverage(k, cells[k][0], cells[k][1]).share
        )
        for k in COVERAGE_KINDS
    }


@router.get("/tenants", response_model=NationalRead, name="api:reports_tenants")
def tenants(
    session: DbSession,
    tenant: CurrentTenant,
    admin: ApiNationalAdmin,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    merged: Annotated[
        bool, Query(description="group the 63 former provinces under their 34 successors")
    ] = False,
) -> NationalRead:
    """Every portal ranked by trainings (one person completing one course), with national totals."""
    if not tenant.is_national:
        raise Forbidden(N_("The national report is on the national portal."), code="not_national")
    filters = service.filters_for(session, admin, date_from, date_to)
    report = service.national_report(session, filters, merged=merged)
    ranged = filters.ranged
    items = [
        TenantRowRead(
            key=r.key,
            name=r.name,
            rank=r.rank,
            trainings=r.figures.completed,
            learners=None if ranged else r.extra["learners"],
            visits=r.extra["visits"],
            team_members=r.extra["members"],
            coverage=_coverage(r.extra["coverage"]),
            tenants=r.extra["tenants"],
            **figures_read(r.figures),  # type: ignore[arg-type]
        )
        for r in report.rows
    ]
    totals = NationalTotalsRead(
        trainings=report.totals.completed,
        learners=None if ranged else report.learners,
        trainings_provinces=report.provinces.completed,
        visits=report.visits,
        teams=report.teams,
        team_members=report.team_members,
        coverage={
            k: CoverageRead(covered=c.covered, total=c.total, share=c.share)
            for k, c in report.coverage.items()
        },
        **figures_read(report.totals),  # type: ignore[arg-type]
    )
    return NationalRead(
        date_from=date_from, date_to=date_to, merged=merged, items=items, total=len(items), totals=totals
    )
