"""Accounts import API: upload (dry run or commit), poll a background job, take the credentials once."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from app.accounts.constants import ADMIN_ROLES
from app.accounts.deps import ApiAdmin
from app.accounts.models import User
from app.core.bodylimit import accepts_upload
from app.core.db import write_from_here
from app.core.deps import AppSettings, DbSession, client_address, manual_write
from app.core.settings import Settings
from app.core.spreadsheets import estimate_rows
from app.core.web import attachment
from app.imports import credentials, jobs, service
from app.imports.deps import api_lang, import_options, job_runner, read_upload
from app.imports.schemas import ImportResultRead, JobRead
from app.tenancy.deps import CurrentTenant
from app.tenancy.models import TenantContext

router = APIRouter(prefix="/api/v1", tags=["imports"])


def start_job(
    request: Request,
    background: BackgroundTasks,
    settings: Settings,
    *,
    tenant_id: int,
    admin: User,
    job_id: int,
    commit: bool,
) -> None:
    """Queue a job to run after the response's transaction has committed its row (thread; inline in tests)."""
    work = partial(
        jobs.execute_job,
        request.app.state.session_factory,
        tenant_id=tenant_id,
        job_id=job_id,
        commit=commit,
        options=import_options(settings, admin=admin),
        actor_id=admin.id,
        client_address=client_address(request),
    )
    background.add_task(job_runner(request), work)


def credentials_download(
    request: Request,
    session: Session,
    tenant: TenantContext,
    admin: User,
    settings: Settings,
    *,
    batch_id: int,
    fmt: str,
    lang: str,
) -> Response:
    """The one download of a batch's sign-in details, as a file (API and page)."""
    creds = credentials.take_batch(
        session,
        batch_id,
        secret_key=settings.secret_key,
        actor=admin,
        fmt=fmt,
        client_address=client_address(request),
    )
    content, media_type, filename = credentials.render_credentials(
        creds,
        fmt,
        lang=lang,
        portal_url=credentials.portal_url(
            tenant.slug, settings.base_domain, production=settings.is_production
        ),
        portal_name=tenant.display_name,
    )
    return attachment(content, filename, media_type, cache="no-store")


def credentials_url(batch_id: int | None) -> str | None:
    return f"/api/v1/users/import/credentials/{batch_id}" if batch_id else None


def result_read(result: dict[str, Any]) -> ImportResultRead:
    return ImportResultRead(**result, credentials_url=credentials_url(result.get("credentials_batch_id")))


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
    lang = api_lang(request)
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
        location = f"/api/v1/users/import/jobs/{job.id}"
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
    return result_read(outcome.as_dict())


@router.get("/users/import/jobs/{job_id}", response_model=JobRead, name="api:users_import_job")
def import_job(job_id: int, session: DbSession, admin: ApiAdmin) -> JobRead:
    state = jobs.job_state(session, jobs.get_job(session, job_id))
    result = state.pop("result")
    return JobRead(**state, result=result_read(result) if result else None)


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
        request, session, tenant, admin, settings, batch_id=batch_id, fmt=format, lang=api_lang(request)
    )
