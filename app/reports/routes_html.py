"""Report pages: the tenant dashboard, the learners behind a number, the national roll-up, and exports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.accounts.deps import PageNationalAdmin, PageStaff
from app.accounts.models import User
from app.audit import service as audit_service
from app.core import i18n
from app.core.deps import DbSession, client_address
from app.core.errors import N_, Forbidden, Invalid, NotFound
from app.core.numbers import MAX_ID
from app.core.spreadsheets import XLSX_MEDIA_TYPE, write_csv, write_xlsx
from app.core.web import attachment, html_router, render, request_language
from app.reports import charts, service, tables
from app.reports.constants import COVERAGE_KINDS, DRILL_PAGE_SIZE, EXPORT_MAX_ROWS, GROUP_BY
from app.reports.service import Filters
from app.tenancy.deps import CurrentTenant
from app.tenancy.models import TenantContext

router = html_router()

Fmt = Annotated[str, Path(pattern="^(xlsx|csv)$")]
BAR_LIMIT = 15


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(N_("Dates must be valid (day/month/year)."), code="date") from exc


def _translator(request: Request) -> Callable[[str], str]:
    lang = request_language(request)
    return lambda message: i18n.translate(lang, message)


def _number(request: Request) -> Callable[[float], str]:
    lang = request_language(request)
    return lambda v: i18n.format_number(lang, v)


def _query(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _tenant_view(
    session: Session,
    user: User,
    group_by: str,
    date_from: str | None,
    date_to: str | None,
    unit: int | None,
) -> tuple[Filters, service.Report]:
    if group_by not in GROUP_BY:
        raise Invalid(N_("Unknown grouping."), code="group_by")
    filters = service.filters_for(session, user, _date(date_from), _date(date_to))
    return filters, service.tenant_report(session, group_by, filters, parent_unit_id=unit)


@router.get("/reports", name="reports:tenant")
def tenant_page(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    group_by: str = "unit",
    date_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    unit: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> Response:
    filters, report = _tenant_view(session, user, group_by, date_from, date_to, unit)
    _ = _translator(request)
    series, step = service.time_series(session, filters)
    is_admin = filters.cohort_ids is None
    params = {"from": date_from, "to": date_to}
    label = str(GROUP_BY[group_by])
    bars = [(tables.row_name(group_by, r, _), float(r.figures.completed)) for r in report.rows[:BAR_LIMIT]]
    bars.sort(key=lambda b: -b[1])
    date_fmt = (lambda d: d.strftime("%d/%m")) if step == "day" else (lambda d: d.strftime("%d/%m/%y"))
    return render(
        request,
        "reports/tenant.html",
        {
            "report": report,
            "group_by": group_by,
            "groupings": GROUP_BY,
            "label": label,
            "date_from": date_from or "",
            "date_to": date_to or "",
            "params": params,
            "query": _query,
            "row_name": lambda r: tables.row_name(group_by, r, _),
            "series": series,
            "step": step,
            "is_admin": is_admin,
            "trainer_cohorts": None if is_admin else len(filters.cohort_ids or ()),
            "learners": service.learners_with_completion(session, tenant.id)
            if is_admin and not filters.ranged
            else None,
            "coverage": service.coverage(session) if is_admin else [],
            "visits": service.visits(session, filters) if is_admin else None,
            "kind_label": tables.kind_label,
            "coverage_labels": tables.COVERAGE_LABELS,
            "bar_chart": charts.bar_chart(
                bars,
                title=_("Completed") + " · " + _(label),
                chart_id="bars",
                fmt=_number(request),
            ),
            "line_chart": charts.line_chart(
                [(p.day, float(p.completed)) for p in series],
                title=_("Completions per day") if step == "day" else _("Completions per week"),
                chart_id="line",
                fmt=_number(request),
                date_fmt=date_fmt,
            ),
        },
    )


@router.get("/reports/learners", name="reports:learners")
def learners_page(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    group_by: Annotated[str, Query(max_length=10)] = "all",
    key: Annotated[str, Query(max_length=40)] = "",
    measure: Annotated[str, Query(max_length=12)] = "completed",
    date_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    filters = service.filters_for(session, user, _date(date_from), _date(date_to))
    lines, total = service.drill_down(
        session,
        filters,
        group_by=group_by,
        key=key,
        measure=measure,
        limit=DRILL_PAGE_SIZE,
        offset=(page - 1) * DRILL_PAGE_SIZE,
    )
    params = {"group_by": group_by, "key": key, "measure": measure, "from": date_from, "to": date_to}
    return render(
        request,
        "reports/learners.html",
        {
            "lines": lines,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // DRILL_PAGE_SIZE)),
            "params": params,
            "query": _query,
            "measure": measure,
        },
    )


def _export(
    request: Request,
    session: Session,
    user: User,
    fmt: str,
    name: str,
    headers: list[str],
    rows: list[list[Any]],
    detail: dict[str, Any],
) -> Response:
    """A spreadsheet of one table (formulas neutralised by app.core.spreadsheets), logged in the audit log."""
    audit_service.record(
        session,
        "report.exported",
        actor_id=user.id,
        target=name,
        client_address=client_address(request),
        detail={"format": fmt, "rows": len(rows), **{k: v for k, v in detail.items() if v not in (None, "")}},
    )
    stamp = dt.date.today().isoformat()
    if fmt == "xlsx":
        data = write_xlsx(headers, rows, title=name)
        media = XLSX_MEDIA_TYPE
    else:
        data = write_csv(headers, rows)
        media = "text/csv; charset=utf-8"
    return attachment(data, f"{name}-{stamp}.{fmt}", media, cache="no-store")


@router.get("/reports/export.{fmt}", name="reports:export")
def tenant_export(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    user: PageStaff,
    fmt: Fmt,
    table: Annotated[str, Query(pattern="^(summary|series|coverage|learners)$")] = "summary",
    group_by: Annotated[str, Query(max_length=10)] = "unit",
    key: Annotated[str, Query(max_length=40)] = "",
    measure: Annotated[str, Query(max_length=12)] = "completed",
    date_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    unit: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
) -> Response:
    _ = _translator(request)
    filters = service.filters_for(session, user, _date(date_from), _date(date_to))
    detail: dict[str, Any] = {"table": table, "from": date_from, "to": date_to}
    if table == "summary":
        _f, report = _tenant_view(session, user, group_by, date_from, date_to, unit)
        headers, rows = tables.summary_table(report, str(GROUP_BY[group_by]), _)
        detail.update(group_by=group_by, unit=unit)
    elif table == "series":
        series, _step = service.time_series(session, filters)
        headers = [_("Day"), _("Started"), _("Completed")]
        rows = [[p.day.isoformat(), p.started, p.completed] for p in series]
    elif table == "coverage":
        if filters.cohort_ids is not None:
            raise Forbidden(N_("You do not have permission to do this."), code="forbidden")
        headers = [_("Unit kind"), _("Covered"), _("Units"), _("Share (%)")]
        rows = [
            [_(tables.kind_label(c.kind)), c.covered, c.total, c.share] for c in service.coverage(session)
        ]
    else:
        lines, _total = service.drill_down(
            session, filters, group_by=group_by, key=key, measure=measure, limit=EXPORT_MAX_ROWS
        )
        headers, rows = tables.learners_table(lines, _)
        detail.update(group_by=group_by, key=key, measure=measure)
    return _export(request, session, user, fmt, f"bao-cao-{table}", headers, rows, detail)


# National ---------------------------------------------------------------------------------------------


def _require_national(tenant: TenantContext) -> None:
    if not tenant.is_national:
        raise NotFound(N_("Page not found."), code="not_national")


@router.get("/reports/national", name="reports:national")
def national_page(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    admin: PageNationalAdmin,
    date_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    merged: bool = False,
) -> Response:
    _require_national(tenant)
    _ = _translator(request)
    filters = service.filters_for(session, admin, _date(date_from), _date(date_to))
    report = service.national_report(session, filters, merged=merged)
    visits = service.national_visits_series(session)
    bars = [(r.name, float(r.figures.completed)) for r in report.rows[:BAR_LIMIT]]
    return render(
        request,
        "reports/national.html",
        {
            "report": report,
            "date_from": date_from or "",
            "date_to": date_to or "",
            "merged": merged,
            "params": {"from": date_from, "to": date_to, "merged": "1" if merged else None},
            "query": _query,
            "coverage_kinds": COVERAGE_KINDS,
            "coverage_labels": tables.COVERAGE_LABELS,
            "kind_label": tables.kind_label,
            "visits": visits,
            "ranged": filters.ranged,
            "bar_chart": charts.bar_chart(
                bars,
                title=_("Trainings by province (top {n})").replace("{n}", str(len(bars))),
                chart_id="provinces",
                fmt=_number(request),
                highlight=5,
            ),
            "line_chart": charts.line_chart(
                [(p.day, float(p.completed)) for p in visits],
                title=_("Visits per day, whole country"),
                chart_id="visits",
                fmt=_number(request),
            ),
        },
    )


@router.get("/reports/national/export.{fmt}", name="reports:national_export")
def national_export(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    admin: PageNationalAdmin,
    fmt: Fmt,
    table: Annotated[str, Query(pattern="^(tenants|visits)$")] = "tenants",
    date_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    merged: bool = False,
) -> Response:
    _require_national(tenant)
    _ = _translator(request)
    filters = service.filters_for(session, admin, _date(date_from), _date(date_to))
    if table == "tenants":
        headers, rows = tables.national_table(service.national_report(session, filters, merged=merged), _)
    else:
        headers = [_("Day"), _("Visits")]
        rows = [[p.day.isoformat(), p.completed] for p in service.national_visits_series(session)]
    detail = {"table": table, "from": date_from, "to": date_to, "merged": merged or None}
    return _export(request, session, admin, fmt, f"bao-cao-quoc-gia-{table}", headers, rows, detail)
