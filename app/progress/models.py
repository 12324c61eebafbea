"""Enrolments and lesson progress; they belong to the learner's tenant even for national courses."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import Course
from app.cohorts.models import Cohort
from app.core.db import Base, utcnow
from app.tenancy.models import TenantScoped


class Enrolment(TenantScoped, Base):
    """One learner in one course; the figures are kept current so reports never scan lesson rows."""

    __tablename__ = "enrolment"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "course_id"),
        Index("ix_enrolment_tenant_course", "tenant_id", "course_id"),
        Index("ix_enrolment_tenant_cohort", "tenant_id", "cohort_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="RESTRICT"))
    cohort_id: Mapped[int | None] = mapped_column(ForeignKey("cohort.id", ondelete="SET NULL"), default=None)
    lessons_completed: Mapped[int] = mapped_column(Integer, default=0)
    lessons_total: Mapped[int] = mapped_column(Integer, default=0)
    percent: Mapped[int] = mapped_column(Integer, default=0)
    enrolled_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    completed_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    last_lesson_id: Mapped[int | None] = mapped_column(
        ForeignKey("lesson.id", ondelete="SET NULL"), default=None
    )
    # Kept current by the quiz and certificate services, so reports read them without scanning attempts:
    # the best percent over the course's required quizzes' best attempts, and when a certificate was issued.
    best_score_percent: Mapped[float | None] = mapped_column(Float, default=None)
    certified_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Where the report counters file this enrolment: the learner's unit and target group when they enrolled
    # (0 / "" for none). Every later event of the enrolment lands in the same counter row, so a row's figures
    # stay consistent; `onetouch reports rebuild` re-homes enrolments to the learners' current unit and group.
    counted_unit_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    counted_group: Mapped[str] = mapped_column(String(32), default="", server_default="")

    course: Mapped[Course] = relationship(lazy="raise")
    cohort: Mapped[Cohort | None] = relationship(lazy="raise")


class LessonProgress(TenantScoped, Base):
    """A completed lesson: the unique constraint makes completion count once, whatever the clicks."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("tenant_id", "enrolment_id", "lesson_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lesson.id", ondelete="CASCADE"))
    completed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
