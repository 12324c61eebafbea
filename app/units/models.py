"""Units: the tenant's tree of departments, districts, communes, villages, teams and enterprises.

`path` is the materialised path of ids ("/12/57/301/"), so a report rolls a subtree up with
`path LIKE '/12/%'` on the (tenant_id, path) index instead of a recursive query.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, utcnow
from app.tenancy.models import TenantScoped


class Unit(TenantScoped, Base):
    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        Index("ix_unit_tenant_path", "tenant_id", "path"),
        Index("ix_unit_tenant_parent", "tenant_id", "parent_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    name_folded: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("unit.id", ondelete="RESTRICT"), default=None, index=False
    )
    path: Mapped[str] = mapped_column(String(1024), default="/")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
