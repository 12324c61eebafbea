"""User accounts: one tenant each, several roles, argon2id password hashes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.accounts.constants import LEARNER
from app.core.db import Base, utcnow
from app.tenancy.models import TenantScoped


class User(TenantScoped, Base):
    __tablename__ = "user_account"
    __table_args__ = (
        UniqueConstraint("tenant_id", "username"),
        UniqueConstraint("tenant_id", "email"),
        UniqueConstraint("tenant_id", "phone"),
        Index("ix_user_account_tenant_unit", "tenant_id", "unit_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    phone: Mapped[str | None] = mapped_column(String(20), default=None)
    position: Mapped[str | None] = mapped_column(String(200), default=None)
    target_group: Mapped[str | None] = mapped_column(String(32), default=None)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"), default=None)
    date_of_birth: Mapped[dt.date | None] = mapped_column(Date, default=None)
    gender: Mapped[str | None] = mapped_column(String(10), default=None)
    roles: Mapped[list[str]] = mapped_column(JSON, default=lambda: [LEARNER])
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # A one-time initial password from a bulk import: only its HMAC (keyed with SECRET_KEY) is stored, it
    # expires, and the forced password change replaces it with an argon2id hash (README, "Security model").
    initial_secret_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    initial_secret_expires_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    # Bumped on password change and sign-out: tokens carry it and older ones stop working.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(default=None)

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)
