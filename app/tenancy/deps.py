"""Resolve the tenant from the Host header and bind it to the request's session."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.deps import AppSettings, DbSession
from app.core.errors import N_, NotFound
from app.core.settings import Settings
from app.tenancy import service
from app.tenancy.models import TenantContext
from app.tenancy.scoping import bind_tenant


async def get_tenant(request: Request, session: DbSession, settings: AppSettings) -> TenantContext:
    # Async: a cached tenant costs no thread hop; only a cache miss reads the database, in a worker thread.
    host = request.headers.get("host")
    slug = service.resolve_slug(host, settings)
    cache = request.app.state.tenant_cache
    found = None if slug is None else cache.peek(slug)
    if found is None and slug is not None:
        found = await run_in_threadpool(cache.lookup, session, slug)
    if found is None:
        # The 404 page (templates/error.html) lists the portals (development) or links to the national one.
        request.state.unknown_portal = await _directory(request, session, settings)
        raise NotFound(N_("There is no portal at this address."), code="unknown_tenant")
    context, national_id = found
    bind_tenant(session, context.id, national_tenant_id=national_id)
    request.state.tenant = context
    if context.is_national and not settings.is_production and service.is_ip_host(host):
        # Development on 127.0.0.1 or a LAN address: a banner (templates/tenancy/_portal_banner.html) links
        # to the province portals at addresses this browser can open.
        request.state.portal_banner = await _directory(request, session, settings, provinces_only=True)
    return context


async def _directory(
    request: Request, session: Session, settings: Settings, *, provinces_only: bool = False
) -> service.PortalDirectory:
    addresses = service.addresses_seen_from(request.headers.get("host"), request.url.scheme, settings)
    # Production names no portal to a stranger: only the national portal's canonical address.
    portals = (
        []
        if settings.is_production
        else await run_in_threadpool(request.app.state.tenant_cache.portals, session)
    )
    return service.portal_directory(portals, addresses, provinces_only=provinces_only)


CurrentTenant = Annotated[TenantContext, Depends(get_tenant)]
