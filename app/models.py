"""Every model, imported in one place so the metadata (and Alembic) sees the whole schema."""

from app.accounts.models import User
from app.audit.models import AuditEvent
from app.core.db import Base
from app.tenancy.models import Tenant

__all__ = ["AuditEvent", "Base", "Tenant", "User"]
