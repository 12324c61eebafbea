"""The append-only audit log: who did what to what, when and from where."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, utcnow
from app.tenancy.models import TenantScoped


class AuditEvent(TenantScoped, Base):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_tenant_at", "tenant_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255), default=None)
    client_address: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
