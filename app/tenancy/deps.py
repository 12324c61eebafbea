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
    slug = service.slug_from_host(request.headers.get("host"), settings.base_domain)
    found = None if slug is None else request.app.state.tenant_cache.lookup(session, slug)
    if found is None:
        raise NotFound(N_("There is no portal at this address."), code="unknown_tenant")
    context, national_id = found
    bind_tenant(session, context.id, national_tenant_id=national_id)
    request.state.tenant = context
    return context


CurrentTenant = Annotated[TenantContext, Depends(get_tenant)]
