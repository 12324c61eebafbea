"""API shapes for cohorts, enrolment by username and the roster."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, Field


class CohortCreate(BaseModel):
    course_slug: str = Field(max_length=100)
    code: str = Field(min_length=1, max_length=50)
    title: str = Field(min_length=1, max_length=300)
    opens_on: dt.date | None = None
    closes_on: dt.date | None = None
    self_enrolment: bool = False


class CohortRead(BaseModel):
    id: int
    code: str
    title: str
    course_slug: str
    opens_on: dt.date | None
    closes_on: dt.date | None
    self_enrolment: bool


class CohortList(BaseModel):
    items: list[CohortRead]
    total: int


class RosterEntry(BaseModel):
    username: str
    full_name: str
    lessons_completed: int
    lessons_total: int
    percent: int
    completed_at: dt.datetime | None
    late: bool


class CohortDetail(CohortRead):
    roster: list[RosterEntry]


class CohortEnrolments(BaseModel):
    """Enrol by a list of usernames, or every account of a unit (by code or name) and the units below it."""

    usernames: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=10_000)
    unit: str | None = Field(default=None, max_length=255)
    include_subunits: bool = True


class EnrolmentReportRead(BaseModel):
    enrolled: int
    already_enrolled: int
    unknown_usernames: list[str]
