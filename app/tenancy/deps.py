"""Resolve the tenant from the Host header and bind it to the request's session."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.deps import DbSession
from app.core.errors import N_, NotFound
from app.tenancy import service
from app.tenancy.models import TenantContext
from app.tenancy.scoping import bind_tenant

T = TypeVar("T")


async def request_portal(
    request: Request, session: Session | None = None
) -> tuple[TenantContext, int | None]:
    """The portal the request's Host names and the national portal's id; `NotFound` for no portal.

    Async: a cached portal costs no thread hop; only a cache miss reads the database, in a worker thread
    (through `session`, or a short session of its own: the learning path's handlers hold none).
    """
    state = request.app.state
    settings = state.settings
    host = request.headers.get("host")
    slug = service.resolve_slug(host, settings)
    cache = state.tenant_cache
    found = None if slug is None else cache.peek(slug)
    if found is None and slug is not None:
        found = await _with_session(request, session, lambda s: cache.lookup(s, slug))
    if found is None:
        # The 404 page (templates/error.html) lists the portals (development) or links to the national one.
        request.state.unknown_portal = await _directory(request, session)
        raise NotFound(N_("There is no portal at this address."), code="unknown_tenant")
    context = found[0]
    request.state.tenant = context
    if context.is_national and not settings.is_production and service.is_ip_host(host):
        # Development on 127.0.0.1 or a LAN address: a banner (templates/tenancy/_portal_banner.html) links
        # to the province portals at addresses this browser can open.
        request.state.portal_banner = await _directory(request, session, provinces_only=True)
    return found


async def get_tenant(request: Request, session: DbSession) -> TenantContext:
    context, national_id = await request_portal(request, session)
    bind_tenant(session, context.id, national_tenant_id=national_id)
    return context


async def _with_session(request: Request, session: Session | None, fn: Callable[[Session], T]) -> T:
    def call() -> T:
        if session is not None:
            return fn(session)
        with request.app.state.session_factory() as own:
            return fn(own)

    return await run_in_threadpool(call)


async def _directory(
    request: Request, session: Session | None, *, provinces_only: bool = False
) -> service.PortalDirectory:
    settings = request.app.state.settings
    addresses = service.addresses_seen_from(request.headers.get("host"), request.url.scheme, settings)
    # Production names no portal to a stranger: only the national portal's canonical address.
    portals: list[Any] = (
        []
        if settings.is_production
        else await _with_session(request, session, request.app.state.tenant_cache.portals)
    )
    return service.portal_directory(portals, addresses, provinces_only=provinces_only)


CurrentTenant = Annotated[TenantContext, Depends(get_tenant)]
