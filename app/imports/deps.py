"""Dependencies of the import routes: the import options from settings, and the uploaded file's bytes."""

from __future__ import annotations

from fastapi import Request, UploadFile

from app.accounts import service as accounts_service
from app.accounts.models import User
from app.core.errors import N_, Invalid
from app.core.settings import Settings
from app.core.spreadsheets import TableLimits
from app.imports.jobs import JobRunner
from app.imports.service import ImportOptions


def import_options(settings: Settings, *, preview: bool = True, admin: User | None = None) -> ImportOptions:
    """The import's settings; with `admin`, it changes no account whose rank is above theirs."""
    return ImportOptions(
        secret_key=settings.secret_key,
        password_min_length=settings.password_min_length,
        initial_password_days=settings.initial_password_days,
        credentials_hours=settings.credentials_download_hours,
        preview_rows=settings.import_preview_rows if preview else None,
        max_rows=settings.import_max_rows,
        max_rank=None if admin is None else accounts_service.rank_of(admin.roles),
        table=TableLimits.of(settings),
    )


def read_upload(upload: UploadFile | None, settings: Settings) -> bytes:
    """The uploaded file's bytes, refusing a missing or too large file before reading it all."""
    if upload is None or not upload.filename:
        raise Invalid(N_("Please choose a file to upload."), code="file")
    limit = settings.import_max_upload_mb * 1024 * 1024
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise Invalid(
            N_("The file is larger than {n} MB."), code="file_too_large", n=settings.import_max_upload_mb
        )
    return data


def job_runner(request: Request) -> JobRunner:
    return request.app.state.job_runner
