"""Admin pages for units: the tree, and import from a file (preview, then import)."""

from __future__ import annotations

from typing import Annotated

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import Response

from app.accounts.constants import ADMIN_ROLES
from app.accounts.deps import PageAdmin
from app.audit import service as audit
from app.core.bodylimit import accepts_upload
from app.core.db import write_from_here
from app.core.deps import AppSettings, DbSession, client_address, manual_write
from app.core.errors import DomainError
from app.core.spreadsheets import TableLimits, load_table
from app.core.web import error_text, html_router, render, request_language
from app.imports.deps import read_upload
from app.tenancy.deps import CurrentTenant
from app.units import service
from app.units.constants import UNIT_KINDS

router = html_router(prefix="/admin")


@router.get("/units", name="units:tree")
def unit_tree(request: Request, session: DbSession, tenant: CurrentTenant, admin: PageAdmin) -> Response:
    return render(request, "units/tree.html", {"roots": service.unit_tree(session), "kinds": UNIT_KINDS})


@router.post("/units/import", name="units:import")
@accepts_upload("import_max_upload_mb", ADMIN_ROLES)
@manual_write  # the file is read before the write lock is taken, and a preview never takes it
def unit_import(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    admin: PageAdmin,
    settings: AppSettings,
    file: Annotated[UploadFile | None, File()] = None,
    action: Annotated[str, Form(pattern="^(preview|import)$")] = "preview",
) -> Response:
    lang = request_language(request)
    outcome, error = None, None
    try:
        table = load_table(read_upload(file, settings), TableLimits.of(settings))
        if action == "import":
            write_from_here(session)
        outcome = service.import_units(session, table, lang=lang, dry_run=action != "import")
        if action == "import" and (outcome.created or outcome.updated):
            audit.record(
                session,
                "admin.units_imported",
                actor_id=admin.id,
                client_address=client_address(request),
                detail={"created": outcome.created, "updated": outcome.updated},
            )
    except DomainError as exc:
        error = error_text(request, exc)
    return render(
        request,
        "units/tree.html",
        {"roots": service.unit_tree(session), "kinds": UNIT_KINDS, "outcome": outcome, "error": error},
        status_code=422 if error else 200,
    )
