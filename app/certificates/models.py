"""Certificates (chứng nhận): issued once per enrolment when its course completes; revocable, kept."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, utcnow
from app.tenancy.models import TenantScoped


class Certificate(TenantScoped, Base):
    """Belongs to the learner's tenant, so it verifies on that portal only."""

    __tablename__ = "certificate"
    __table_args__ = (
        UniqueConstraint("code"),
        # One certificate per enrolment: completing twice (or concurrently) issues one.
        UniqueConstraint("tenant_id", "enrolment_id"),
        Index("ix_certificate_tenant_user", "tenant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(19))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="RESTRICT"))
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolment.id", ondelete="CASCADE"))
    # Snapshots: a certificate says what was true when it was issued.
    learner_name: Mapped[str] = mapped_column(String(300))
    course_title: Mapped[str] = mapped_column(String(300))
    issued_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    revoke_reason: Mapped[str | None] = mapped_column(Text, default=None)
    revoked_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), default=None
    )

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
