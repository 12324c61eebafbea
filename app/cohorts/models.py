"""Cohorts (đợt): one run of a course in one tenant, possibly of a national course."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Course
from app.core.db import Base, utcnow
from app.tenancy.models import TenantScoped


class Cohort(TenantScoped, Base):
    __tablename__ = "cohort"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        Index("ix_cohort_tenant_course", "tenant_id", "course_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # May point at a national course row: the cohort itself belongs to the province.
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(300))
    opens_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    closes_on: Mapped[dt.date | None] = mapped_column(Date, default=None)
    self_enrolment: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    course: Mapped[Course] = relationship(lazy="raise")

    def is_open_on(self, day: dt.date) -> bool:
        return (self.opens_on is None or self.opens_on <= day) and (
            self.closes_on is None or day <= self.closes_on
        )


class CohortTrainer(TenantScoped, Base):
    """A trainer who runs a cohort and may read its report. The cohort's creator counts as one too."""

    __tablename__ = "cohort_trainer"
    __table_args__ = (
        UniqueConstraint("tenant_id", "cohort_id", "user_id"),
        Index("ix_cohort_trainer_tenant_user", "tenant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohort.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
