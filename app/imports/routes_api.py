"""Accounts import API: upload (dry run or commit), poll a background job, take the credentials once."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from app.accounts.constants import ADMIN_ROLES
from app.accounts.deps import ApiAdmin
from app.core.bodylimit import accepts_upload
from app.core.db import write_from_here
from app.core.deps import AppSettings, DbSession, client_address, manual_write
from app.core.spreadsheets import estimate_rows
from app.core.web import api_language, url_path
from app.imports import jobs, service
from app.imports.deps import import_options, read_upload
from app.imports.presenters import credentials_download, start_job
from app.imports.schemas import ImportResultRead, JobRead
from app.tenancy.deps import CurrentTenant

router = APIRouter(prefix="/api/v1", tags=["imports"])


def result_read(request: Request, result: dict[str, Any]) -> ImportResultRead:
    """An import's result, with the one-time link to its credentials when it created accounts."""
    batch_id = result.get("credentials_batch_id")
    url = url_path(request, "api:users_import_credentials", batch_id=batch_id) if batch_id else None
    return ImportResultRead(**result, credentials_url=url)


@router.post(
    "/users/import",
    response_model=ImportResultRead,
    name="api:users_import",
    responses={202: {"model": JobRead, "description": "A large file: poll the job at `Location`."}},
)
@accepts_upload("import_max_upload_mb", ADMIN_ROLES)
@manual_write  # the file is read before the write lock is taken, and a dry run never takes it
def import_users(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    admin: ApiAdmin,
    settings: AppSettings,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="CSV (UTF-8/UTF-16) or XLSX, headers as in SPEC §5")],
    dry_run: Annotated[bool, Form()] = True,
) -> Response | ImportResultRead:
    """Import accounts. `dry_run=true` (the default) previews every row and writes nothing.

    Files over IMPORT_ASYNC_THRESHOLD_ROWS rows answer 202 with a `Location` to poll."""
    data = read_upload(file, settings)
    lang = api_language(request)
    options = import_options(settings, preview=False, admin=admin)
    rows = estimate_rows(data, options.table)
    if rows > settings.import_async_threshold_rows:
        write_from_here(session)
        job = jobs.create_job(
            session, data=data, filename=file.filename or "", lang=lang, actor_id=admin.id, total_rows=rows
        )
        job.dry_run = dry_run
        start_job(
            request,
            background,
            settings,
            tenant_id=tenant.id,
            admin=admin,
            job_id=job.id,
            commit=not dry_run,
        )
        location = url_path(request, "api:users_import_job", job_id=job.id)
        body = JobRead(id=job.id, status="running", progress=0, dry_run=dry_run, total_rows=rows).model_dump()
        return JSONResponse(body, status_code=202, headers={"Location": location}, background=background)
    parsed = service.parse_accounts(session, data, lang=lang, dry_run=dry_run, options=options)
    if not dry_run:
        write_from_here(session)
    outcome = service.finish_import(
        session,
        parsed,
        tenant_id=tenant.id,
        options=options,
        actor_id=admin.id,
        client_address=client_address(request),
    )
    return result_read(request, outcome.as_dict())


@router.get("/users/import/jobs/{job_id}", response_model=JobRead, name="api:users_import_job")
def import_job(request: Request, job_id: int, session: DbSession, admin: ApiAdmin) -> JobRead:
    state = jobs.job_state(session, jobs.get_job(session, job_id))
    result = state.pop("result")
    return JobRead(**state, result=result_read(request, result) if result else None)


@router.post("/users/import/credentials/{batch_id}", name="api:users_import_credentials")
def take_credentials(
    request: Request,
    batch_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    admin: ApiAdmin,
    settings: AppSettings,
    format: Annotated[str, Query(pattern="^(xlsx|pdf|zip)$")] = "zip",
) -> Response:
    """Download the new accounts' one-time passwords — once: the stored copy is erased by this call."""
    return credentials_download(
        request, session, tenant, admin, settings, batch_id=batch_id, fmt=format, lang=api_language(request)
    )
