"""What the import API and pages share: a job queued by a request, and the one credentials download."""

from __future__ import annotations

from functools import partial

from fastapi import BackgroundTasks, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.deps import client_address
from app.core.settings import Settings
from app.core.web import attachment
from app.imports import credentials, jobs
from app.imports.deps import import_options, job_runner
from app.tenancy.models import TenantContext


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
