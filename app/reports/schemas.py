"""API shapes of the reports: rows `{"key", "name", "assigned", "started", "completed", "certified",
"completion_rate", …}` plus `"totals"` (SPEC §9)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class FiguresRead(BaseModel):
    assigned: int
    started: int
    completed: int
    certified: int
    completion_rate: float
    late: int
    average_score: float | None


class ReportRowRead(FiguresRead):
    key: str
    name: str


class SummaryRead(BaseModel):
    group_by: str
    date_from: dt.date | None
    date_to: dt.date | None
    unit_id: int | None = None
    items: list[ReportRowRead]
    total: int
    totals: FiguresRead
    learners: int | None = None


class CoverageRead(BaseModel):
    covered: int
    total: int
    share: float


class TenantRowRead(ReportRowRead):
    rank: int
    trainings: int
    learners: int | None
    visits: int
    team_members: int
    coverage: dict[str, CoverageRead]
    tenants: list[str]


class NationalTotalsRead(FiguresRead):
    trainings: int
    learners: int | None
    trainings_provinces: int
    visits: int
    teams: int
    team_members: int
    coverage: dict[str, CoverageRead]


class NationalRead(BaseModel):
    date_from: dt.date | None
    date_to: dt.date | None
    merged: bool
    items: list[TenantRowRead]
    total: int
    totals: NationalTotalsRead
