"""API shapes of imports (SPEC §9): the import result and the polled job."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class RowErrorRead(BaseModel):
    row: int
    column: str
    message: str


class ImportResultRead(BaseModel):
    dry_run: bool
    total: int
    created: int
    updated: int
    unchanged: int
    enrolled: int = 0
    error_rows: int
    errors: list[RowErrorRead]
    ignored_columns: list[str] = Field(default_factory=list)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    credentials_batch_id: int | None = None
    credentials_url: str | None = None


class JobRead(BaseModel):
    id: int
    status: str  # running | done | failed
    progress: int
    dry_run: bool
    total_rows: int
    result: ImportResultRead | None = None
    error: str | None = None
    credentials_batch_id: int | None = None
