"""Tenant and national reports, read from the stored counters (reports.counters), never from progress rows.

Only the learner drill-down reads enrolments, one page at a time, through tenant-first indexes.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.accounts.constants import NATIONAL_ADMIN, TARGET_GROUPS, TENANT_ADMIN, TRAINER
from app.accounts.models import User
from app.catalog.models import Course
from app.cohorts import service as cohorts_service
from app.cohorts.models import Cohort
from app.core.errors import N_, Forbidden, Invalid, NotFound
from app.core.i18n import VN_TZ
from app.core.numbers import parse_int
from app.progress.models import Enrolment
from app.reports.constants import (
    COVERAGE_KINDS,
    DRILL_MEASURES,
    GROUP_BY,
    SERIES_DAYS,
    WEEKLY_AFTER_DAYS,
)
from app.reports.counters import MEASURES
from app.reports.models import NO_GROUP, NO_ID, ReportCounter, ReportDaily, ReportTenant, ReportUnit, VisitDay
from app.tenancy.models import NATIONAL_SLUG, Tenant
from app.tenancy.scoping import cross_tenant
from app.units.models import Unit

DATA_DIR = Path(__file__).parent / "data"


@dataclass
class Figures:
    assigned: int = 0
    started: int = 0
    completed: int = 0
    certified: int = 0
    late: int = 0
    score_sum: float = 0.0
    score_count: int = 0

    @property
    def completion_rate(self) -> float:
        """Completed as a percentage of assigned (0 when nothing is assigned)."""
        return round(self.completed * 100 / self.assigned, 1) if self.assigned else 0.0

    @property
    def average_score(self) -> float | None:
        return round(self.score_sum / self.score_count, 1) if self.score_count else None

    def add(self, other: Figures) -> None:
        for name in MEASURES:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @classmethod
    def of(cls, values: Sequence[Any]) -> Figures:
        return cls(*(v or 0 for v in values))


@dataclass
class Row:
    key: str
    name: str
    figures: Figures
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Filters:
    """What a report covers. A date range counts each event on its own day (see README, "Reports")."""

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    # None: every cohort. A tuple: only these cohorts (a trainer's report).
    cohort_ids: tuple[int, ...] | None = None

    @property
    def ranged(self) -> bool:
        return self.date_from is not None or self.date_to is not None


@dataclass
class Report:
    group_by: str
    rows: list[Row]
    totals: Figures
    parent: Unit | None = None
    breadcrumbs: list[Unit] = field(default_factory=list)


# Who may read what --------------------------------------------------------------------------------


def filters_for(
    session: Session, user: User, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> Filters:
    """The report a user may read: admins see the whole tenant, trainers the cohorts they run (the cohorts'
    own rule, app.cohorts.service.managed_cohort_ids), learners nothing."""
    if date_from and date_to and date_to < date_from:
        raise Invalid(N_("The end date must not be before the start date."), code="dates")
    if not user.has_role(TRAINER, TENANT_ADMIN, NATIONAL_ADMIN):
        raise Forbidden(N_("You do not have permission to do this."), code="forbidden")
    return Filters(date_from, date_to, cohort_ids=cohorts_service.managed_cohort_ids(session, user))


# Reading the counters ------------------------------------------------------------------------------


def _source(filters: Filters, *group: str) -> Select[Any]:
    """SUM of every measure, from the all-time counters or, with a date range, from the daily ones."""
    model: Any = ReportDaily if filters.ranged else ReportCounter
    columns = [getattr(model, g) for g in group]
    stmt = select(*columns, *[func.sum(getattr(model, m)) for m in MEASURES])
    if filters.date_from is not None:
        stmt = stmt.where(model.day >= filters.date_from)
    if filters.date_to is not None:
        stmt = stmt.where(model.day <= filters.date_to)
    if filters.cohort_ids is not None:
        stmt = stmt.where(model.cohort_id.in_(filters.cohort_ids or (-1,)))
    if columns:
        stmt = stmt.group_by(*columns)
    return stmt


def totals(session: Session, filters: Filters) -> Figures:
    row = session.execute(_source(filters)).one()
    return Figures.of(row)


def tenant_report(
    session: Session, group_by: str, filters: Filters, *, parent_unit_id: int | None = None
) -> Report:
    """One tenant's figures grouped by unit (rolled up the tree), target group, course or cohort."""
    if group_by not in GROUP_BY:
        raise Invalid(N_("Unknown grouping."), code="group_by")
    total = totals(session, filters)
    if group_by == "unit":
        return _by_unit(session, filters, parent_unit_id, total)
    column = {"group": "target_group", "course": "course_id", "cohort": "cohort_id"}[group_by]
    sums = {row[0]: Figures.of(row[1:]) for row in session.execute(_source(filters, column))}
    names = _names(session, group_by, [k for k in sums if k not in (NO_ID, NO_GROUP)])
    rows = [
        Row(str(k), names.get(k, ""), f, {"none": k in (NO_ID, NO_GROUP)})
        for k, f in sums.items()
        if any(getattr(f, m) for m in MEASURES)
    ]
    rows.sort(key=lambda r: (r.extra["none"], -r.figures.completed, r.name))
    return Report(group_by, rows, total)


