"""The result of an import (accounts or units): counts, per-row outcomes and row errors (SPEC §9 shape)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.core import i18n

CREATE = "create"
UPDATE = "update"
UNCHANGED = "unchanged"
ERROR = "error"


@dataclass(slots=True)
class RowError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportOutcome:
    """What an import did (or, in a dry run, would do). Messages are already in the admin's language."""

    lang: str = i18n.DEFAULT_LANGUAGE
    dry_run: bool = True
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Enrolments the cohort column makes (or, in a dry run, would make).
    enrolled: int = 0
    errors: list[RowError] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    credentials_batch_id: int | None = None
    rows_limit: int | None = None

    def error(self, row: int, col: str, message: str, /, **params: Any) -> RowError:
        err = RowError(row, col, i18n.translate(self.lang, message, **params))
        self.errors.append(err)
        return err

    def add_row(self, detail: dict[str, Any]) -> None:
        if self.rows_limit is None or len(self.rows) < self.rows_limit:
            self.rows.append(detail)

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "total": self.total,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "enrolled": self.enrolled,
            "error_rows": self.error_rows,
            "errors": [e.as_dict() for e in self.errors],
            "ignored_columns": self.ignored_columns,
            "rows": self.rows,
            "credentials_batch_id": self.credentials_batch_id,
        }
