"""Resolve the tenant from the Host header and bind it to the request's session."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.deps import AppSettings, DbSession
from app.core.errors import N_, NotFound
from app.tenancy import service
from app.tenancy.models import TenantContext
from app.tenancy.scoping import bind_tenant


def get_tenant(request: Request, session: DbSession, settings: AppSettings) -> TenantContext:
    tenant = service.resolve_host(session, request.headers.get("host"), settings.base_domain)
    if tenant is None:
        raise NotFound(N_("There is no portal at this address."), code="unknown_tenant")
    bind_tenant(session, tenant.id, national_tenant_id=service.national_tenant_id(session))
    context = TenantContext.of(tenant)
    request.state.tenant = context
    return context


CurrentTenant = Annotated[TenantContext, Depends(get_tenant)]
