"""Stored report figures: counters kept current on every enrolment event, so no dashboard scans progress rows.

Every table here is derived data: `onetouch reports rebuild` recomputes it from `enrolment`.
"None" in a key column is stored as 0 / "" rather than NULL, so the keys can be unique and upserted
(`INSERT … ON CONFLICT DO UPDATE`) on SQLite and PostgreSQL alike; the key columns carry no foreign keys for
the same reason (a counter outliving its unit or cohort is harmless and `rebuild` drops it).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base
from app.tenancy.models import TenantScoped

NO_ID = 0
NO_GROUP = ""


class _Measures:
    """The figures every counter row carries."""

    assigned: Mapped[int] = mapped_column(Integer, default=0)
    started: Mapped[int] = mapped_column(Integer, default=0)
    completed: Mapped[int] = mapped_column(Integer, default=0)
    certified: Mapped[int] = mapped_column(Integer, default=0)
    late: Mapped[int] = mapped_column(Integer, default=0)
    score_sum: Mapped[float] = mapped_column(Float, default=0.0)
    score_count: Mapped[int] = mapped_column(Integer, default=0)


class ReportCounter(_Measures, TenantScoped, Base):
    """All-time figures per (course, cohort, unit, target group) of one tenant."""

    __tablename__ = "report_counter"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id", "course_id", "cohort_id", "unit_id", "target_group", name="uq_report_counter_key"
        ),
        Index("ix_report_counter_tenant_unit", "tenant_id", "unit_id"),
        Index("ix_report_counter_tenant_cohort", "tenant_id", "cohort_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(Integer)
    cohort_id: Mapped[int] = mapped_column(Integer, default=NO_ID)
    unit_id: Mapped[int] = mapped_column(Integer, default=NO_ID)
    target_group: Mapped[str] = mapped_column(String(32), default=NO_GROUP)


class ReportDaily(_Measures, TenantScoped, Base):
    """The same figures per Vietnam-local day of each event (enrolled, started, completed, certified)."""

    __tablename__ = "report_daily"
    __table_args__ = (
        UniqueConstraint(
            "tenant_id",
            "day",
            "course_id",
            "cohort_id",
            "unit_id",
            "target_group",
            name="uq_report_daily_key",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    course_id: Mapped[int] = mapped_column(Integer)
    cohort_id: Mapped[int] = mapped_column(Integer, default=NO_ID)
    unit_id: Mapped[int] = mapped_column(Integer, default=NO_ID)
    target_group: Mapped[str] = mapped_column(String(32), default=NO_GROUP)


class ReportTenant(_Measures, TenantScoped, Base):
    """One row per tenant: its totals and its distinct learners with at least one completed course.

    The national report reads 63 of these rows instead of summing every counter.
    """

    __tablename__ = "report_tenant"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    learners: Mapped[int] = mapped_column(Integer, default=0)


class ReportLearner(TenantScoped, Base):
    """Courses each learner completed: the first completion makes them a distinct learner of the tenant."""

    __tablename__ = "report_learner"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer, default=0)


class ReportUnit(TenantScoped, Base):
    """Completions by learners in a unit or anywhere below it: coverage is "units with completed > 0"."""

    __tablename__ = "report_unit"
    __table_args__ = (UniqueConstraint("tenant_id", "unit_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), default="")
    completed: Mapped[int] = mapped_column(Integer, default=0)


class VisitDay(TenantScoped, Base):
    """Page views of a portal on one Vietnam-local day, flushed from memory in batches (reports.visits)."""

    __tablename__ = "visit_day"
    __table_args__ = (UniqueConstraint("tenant_id", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date)
    count: Mapped[int] = mapped_column(Integer, default=0)
