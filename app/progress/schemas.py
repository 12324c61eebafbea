"""API shapes for enrolments and progress (SPEC §9 progress item)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from app.core.numbers import MAX_ID


class EnrolRequest(BaseModel):
    cohort_id: int | None = Field(default=None, ge=1, le=MAX_ID)


class ProgressItem(BaseModel):
    course_slug: str
    cohort_id: int | None
    lessons_completed: int
    lessons_total: int
    percent: int
    completed_at: dt.datetime | None
    late: bool


class ProgressList(BaseModel):
    items: list[ProgressItem]
    total: int
