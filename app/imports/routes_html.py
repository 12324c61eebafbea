"""Admin pages: the administration home, account import (upload → preview → confirm → credentials)."""

from __future__ import annotations

from typing import Annotated

from fastapi import BackgroundTasks, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.accounts.constants import ADMIN_ROLES
from app.accounts.deps import PageAdmin
from app.core import i18n
from app.core.bodylimit import accepts_upload
from app.core.db import write_from_here
from app.core.deps import AppSettings, DbSession, client_address, manual_write
from app.core.errors import N_, Conflict, DomainError
from app.core.spreadsheets import XLSX_MEDIA_TYPE, estimate_rows, write_xlsx
from app.core.web import (
    attachment,
    error_text,
    html_router,
    is_htmx,
    redirect_to,
    render,
    request_language,
)
from app.imports import credentials, jobs, service
from app.imports.deps import import_options, read_upload
from app.imports.models import DONE, ImportJob
from app.imports.presenters import credentials_download, start_job
from app.tenancy.deps import CurrentTenant

router = html_router(prefix="/admin")


@router.get("", name="admin:home")
def admin_home(request: Request, session: DbSession, tenant: CurrentTenant, admin: PageAdmin) -> Response:
    return render(
        request,
        "imports/admin.html",
        {"jobs": jobs.recent_jobs(session, 10), "batches": credentials.pending_batches(session)},
    )


@router.get("/imports/users", name="imports:form")
def import_form(request: Request, session: DbSession, tenant: CurrentTenant, admin: PageAdmin) -> Response:
    return render(request, "imports/upload.html", {"jobs": jobs.recent_jobs(session, 10)})


@router.post("/imports/users", name="imports:upload")
@accepts_upload("import_max_upload_mb", ADMIN_ROLES)
@manual_write  # the file is read (and previewed) before the write lock is taken
def import_upload(
    request: Request,
    session: DbSession,
    tenant: CurrentTenant,
    admin: PageAdmin,
    settings: AppSettings,
    background: BackgroundTasks,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    lang = request_language(request)
    options = import_options(settings, admin=admin)
    try:
        data = read_upload(file, settings)
        rows = estimate_rows(data, options.table)
        filename = (file.filename if file else "") or ""
        if rows > settings.import_async_threshold_rows:
            write_from_here(session)
            jobs.purge_sources(session, settings.import_keep_hours)
            job = jobs.create_job(
                session, data=data, filename=filename, lang=lang, actor_id=admin.id, total_rows=rows
            )
            start_job(
                request,
                background,
                settings,
                tenant_id=tenant.id,
                admin=admin,
                job_id=job.id,
                commit=False,
            )
        else:
            outcome = service.import_accounts(
                session,
                data,
                tenant_id=tenant.id,
                lang=lang,
                dry_run=True,
                options=options,
                actor_id=admin.id,
            )
            write_from_here(session)
            jobs.purge_sources(session, settings.import_keep_hours)
            job = jobs.create_job(
                session, data=data, filename=filename, lang=lang, actor_id=admin.id, total_rows=rows
            )
            jobs.store_outcome(job, outcome, commit=False)
    except DomainError as exc:
        error = error_text(request, exc)
        return render(
            request,
            "imports/upload.html",
            {"jobs": jobs.recent_jobs(session, 10), "error": error},
            status_code=exc.status_code,
        )
    response = redirect_to(request, "imports:job", job_id=job.id)
    response.background = background
    return response


def _job_context(session: DbSession, job_id: int) -> dict[str, object]:
    job = jobs.get_job(session, job_id)
    state = jobs.job_state(session, job)
    batch = credentials.get_batch(session, job.credentials_batch_id) if job.credentials_batch_id else None
    has_source = jobs.job_source(session, job) is not None
    return {"job": job, "state": state, "batch": batch, "has_source": has_source}


@router.get("/imports/{job_id}", name="imports:job")
def import_job(
    request: Request, job_id: int, session: DbSession, tenant: CurrentTenant, admin: PageAdmin
) -> Response:
    return render(request, "imports/job.html", _job_context(session, job_id))


@router.get("/imports/{job_id}/progress", name="imports:progress")
def import_progress(
    request: Request, job_id: int, session: DbSession, tenant: CurrentTenant, admin: PageAdmin
) -> Response:
    """The polled progress bar; once the job has finished, htmx is sent to the full page."""
    context = _job_context(session, job_id)
    if context["state"]["status"] != "running" and is_htmx(request):  # type: ignore[index]
        return redirect_to(request, "imports:job", job_id=job_id)
    return render(request, "imports/_progress.html", context)


def _committable(job: ImportJob) -> None:
    if job.committed or job.status not in (DONE, "failed"):
        raise Conflict(N_("This import has already been applied or is still running."), code="job_state")


@router.post("/imports/{job_id}/commit", name="imports:commit")
@manual_write  # the file is read again before the write lock is taken
def import_commit(
    request: Request,
    job_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    admin: PageAdmin,
    settings: AppSettings,
    background: BackgroundTasks,
) -> Response:
    job = jobs.get_job(session, job_id)
    _committable(job)
    data = jobs.job_source(session, job)
    if data is None:
        raise Conflict(N_("The uploaded file was erased. Please upload it again."), code="job_source")
    options = import_options(settings, admin=admin)
    parsed = None
    if job.total_rows <= settings.import_async_threshold_rows:
        parsed = service.parse_accounts(session, data, lang=job.lang, dry_run=False, options=options)
    write_from_here(session)
    session.refresh(job)
    _committable(job)  # a second click may have applied it while this one was reading
    if parsed is None:
        # The job now saves the accounts: its state (and the progress bar's label) says so while it runs.
        job.status, job.progress, job.error, job.dry_run = "pending", 0, None, False
        job.updated_at = jobs.utcnow()
        start_job(request, background, settings, tenant_id=tenant.id, admin=admin, job_id=job.id, commit=True)
    else:
        outcome = service.finish_import(
            session,
            parsed,
            tenant_id=tenant.id,
            options=options,
            actor_id=admin.id,
            client_address=client_address(request),
        )
        jobs.store_outcome(job, outcome, commit=True)
    response = redirect_to(request, "imports:job", job_id=job.id)
    response.background = background
    return response


@router.get("/imports/{job_id}/errors.xlsx", name="imports:errors")
def import_errors(
    request: Request, job_id: int, session: DbSession, tenant: CurrentTenant, admin: PageAdmin
) -> Response:
    headers, rows = jobs.error_report(session, jobs.get_job(session, job_id))
    content = write_xlsx(headers, rows, title=i18n.translate(request_language(request), N_("Errors")))
    return attachment(content, f"loi-nhap-{job_id}.xlsx", XLSX_MEDIA_TYPE, cache="no-store")


@router.post("/credentials/{batch_id}", name="imports:credentials")
def take_credentials(
    request: Request,
    batch_id: int,
    session: DbSession,
    tenant: CurrentTenant,
    admin: PageAdmin,
    settings: AppSettings,
    format: Annotated[str, Form(pattern="^(xlsx|pdf|zip)$")] = "zip",
) -> Response:
    """The one download of a batch's sign-in details (a POST: a prefetch must never consume it)."""
    return credentials_download(
        request,
        session,
        tenant,
        admin,
        settings,
        batch_id=batch_id,
        fmt=format,
        lang=request_language(request),
    )