def _names(session: Session, group_by: str, keys: list[Any]) -> dict[Any, str]:
    if group_by == "group":
        return {k: TARGET_GROUPS.get(k, k) for k in keys}
    if not keys:
        return {}
    if group_by == "course":
        return dict(session.execute(select(Course.id, Course.title).where(Course.id.in_(keys))).all())
    rows = session.execute(select(Cohort.id, Cohort.code, Cohort.title).where(Cohort.id.in_(keys)))
    return {i: f"{code} – {title}" for i, code, title in rows}


def _by_unit(session: Session, filters: Filters, parent_unit_id: int | None, total: Figures) -> Report:
    """Children of `parent_unit_id` (top-level units without it), each with its whole subtree rolled up.

    Counters are summed per unit in SQL, then added to every ancestor through the materialised path in
    Python: one pass over the units that have figures, however deep the tree.
    """
    parent = None
    if parent_unit_id is not None:
        parent = session.get(Unit, parent_unit_id)
        if parent is None:
            raise NotFound(N_("Unit not found."), code="unit_not_found")
    per_unit = session.execute(
        _source(filters, "unit_id")
        .add_columns(Unit.path)
        .outerjoin(Unit, Unit.id == (ReportDaily if filters.ranged else ReportCounter).unit_id)
        .group_by(Unit.path)
    ).all()
    rolled: dict[int, Figures] = defaultdict(Figures)
    direct: dict[int, Figures] = {}
    for row in per_unit:
        unit_id, path = row[0], row[-1]
        figures = Figures.of(row[1:-1])
        direct[unit_id] = figures
        for ancestor in [int(p) for p in (path or "").strip("/").split("/") if p]:
            rolled[ancestor].add(figures)
    children = session.scalars(
        select(Unit)
        .where(Unit.parent_id == parent_unit_id if parent_unit_id else Unit.parent_id.is_(None))
        .order_by(Unit.name_folded)
    ).all()
    with_children = set(
        session.scalars(select(Unit.parent_id).where(Unit.parent_id.in_([u.id for u in children])).distinct())
    )
    rows = [
        Row(
            str(unit.id),
            unit.name,
            rolled.get(unit.id, Figures()),
            {"kind": unit.kind, "drill": unit.id in with_children},
        )
        for unit in children
    ]
    rows.sort(key=lambda r: (-r.figures.assigned, r.name))
    own = direct.get(parent.id) if parent else direct.get(NO_ID)
    if own is not None and own.assigned + own.completed + own.started:
        rows.append(Row(f"direct:{parent.id}" if parent else "none", "", own, {"none": True}))
    if parent is not None:
        total = rolled.get(parent.id, Figures())
    breadcrumbs: list[Unit] = []
    if parent is not None:
        ids = [int(p) for p in parent.path.strip("/").split("/") if p]
        by_id = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(ids)))}
        breadcrumbs = [by_id[i] for i in ids if i in by_id]
    return Report("unit", rows, total, parent=parent, breadcrumbs=breadcrumbs)


@dataclass
class Point:
    day: dt.date
    completed: int
    started: int


