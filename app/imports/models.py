"""Import jobs (state any worker can answer a poll from) and encrypted, download-once credential batches."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, utcnow
from app.tenancy.models import TenantScoped

PENDING = "pending"
RUNNING = "running"
DONE = "done"
FAILED = "failed"


class ImportJob(TenantScoped, Base):
    """One uploaded file: previewed (dry run), then possibly committed. Runs in the request or a thread."""

    __tablename__ = "import_job"
    __table_args__ = (Index("ix_import_job_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="users")
    filename: Mapped[str] = mapped_column(String(255), default="")
    # The uploaded file, kept until it is committed or expires, so the commit (and the error report)
    # can be produced by any worker. Personal data: erased after commit and after IMPORT_KEEP_HOURS.
    source: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    progress: Mapped[int] = mapped_column(Integer, default=0)  # percent
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    lang: Mapped[str] = mapped_column(String(5), default="vi")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None, deferred=True)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    committed: Mapped[bool] = mapped_column(Boolean, default=False)
    credentials_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("credential_batch.id", ondelete="SET NULL"), default=None
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class CredentialBatch(TenantScoped, Base):
    """The one-time passwords of the accounts one import created, encrypted (Fernet, key derived from
    SECRET_KEY). The payload is erased on the first download or when the download window closes."""

    __tablename__ = "credential_batch"
    __table_args__ = (Index("ix_credential_batch_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    accounts: Mapped[int] = mapped_column(Integer, default=0)
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, default=None, deferred=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    downloaded_at: Mapped[dt.datetime | None] = mapped_column(default=None)
    downloaded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    download_format: Mapped[str | None] = mapped_column(String(8), default=None)
