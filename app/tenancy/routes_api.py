"""Tenant administration API for the national admin, on the national portal only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.accounts.deps import ApiNationalAdmin
from app.audit import service as audit
from app.core.deps import DbSession, client_address
from app.core.errors import N_, Forbidden
from app.core.numbers import MAX_ID
from app.tenancy import service
from app.tenancy.deps import CurrentTenant
from app.tenancy.models import TenantContext
from app.tenancy.schemas import TenantCreate, TenantList, TenantRead, TenantUpdate

router = APIRouter(prefix="/api/v1/tenants", tags=["tenants"])


def _national_only(tenant: TenantContext) -> None:
    if not tenant.is_national:
        raise Forbidden(N_("Portals are managed from the national portal."))


@router.get("", response_model=TenantList, name="api:tenants")
def list_tenants(
    session: DbSession,
    tenant: CurrentTenant,
    admin: ApiNationalAdmin,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> TenantList:
    _national_only(tenant)
    items, total = service.list_tenants(session, limit=limit, offset=offset)
    return TenantList(items=[TenantRead.model_validate(t) for t in items], total=total)


@router.post("", response_model=TenantRead, status_code=201, name="api:tenants_create")
def create_tenant(
    request: Request, body: TenantCreate, session: DbSession, tenant: CurrentTenant, admin: ApiNationalAdmin
) -> TenantRead:
    _national_only(tenant)
    created = service.create_tenant(session, **body.model_dump())
    request.app.state.tenant_cache.clear()
    audit.record(
        session,
        "national.tenant_created",
        actor_id=admin.id,
        target=f"tenant:{created.slug}",
        client_address=client_address(request),
    )
    return TenantRead.model_validate(created)


@router.patch("/{slug}", response_model=TenantRead, name="api:tenants_update")
def update_tenant(
    request: Request,
    slug: str,
    body: TenantUpdate,
    session: DbSession,
    tenant: CurrentTenant,
    admin: ApiNationalAdmin,
) -> TenantRead:
    _national_only(tenant)
    updated = service.update_tenant(session, slug, **body.model_dump(exclude_unset=True))
    request.app.state.tenant_cache.clear()
    audit.record(
        session,
        "national.tenant_updated",
        actor_id=admin.id,
        target=f"tenant:{slug}",
        client_address=client_address(request),
        detail=body.model_dump(exclude_unset=True),
    )
    return TenantRead.model_validate(updated)
