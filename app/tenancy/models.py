"""Tenants (the national portal and each province) and the mixin every tenant-owned table uses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from app.core.db import Base, utcnow

NATIONAL_SLUG = "national"


class Tenant(Base):
    """A portal: `national` on the bare domain, or a province on `{slug}.{BASE_DOMAIN}`. A global table."""

    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    colour: Mapped[str] = mapped_column(String(7), default="#0b5394")
    logo_path: Mapped[str | None] = mapped_column(String(255), default=None)
    default_language: Mapped[str] = mapped_column(String(5), default="vi")
    self_registration: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def is_national(self) -> bool:
        return self.slug == NATIONAL_SLUG


@dataclass(frozen=True)
class TenantContext:
    """An immutable snapshot of the request's tenant: safe after rollback, cacheable across requests."""

    id: int
    slug: str
    display_name: str
    colour: str
    default_language: str
    self_registration: bool
    logo_path: str | None

    @property
    def is_national(self) -> bool:
        return self.slug == NATIONAL_SLUG

    @classmethod
    def of(cls, tenant: Tenant) -> TenantContext:
        return cls(
            id=tenant.id,
            slug=tenant.slug,
            display_name=tenant.display_name,
            colour=tenant.colour,
            default_language=tenant.default_language,
            self_registration=tenant.self_registration,
            logo_path=tenant.logo_path,
        )


class TenantScoped:
    """Mixin for tenant-owned tables: a `tenant_id` column that every ORM query is filtered by.

    The filter is added centrally by `app.tenancy.scoping`; models never filter by tenant themselves.
    Set `__tenant_shared_read__ = True` on content that the national tenant publishes to every province
    (courses and their parts): those rows are readable from the national tenant too, never writable.
    """

    __tenant_shared_read__: bool = False

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True, nullable=False)
