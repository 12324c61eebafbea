"""Courses, their modules and lessons, and uploaded media: national rows are readable from every province."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.db import Base, utcnow
from app.tenancy.models import TenantScoped

DRAFT = "draft"
PUBLISHED = "published"
STATUSES = (DRAFT, PUBLISHED)

TEXT = "text"
VIDEO = "video"
DOCUMENT = "document"
QUIZ = "quiz"
LESSON_KINDS = (TEXT, VIDEO, DOCUMENT, QUIZ)


class Course(TenantScoped, Base):
    __tablename__ = "course"
    __tenant_shared_read__ = True
    __table_args__ = (
        UniqueConstraint("tenant_id", "slug"),
        Index("ix_course_tenant_status", "tenant_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    # Title and summary folded (no diacritics, lower case): the catalog searches this with LIKE.
    search_folded: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    target_groups: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Quiz slugs that must be passed (kept for the quiz issue; round-trips through course.yaml).
    completion_quizzes: Mapped[list[str]] = mapped_column(JSON, default=list)
    certificate: Mapped[bool] = mapped_column(Boolean, default=False)
    # Number of required lessons, kept up to date on every change so progress never counts lessons.
    required_lessons: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(16), default="web")  # "files" (courses/ folder) or "web"
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    modules: Mapped[list[CourseModule]] = relationship(
        back_populates="course",
        lazy="raise",
        order_by="CourseModule.position",
        cascade="all, delete-orphan",
    )

    @property
    def is_published(self) -> bool:
        return self.status == PUBLISHED


class CourseModule(TenantScoped, Base):
    __tablename__ = "course_module"
    __tenant_shared_read__ = True
    __table_args__ = (UniqueConstraint("tenant_id", "course_id", "slug"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)

    course: Mapped[Course] = relationship(back_populates="modules", lazy="raise")
    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="module",
        lazy="raise",
        order_by="Lesson.position",
        cascade="all, delete-orphan",
    )


class MediaFile(TenantScoped, Base):
    """An uploaded video, PDF or image; the bytes live in `app.catalog.storage`."""

    __tablename__ = "media_file"
    __tenant_shared_read__ = True
    __table_args__ = (Index("ix_media_file_tenant_course", "tenant_id", "course_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), default=None)
    storage_key: Mapped[str] = mapped_column(String(255))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Lesson(TenantScoped, Base):
    __tablename__ = "lesson"
    __tenant_shared_read__ = True
    __table_args__ = (
        UniqueConstraint("tenant_id", "course_id", "slug"),
        Index("ix_lesson_tenant_module", "tenant_id", "module_id", "position"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    module_id: Mapped[int] = mapped_column(ForeignKey("course_module.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default=TEXT)
    position: Mapped[int] = mapped_column(Integer, default=0)
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    duration_minutes: Mapped[int | None] = mapped_column(Integer, default=None)
    body_md: Mapped[str] = mapped_column(Text, default="")
    # Rendered and sanitised when saved, never on each view.
    body_html: Mapped[str] = mapped_column(Text, default="")
    media_id: Mapped[int | None] = mapped_column(
        ForeignKey("media_file.id", ondelete="SET NULL"), default=None
    )
    embed_url: Mapped[str | None] = mapped_column(String(500), default=None)
    quiz_slug: Mapped[str | None] = mapped_column(String(100), default=None)
    # SHA-256 of the lesson's file form: an import skips lessons whose file has not changed.
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    module: Mapped[CourseModule] = relationship(back_populates="lessons", lazy="raise")
    media: Mapped[MediaFile | None] = relationship(lazy="raise")
