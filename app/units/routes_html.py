"""Admin pages for units: the tree (a level at a time, with search), import from a file (preview, then
import), and the official communes since 1 July 2025 (preview, then load)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Form, Query, Request, UploadFile
from fastapi.responses import Response

from app.accounts.constants import ADMIN_ROLES
from app.accounts.deps import PageAdmin
from app.audit import service as audit
from app.core.bodylimit import accepts_upload
from app.core.db import write_from_here
from app.core.deps import AppSettings, DbSession, client_address, manual_write
from app.core.errors import DomainError
from app.core.numbers import MAX_ID
from app.core.spreadsheets import TableLimits, load_table
from app.core.web import error_text, html_router, render, request_language
from app.imports.deps import read_upload
from app.imports.outcome import ImportOutcome
from app.tenancy.deps import CurrentTenant
from app.units import official, service
from app.units.constants import UNIT_KINDS

router = html_router(prefix="/admin")

# Units per level shown at once (the next ones load on demand): the page stays small at 10,000 units.
LEVEL_SIZE = 100
SEARCH_SIZE = 50
_VARY = {"Vary": "HX-Request"}  # the same address answers a page and, for htmx, a piece of one


def _page(
    request: Request,
    session: Any,
    tenant: Any,
    *,
    parent: int | None = None,
    q: str = "",
    offset: int = 0,
    status_code: int = 200,
    **extra: Any,
) -> Response:
    context: dict[str, Any] = {
        "kinds": UNIT_KINDS,
        "q": q,
        "official_source": official.REGISTER_SOURCE,
        "official_available": tenant.slug in official.provinces(),
        **extra,
    }
    if q:
        context["found"], context["found_total"] = service.search_tree(session, q, limit=SEARCH_SIZE)
    else:
        context["level"] = service.tree_level(session, parent, offset=offset, limit=LEVEL_SIZE)
    return render(request, "units/tree.html", context, status_code=status_code, headers=_VARY)


@router.get("/units", name="units:tree")
def unit_tree(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    admin: PageAdmin,
    q: Annotated[str, Query(max_length=100)] = "",
    parent: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    """The tree a level at a time (`parent`: one unit's children, `offset`: the next ones), or the units whose
    name or code holds `q`. htmx asks for the level alone, and swaps it in under the unit it opens."""
    if request.headers.get("hx-request") and not q.strip():
        level = service.tree_level(session, parent, offset=offset, limit=LEVEL_SIZE)
        return render(request, "units/_nodes.html", {"level": level, "kinds": UNIT_KINDS}, headers=_VARY)
    return _page(request, session, tenant, parent=parent, q=q.strip(), offset=offset)


def _audit_import(request: Request, session: Any, admin: Any, outcome: ImportOutcome, event: str) -> None:
    if not outcome.dry_run and (outcome.created or outcome.updated):
        audit.record(
            session,
            event,
            actor_id=admin.id,
            client_address=client_address(request),
            detail={"created": outcome.created, "updated": outcome.updated},
        )


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
        _audit_import(request, session, admin, outcome, "admin.units_imported")
    except DomainError as exc:
        error = error_text(request, exc)
    return _page(request, session, tenant, status_code=422 if error else 200, outcome=outcome, error=error)


@router.post("/units/official", name="units:official")
@manual_write  # a preview never takes the write lock
def unit_official(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    admin: PageAdmin,
    action: Annotated[str, Form(pattern="^(preview|import)$")] = "preview",
) -> Response:
    """The province's communes, wards and special zones from the official register shipped with OneTouch."""
    outcome, error = None, None
    try:
        if action == "import":
            write_from_here(session)
        outcome = official.load_official_communes(
            session, tenant.slug, lang=request_language(request), dry_run=action != "import"
        )
        _audit_import(request, session, admin, outcome, "admin.units_official_loaded")
    except DomainError as exc:
        error = error_text(request, exc)
    return _page(
        request,
        session,
        tenant,
        status_code=422 if error else 200,
        official_outcome=outcome,
        official_error=error,
    )