def time_series(
    session: Session, filters: Filters, *, today: dt.date | None = None
) -> tuple[list[Point], str]:
    """Completions (and starts) per day, or per week over long ranges; days without events count zero."""
    today = today or dt.datetime.now(VN_TZ).date()
    end = filters.date_to or today
    start = filters.date_from or end - dt.timedelta(days=SERIES_DAYS - 1)
    ranged = Filters(start, end, filters.cohort_ids)
    stmt = (
        select(ReportDaily.day, func.sum(ReportDaily.completed), func.sum(ReportDaily.started))
        .where(ReportDaily.day >= start, ReportDaily.day <= end)
        .group_by(ReportDaily.day)
    )
    if ranged.cohort_ids is not None:
        stmt = stmt.where(ReportDaily.cohort_id.in_(ranged.cohort_ids or (-1,)))
    by_day = {d: (int(c or 0), int(s or 0)) for d, c, s in session.execute(stmt)}
    weekly = (end - start).days + 1 > WEEKLY_AFTER_DAYS
    points: dict[dt.date, list[int]] = {}
    day = start
    while day <= end:
        bucket = day - dt.timedelta(days=day.weekday()) if weekly else day
        slot = points.setdefault(bucket, [0, 0])
        c, s = by_day.get(day, (0, 0))
        slot[0] += c
        slot[1] += s
        day += dt.timedelta(days=1)
    return [Point(d, v[0], v[1]) for d, v in sorted(points.items())], "week" if weekly else "day"


def learners_with_completion(session: Session, tenant_id: int) -> int:
    return session.scalar(select(ReportTenant.learners).where(ReportTenant.tenant_id == tenant_id)) or 0


@dataclass
class Coverage:
    kind: str
    covered: int
    total: int

    @property
    def share(self) -> float:
        return round(self.covered * 100 / self.total, 1) if self.total else 0.0


def coverage(session: Session) -> list[Coverage]:
    """Units of each kind with at least one completion by a learner in them or below them (this tenant)."""
    totals_ = dict(
        session.execute(
            select(Unit.kind, func.count()).where(Unit.kind.in_(COVERAGE_KINDS)).group_by(Unit.kind)
        ).all()
    )
    covered = dict(
        session.execute(
            select(ReportUnit.kind, func.count())
            .where(ReportUnit.completed > 0, ReportUnit.kind.in_(COVERAGE_KINDS))
            .group_by(ReportUnit.kind)
        ).all()
    )
    return [Coverage(k, int(covered.get(k, 0)), int(totals_.get(k, 0))) for k in COVERAGE_KINDS]


def visits(session: Session, filters: Filters) -> int:
    stmt = select(func.coalesce(func.sum(VisitDay.count), 0))
    if filters.date_from:
        stmt = stmt.where(VisitDay.day >= filters.date_from)
    if filters.date_to:
        stmt = stmt.where(VisitDay.day <= filters.date_to)
    return int(session.scalar(stmt) or 0)


# Drill-down -----------------------------------------------------------------------------------------


@dataclass
class LearnerLine:
    user: User
    enrolment: Enrolment
    course_title: str
    unit_name: str


def _local_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=VN_TZ).astimezone(dt.UTC)


def drill_down(
    session: Session,
    filters: Filters,
    *,
    group_by: str,
    key: str,
    measure: str,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[LearnerLine], int]:
    """The learners behind one number of the report, a page at a time (the one query on enrolments)."""
    if measure not in DRILL_MEASURES or group_by not in (*GROUP_BY, "all"):
        raise Invalid(N_("Unknown figure."), code="measure")
    stmt: Any = select(Enrolment, User).join(User, User.id == Enrolment.user_id)
    stmt = _drill_where(session, stmt, filters, group_by, key, measure)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(stmt.order_by(User.name_folded, User.id, Enrolment.id).limit(limit).offset(offset))
    pairs: list[tuple[Enrolment, User]] = [(e, u) for e, u in rows]
    course_ids = {e.course_id for e, _ in pairs}
    unit_ids = {e.counted_unit_id for e, _ in pairs if e.counted_unit_id}
    titles = dict(session.execute(select(Course.id, Course.title).where(Course.id.in_(course_ids))).all())
    units = dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all())
    return [
        LearnerLine(u, e, titles.get(e.course_id, ""), units.get(e.counted_unit_id, "")) for e, u in pairs
    ], int(total)


