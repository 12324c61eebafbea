"""Resolve the tenant from the Host header and bind it to the request's session."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from app.core.deps import AppSettings, DbSession
from app.core.errors import N_, NotFound
from app.tenancy import service
from app.tenancy.models import TenantContext
from app.tenancy.scoping import bind_tenant


async def get_tenant(request: Request, session: DbSession, settings: AppSettings) -> TenantContext:
    # Async: a cached tenant costs no thread hop; only a cache miss reads the database, in a worker thread.
    slug = service.slug_from_host(request.headers.get("host"), settings.base_domain)
    cache = request.app.state.tenant_cache
    found = None if slug is None else cache.peek(slug)
    if found is None and slug is not None:
        found = await run_in_threadpool(cache.lookup, session, slug)
    if found is None:
        raise NotFound(N_("There is no portal at this address."), code="unknown_tenant")
    context, national_id = found
    bind_tenant(session, context.id, national_tenant_id=national_id)
    request.state.tenant = context
    return context


CurrentTenant = Annotated[TenantContext, Depends(get_tenant)]
