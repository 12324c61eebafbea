"""Quizzes, their question banks and learners' attempts.

A quiz and its questions belong to the course's tenant and are shared-read like courses, so a national quiz
works on every portal. Attempts belong to the learner's tenant. An attempt stores the questions it drew (with
the right answers) server-side: grading uses that snapshot, so editing the bank never changes an attempt.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, utcnow
from app.quizzes.constants import DEFAULT_PASS_PERCENT, DEFAULT_SHOW_REVIEW, DEFAULT_SHUFFLE_OPTIONS
from app.tenancy.models import TenantScoped

# Attempt statuses.
IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
TIMED_OUT = "timed_out"  # graded at the deadline with the answers saved by then
ATTEMPT_STATUSES = (IN_PROGRESS, SUBMITTED, TIMED_OUT)


class Quiz(TenantScoped, Base):
    __tablename__ = "quiz"
    __tenant_shared_read__ = True
    __table_args__ = (UniqueConstraint("tenant_id", "course_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    pass_percent: Mapped[float] = mapped_column(Float, default=DEFAULT_PASS_PERCENT)
    time_limit_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    max_attempts: Mapped[int | None] = mapped_column(Integer, default=None)
    draw: Mapped[int | None] = mapped_column(Integer, default=None)
    shuffle_options: Mapped[bool] = mapped_column(Boolean, default=DEFAULT_SHUFFLE_OPTIONS)
    show_review: Mapped[bool] = mapped_column(Boolean, default=DEFAULT_SHOW_REVIEW)
    # SHA-256 of the quiz's parsed file form: an import skips an unchanged quiz; "" after a browser edit.
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    questions: Mapped[list[QuizQuestion]] = relationship(
        back_populates="quiz",
        lazy="raise",
        order_by="QuizQuestion.position",
        cascade="all, delete-orphan",
    )


class QuizQuestion(TenantScoped, Base):
    """One question of a bank, with its right answers: never sent to a learner before submission."""

    __tablename__ = "quiz_question"
    __tenant_shared_read__ = True
    __table_args__ = (UniqueConstraint("tenant_id", "quiz_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="CASCADE"))
    # The question's id in the bank (`q01`): what attempts, answers and files call it.
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[str] = mapped_column(String(16))
    # How text, options and feedback are written: "markdown" or "html" (Moodle's exports).
    format: Mapped[str] = mapped_column(String(16), default="markdown", server_default="markdown")
    text: Mapped[str] = mapped_column(Text)
    # [{"id": "a", "text": "…", "correct": true, "weight"?: 50, "feedback"?: "…"}, …]: the choices of
    # single/multiple/true_false and matching questions.
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Short answers (a text, or {"text", "weight", "feedback"}), numerical answers ({"text": "1822",
    # "tolerance", …}) or matching prompts ({"text", "option"}).
    answers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    explanation: Mapped[str] = mapped_column(Text, default="")
    points: Mapped[int] = mapped_column(Integer, default=1)

    quiz: Mapped[Quiz] = relationship(back_populates="questions", lazy="raise")


class QuizAttempt(TenantScoped, Base):
    __tablename__ = "quiz_attempt"
    __table_args__ = (
        # Attempt numbers are unique per learner and quiz: two racing starts cannot exceed the limit.
        UniqueConstraint("tenant_id", "user_id", "quiz_id", "number"),
        # One active attempt per learner and quiz.
        Index(
            "uq_quiz_attempt_active",
            "tenant_id",
            "user_id",
            "quiz_id",
            unique=True,
            sqlite_where=text("submitted_at IS NULL"),
            postgresql_where=text("submitted_at IS NULL"),
        ),
        Index("ix_quiz_attempt_tenant_enrolment", "tenant_id", "enrolment_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"))
    quiz_id: Mapped[int] = mapped_column(ForeignKey("quiz.id", ondelete="RESTRICT"))
    number: Mapped[int] = mapped_column(Integer)
    # The drawn and shuffled questions, in the order shown, with their right answers (server side only).
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # Answers saved so far, then the graded ones: {"q01": ["a"], "q07": "VNeID"}.
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=IN_PROGRESS)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deadline: Mapped[dt.datetime | None] = mapped_column(default=None)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Points earned: partial credit makes fractions (2.5 of 4).
    score: Mapped[float | None] = mapped_column(Float, default=None)
    max_score: Mapped[int | None] = mapped_column(Integer, default=None)
    percent: Mapped[float | None] = mapped_column(Float, default=None)
    passed: Mapped[bool | None] = mapped_column(Boolean, default=None)

    quiz: Mapped[Quiz] = relationship(lazy="raise")

    @property
    def is_active(self) -> bool:
        return self.submitted_at is None