def _drill_where(session: Session, stmt: Any, filters: Filters, group_by: str, key: str, measure: str) -> Any:
    date_column = {
        "assigned": Enrolment.enrolled_at,
        "started": Enrolment.started_at,
        "completed": Enrolment.completed_at,
        "late": Enrolment.completed_at,
        "certified": Enrolment.certified_at,
    }[measure]
    if measure != "assigned":
        stmt = stmt.where(date_column.is_not(None))
    if measure == "late":
        stmt = stmt.where(Enrolment.late.is_(True))
    if filters.date_from:
        stmt = stmt.where(date_column >= _local_start(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(date_column < _local_start(filters.date_to + dt.timedelta(days=1)))
    if filters.cohort_ids is not None:
        stmt = stmt.where(Enrolment.cohort_id.in_(filters.cohort_ids or (-1,)))
    if group_by == "all":
        return stmt
    if group_by == "unit":
        if key == "none":
            return stmt.where(Enrolment.counted_unit_id == NO_ID)
        unit_id = _int(key.removeprefix("direct:"))
        unit = session.get(Unit, unit_id)
        if unit is None:
            raise NotFound(N_("Unit not found."), code="unit_not_found")
        if key.startswith("direct:"):
            return stmt.where(Enrolment.counted_unit_id == unit.id)
        subtree = select(Unit.id).where(Unit.path.startswith(unit.path, autoescape=True))
        return stmt.where(Enrolment.counted_unit_id.in_(subtree))
    if group_by == "group":
        return stmt.where(Enrolment.counted_group == ("" if key == NO_GROUP or key == "none" else key))
    if group_by == "course":
        return stmt.where(Enrolment.course_id == _int(key))
    cohort_id = _int(key)
    return stmt.where(Enrolment.cohort_id == cohort_id if cohort_id else Enrolment.cohort_id.is_(None))


def _int(value: str) -> int:
    number = parse_int(value)
    if number is None:
        raise Invalid(N_("Unknown figure."), code="key")
    return number


# National ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Province:
    slug: str
    name: str
    successor_slug: str
    successor_name: str


@cache
def provinces() -> dict[str, Province]:
    """The 63 provinces (until 30 June 2025) and their successors among the 34 (app/reports/data)."""
    with (DATA_DIR / "provinces.csv").open(encoding="utf-8") as f:
        return {
            r["slug"]: Province(r["slug"], r["name"], r["successor_slug"], r["successor_name"])
            for r in csv.DictReader(f)
        }


@dataclass
class NationalRow(Row):
    rank: int = 0


@dataclass
class NationalReport:
    rows: list[NationalRow]
    totals: Figures
    learners: int
    provinces: Figures
    coverage: dict[str, Coverage]
    teams: int
    team_members: int
    visits: int
    merged: bool = False


def national_report(session: Session, filters: Filters, *, merged: bool = False) -> NationalReport:
    """Every tenant's figures, ranked by trainings (completed enrolments), with national totals.

    Totals are sums of the per-tenant rows, so moving a tenant's rows under its successor (`merged`, or a
    real merge) cannot change them. The national portal's own tenant is a row like any other.
    """
    with cross_tenant(session):
        tenants = list(session.scalars(select(Tenant)))
        measures = _tenant_measures(session, filters)
    rows = _national_rows(tenants, measures, merged=merged)
    total = Figures()
    province_total = Figures()
    for r in rows:
        total.add(r.figures)
        if r.extra["province"]:
            province_total.add(r.figures)
    coverage_total = {
        k: Coverage(
            k, sum(r.extra["coverage"][k][0] for r in rows), sum(r.extra["coverage"][k][1] for r in rows)
        )
        for k in COVERAGE_KINDS
    }
    return NationalReport(
        rows=rows,
        totals=total,
        learners=sum(r.extra["learners"] for r in rows),
        provinces=province_total,
        coverage=coverage_total,
        teams=coverage_total["team"].total,
        team_members=sum(r.extra["members"] for r in rows),
        visits=sum(r.extra["visits"] for r in rows),
        merged=merged,
    )


@dataclass
class _TenantMeasures:
    """What the national report reads, by tenant id (missing: zero)."""

    figures: dict[int, Figures]
    learners: dict[int, int]  # all-time only: a date range leaves it empty
    coverage: dict[int, dict[str, list[int]]]  # kind → [units with a completion, units]
    members: dict[int, int]  # accounts in team units
    visits: dict[int, int]


def _tenant_measures(session: Session, filters: Filters) -> _TenantMeasures:
    """Every tenant's counters, coverage, team members and visits: a few grouped queries (cross-tenant)."""
    learners: dict[int, int] = {}
    if filters.ranged:
        stmt = _source(filters, "tenant_id")
        figures = {row[0]: Figures.of(row[1:]) for row in session.execute(stmt)}
    else:
        figures = {}
        for row in session.execute(
            select(
                ReportTenant.tenant_id,
                *[getattr(ReportTenant, m) for m in MEASURES],
                ReportTenant.learners,
            )
        ):
            figures[row[0]] = Figures.of(row[1:-1])
            learners[row[0]] = int(row[-1] or 0)
    coverage: dict[int, dict[str, list[int]]] = defaultdict(lambda: {k: [0, 0] for k in COVERAGE_KINDS})
    for tenant_id, kind, n in session.execute(
        select(ReportUnit.tenant_id, ReportUnit.kind, func.count())
        .where(ReportUnit.completed > 0, ReportUnit.kind.in_(COVERAGE_KINDS))
        .group_by(ReportUnit.tenant_id, ReportUnit.kind)
    ).all():
        coverage[tenant_id][kind][0] = int(n)
    for tenant_id, kind, n in session.execute(
        select(Unit.tenant_id, Unit.kind, func.count())
        .where(Unit.kind.in_(COVERAGE_KINDS))
        .group_by(Unit.tenant_id, Unit.kind)
    ).all():
        coverage[tenant_id][kind][1] = int(n)
    members = session.execute(
        select(User.tenant_id, func.count())
        .join(Unit, (Unit.id == User.unit_id) & (Unit.tenant_id == User.tenant_id))
        .where(Unit.kind == "team")
        .group_by(User.tenant_id)
    ).all()
    visit_stmt = select(VisitDay.tenant_id, func.sum(VisitDay.count)).group_by(VisitDay.tenant_id)
    if filters.date_from:
        visit_stmt = visit_stmt.where(VisitDay.day >= filters.date_from)
    if filters.date_to:
        visit_stmt = visit_stmt.where(VisitDay.day <= filters.date_to)
    visits = {t: int(v or 0) for t, v in session.execute(visit_stmt)}
    return _TenantMeasures(figures, learners, coverage, {t: int(n) for t, n in members}, visits)


def _national_rows(tenants: list[Tenant], measures: _TenantMeasures, *, merged: bool) -> list[NationalRow]:
    """One row per portal (with `merged`, per successor province: its predecessors' rows summed), ranked."""
    known = provinces()
    groups: dict[str, NationalRow] = {}
    for tenant in tenants:
        slug, name = tenant.slug, tenant.display_name
        is_province = slug in known
        if merged and is_province:
            slug, name = known[slug].successor_slug, known[slug].successor_name
        group = groups.get(slug)
        if group is None:
            group = groups[slug] = NationalRow(
                slug,
                name,
                Figures(),
                {
                    "learners": 0,
                    "coverage": {k: [0, 0] for k in COVERAGE_KINDS},
                    "members": 0,
                    "visits": 0,
                    "province": is_province,
                    "tenants": [],
                },
            )
        group.figures.add(measures.figures.get(tenant.id, Figures()))
        group.extra["learners"] += measures.learners.get(tenant.id, 0)
        group.extra["members"] += measures.members.get(tenant.id, 0)
        group.extra["visits"] += measures.visits.get(tenant.id, 0)
        group.extra["tenants"].append(tenant.slug)
        for kind in COVERAGE_KINDS:
            group.extra["coverage"][kind][0] += measures.coverage[tenant.id][kind][0]
            group.extra["coverage"][kind][1] += measures.coverage[tenant.id][kind][1]
    # Every portal is listed, a new one with zeros too (a province that has not started is news to the
    # ministry); only the national portal's own row is left out while it has no activity of its own.
    rows = [
        r
        for r in groups.values()
        if r.key != NATIONAL_SLUG or r.figures.assigned or r.figures.completed or r.extra["visits"]
    ]
    rows.sort(key=lambda r: (-r.figures.completed, -r.figures.assigned, r.name))
    for i, r in enumerate(rows, start=1):
        r.rank = i
    return rows


def national_visits_series(
    session: Session, *, days: int = SERIES_DAYS, today: dt.date | None = None
) -> list[Point]:
    """Visits per day over the whole country (as Points with `completed` holding the visits)."""
    today = today or dt.datetime.now(VN_TZ).date()
    start = today - dt.timedelta(days=days - 1)
    with cross_tenant(session):
        by_day = dict(
            session.execute(
                select(VisitDay.day, func.sum(VisitDay.count))
                .where(VisitDay.day >= start)
                .group_by(VisitDay.day)
            ).all()
        )
    return [
        Point(start + dt.timedelta(days=i), int(by_day.get(start + dt.timedelta(days=i), 0) or 0), 0)
        for i in range(days)
    ]
