"""Import jobs: an uploaded file previewed and committed, in the request (small files) or a background thread.

Job state lives in the `import_job` table, so whichever worker receives the poll can answer it. A thread
opens its own sessions bound to the job's tenant: one for the work, short ones for progress. The commit is
one transaction that also records the job's result: a job is done with all its rows, or failed with none.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.core import i18n
from app.core.db import begin_write, utcnow
from app.core.errors import N_, DomainError, NotFound
from app.imports import service
from app.imports.models import DONE, FAILED, PENDING, RUNNING, ImportJob
from app.tenancy.scoping import bind_tenant

log = logging.getLogger("onetouch.imports")

# A running job whose state has not moved for this long died with its worker.
STALE_AFTER = dt.timedelta(minutes=15)

JobRunner = Callable[[Callable[[], None]], None]


def thread_runner(work: Callable[[], None]) -> None:
    """Run a job in a daemon thread of this worker (the default)."""
    threading.Thread(target=work, name="onetouch-import", daemon=True).start()


def inline_runner(work: Callable[[], None]) -> None:
    """Run a job at once in the caller's thread (tests, the CLI)."""
    work()


def create_job(
    session: Session, *, data: bytes, filename: str, lang: str, actor_id: int | None, total_rows: int
) -> ImportJob:
    job = ImportJob(
        kind="users",
        filename=filename[:255],
        source=data,
        dry_run=True,
        status=PENDING,
        lang=lang,
        created_by=actor_id,
        total_rows=total_rows,
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> ImportJob:
    job = session.get(ImportJob, job_id)
    if job is None:
        raise NotFound(N_("This import does not exist."))
    return job


def recent_jobs(session: Session, limit: int = 20) -> list[ImportJob]:
    return list(session.scalars(select(ImportJob).order_by(ImportJob.id.desc()).limit(limit)))


def purge_sources(session: Session, keep_hours: int) -> None:
    """Erase uploaded files (personal data) of imports older than the keep window."""
    session.execute(
        update(ImportJob)
        .where(
            ImportJob.source.is_not(None), ImportJob.created_at <= utcnow() - dt.timedelta(hours=keep_hours)
        )
        .values(source=None)
        .execution_options(synchronize_session=False)
    )


def job_source(session: Session, job: ImportJob) -> bytes | None:
    return session.scalar(select(ImportJob.source).where(ImportJob.id == job.id))


def job_result(session: Session, job: ImportJob) -> dict[str, Any] | None:
    return session.scalar(select(ImportJob.result).where(ImportJob.id == job.id))


def job_status(job: ImportJob) -> str:
    if job.status in (PENDING, RUNNING) and job.updated_at < utcnow() - STALE_AFTER:
        return FAILED
    return job.status


def job_state(session: Session, job: ImportJob) -> dict[str, Any]:
    """The polled shape: {"id", "status": "running"|"done"|"failed", "progress", "result", …}."""
    status = job_status(job)
    error = job.error
    if status == FAILED and job.status != FAILED:
        error = i18n.translate(
            job.lang, N_("The import was interrupted. Nothing was changed; please try again.")
        )
    return {
        "id": job.id,
        "status": "running" if status in (PENDING, RUNNING) else status,
        "progress": 100 if status == DONE else job.progress,
        "dry_run": job.dry_run,
        "total_rows": job.total_rows,
        "result": job_result(session, job) if status == DONE else None,
        "error": error,
        "credentials_batch_id": job.credentials_batch_id,
    }


def _set_progress(factory: sessionmaker[Session], job_id: int, tenant_id: int, percent: int) -> None:
    with factory() as s:
        bind_tenant(s, tenant_id)
        s.execute(
            update(ImportJob)
            .where(ImportJob.id == job_id)
            .values(progress=percent, status=RUNNING, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        s.commit()


def execute_job(
    factory: sessionmaker[Session],
    *,
    tenant_id: int,
    job_id: int,
    commit: bool,
    options: service.ImportOptions,
    actor_id: int | None,
    client_address: str | None,
) -> None:
    """Preview (commit=False) or apply (commit=True) a job's file, in sessions of its own."""
    try:
        _set_progress(factory, job_id, tenant_id, 1)
        with factory() as session:
            bind_tenant(session, tenant_id)
            job = get_job(session, job_id)
            data = job_source(session, job)
            lang, total = job.lang, max(job.total_rows, 1)
            if data is None:
                raise DomainError(N_("The uploaded file was erased. Please upload it again."))

            def progress(done: int) -> None:
                _set_progress(factory, job_id, tenant_id, min(85, 1 + done * 84 // total))

            parsed = service.parse_accounts(
                session, data, lang=lang, dry_run=not commit, options=options, progress=progress
            )
            del data
            session.rollback()  # end the read: the writing transaction below starts afresh
            _set_progress(factory, job_id, tenant_id, 90)
            begin_write(session)
            outcome = service.finish_import(
                session,
                parsed,
                tenant_id=tenant_id,
                options=options,
                actor_id=actor_id,
                client_address=client_address,
            )
            # The result is written in the import's own transaction: done with all rows, or nothing.
            store_outcome(get_job(session, job_id), outcome, commit=commit)
            session.commit()
    except DomainError as exc:
        # The file was refused (too many rows, not UTF-8…): the admin reads why on the job's page. Not a
        # fault of ours, so no traceback, and the message with its figures filled in.
        log.info("import job %s refused: %s", job_id, i18n.translate("en", exc.message, **exc.params))
        _fail(factory, job_id, tenant_id, exc)
    except Exception as exc:
        log.exception("import job %s failed", job_id)
        _fail(factory, job_id, tenant_id, exc)


def _fail(factory: sessionmaker[Session], job_id: int, tenant_id: int, exc: Exception) -> None:
    with factory() as s:
        bind_tenant(s, tenant_id)
        job = s.get(ImportJob, job_id)
        if job is None:
            return
        if isinstance(exc, DomainError):
            message = i18n.translate(job.lang, exc.message, **exc.params)
        else:
            message = i18n.translate(
                job.lang, N_("The import failed. Nothing was changed; please try again.")
            )
        job.status, job.error = FAILED, message[:500]
        job.finished_at = job.updated_at = utcnow()
        s.commit()


def store_outcome(job: ImportJob, outcome: service.ImportOutcome, *, commit: bool) -> None:
    job.result = outcome.as_dict()
    job.status, job.progress, job.error = DONE, 100, None
    job.dry_run = not commit
    job.total_rows = outcome.total
    job.finished_at = job.updated_at = utcnow()
    if commit:
        job.committed = True
        job.source = None
        job.credentials_batch_id = outcome.credentials_batch_id


def error_report(session: Session, job: ImportJob) -> tuple[list[str], list[list[str]]]:
    """The rows with errors, as uploaded plus a column of messages, so the admin can fix them and re-upload.
    Once the file has been erased, just (row, column, message)."""
    from app.core.spreadsheets import read_table

    result = job_result(session, job) or {}
    errors: dict[int, list[str]] = {}
    for e in result.get("errors", []):
        errors.setdefault(e["row"], []).append(f"{e['column']}: {e['message']}")
    errors_label = i18n.translate(job.lang, N_("Errors"))
    row_label = i18n.translate(job.lang, N_("Row"))
    data = job_source(session, job)
    if data is None:
        flat = [[str(e["row"]), e["column"], e["message"]] for e in result.get("errors", [])]
        return [row_label, i18n.translate(job.lang, N_("Column")), errors_label], flat
    table = read_table(data)
    rows = [
        [*record, str(number), "; ".join(errors[number])] for number, record in table.rows if number in errors
    ]
    return [*table.headers, row_label, errors_label], rows
