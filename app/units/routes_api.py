"""Units API: list the tenant's units and import them from a file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile

from app.accounts.constants import ADMIN_ROLES
from app.accounts.deps import ApiAdmin, ApiStaff
from app.audit import service as audit
from app.core.bodylimit import accepts_upload
from app.core.db import write_from_here
from app.core.deps import AppSettings, DbSession, client_address, manual_write
from app.core.numbers import MAX_ID
from app.core.spreadsheets import TableLimits, load_table
from app.core.web import api_language
from app.imports.deps import read_upload
from app.imports.schemas import ImportResultRead
from app.tenancy.deps import CurrentTenant
from app.units import service
from app.units.schemas import UnitList, UnitRead

router = APIRouter(prefix="/api/v1", tags=["units"])


@router.get("/units", response_model=UnitList, name="api:units")
def list_units(
    session: DbSession,
    tenant: CurrentTenant,
    user: ApiStaff,
    q: str | None = None,
    kind: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> UnitList:
    """The tenant's units in tree order (by materialised path)."""
    units, total = service.list_units(session, q=q, kind=kind, limit=limit, offset=offset)
    return UnitList(items=[UnitRead.model_validate(u) for u in units], total=total)


@router.get("/units/{unit_id}", response_model=UnitRead, name="api:unit")
def get_unit(unit_id: int, session: DbSession, tenant: CurrentTenant, user: ApiStaff) -> UnitRead:
    return UnitRead.model_validate(service.get_unit(session, unit_id))


@router.post("/units/import", response_model=ImportResultRead, name="api:units_import")
@accepts_upload("import_max_upload_mb", ADMIN_ROLES)
@manual_write  # the file is read before the write lock is taken, and a dry run never takes it
def import_units(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    admin: ApiAdmin,
    settings: AppSettings,
    file: Annotated[
        UploadFile, File(description="CSV or XLSX with Mã/code, Tên/name, Loại/kind, Mã cấp trên/parent")
    ],
    dry_run: Annotated[bool, Form()] = True,
) -> ImportResultRead:
    """Create or update units; `dry_run=true` (the default) only previews."""
    table = load_table(read_upload(file, settings), TableLimits.of(settings))
    if not dry_run:
        write_from_here(session)
    outcome = service.import_units(session, table, lang=api_language(request), dry_run=dry_run)
    if not dry_run and (outcome.created or outcome.updated):
        audit.record(
            session,
            "admin.units_imported",
            actor_id=admin.id,
            client_address=client_address(request),
            detail={"created": outcome.created, "updated": outcome.updated},
        )
    return ImportResultRead(**outcome.as_dict())
