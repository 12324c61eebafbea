"""Resolve the tenant from the Host header and bind it to the request's session."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.deps import DbSession
from app.core.errors import N_, NotFound
from app.tenancy import service
from app.tenancy.models import TenantContext
from app.tenancy.scoping import bind_tenant


async def request_portal(
    request: Request, session: Session | None = None
) -> tuple[TenantContext, int | None]:
    """The portal the request's Host names and the national portal's id; `NotFound` for no portal.

    Async: a cached portal costs no thread hop; only a cache miss reads the database, in a worker thread
    (with `session`, or a short session of its own).
    """
    state = request.app.state
    slug = service.slug_from_host(request.headers.get("host"), state.settings.base_domain)
    cache = state.tenant_cache
    found = None if slug is None else cache.peek(slug)
    if found is None and slug is not None:
        found = await run_in_threadpool(_lookup, cache, state.session_factory, session, slug)
    if found is None:
        raise NotFound(N_("There is no portal at this address."), code="unknown_tenant")
    request.state.tenant = found[0]
    return found


def _lookup(
    cache: service.TenantCache, session_factory: Any, session: Session | None, slug: str
) -> tuple[TenantContext, int | None] | None:
    if session is not None:
        return cache.lookup(session, slug)
    with session_factory() as own:
        return cache.lookup(own, slug)


async def get_tenant(request: Request, session: DbSession) -> TenantContext:
    context, national_id = await request_portal(request, session)
    bind_tenant(session, context.id, national_tenant_id=national_id)
    return context


CurrentTenant = Annotated[TenantContext, Depends(get_tenant)]
