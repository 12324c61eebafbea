"""Reports as plain tables (headers + rows): what pages show, spreadsheets export and the CLI prints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core.errors import N_
from app.reports.constants import COVERAGE_KINDS
from app.reports.service import Figures, LearnerLine, NationalReport, Report, Row
from app.units.constants import UNIT_KINDS

Translate = Callable[[str], str]

NONE_LABELS = {
    "unit": N_("No unit"),
    "group": N_("No target group"),
    "course": N_("Unknown course"),
    "cohort": N_("No cohort (studying alone)"),
}
DIRECT_LABEL = N_("Directly in this unit")
FIGURE_HEADERS = (
    N_("Assigned"),
    N_("Started"),
    N_("Completed"),
    N_("Certified"),
    N_("Completion rate (%)"),
    N_("Average score (%)"),
    N_("Late completions"),
)
COVERAGE_LABELS = {
    "commune": N_("Communes covered"),
    "village": N_("Villages covered"),
    "team": N_("Teams covered"),
}


def row_name(report_group: str, row: Row, _: Translate) -> str:
    if row.key.startswith("direct:"):
        return _(DIRECT_LABEL)
    if row.extra.get("none") and not row.name:
        return _(NONE_LABELS[report_group])
    if report_group == "group":
        return _(row.name)
    return row.name


def figure_cells(f: Figures) -> list[Any]:
    return [
        f.assigned,
        f.started,
        f.completed,
        f.certified,
        f.completion_rate,
        "" if f.average_score is None else f.average_score,
        f.late,
    ]


def summary_table(report: Report, label: str, _: Translate) -> tuple[list[str], list[list[Any]]]:
    headers = [_(label), *(_(h) for h in FIGURE_HEADERS)]
    rows = [[row_name(report.group_by, r, _), *figure_cells(r.figures)] for r in report.rows]
    rows.append([_("Total"), *figure_cells(report.totals)])
    return headers, rows


def national_table(report: NationalReport, _: Translate) -> tuple[list[str], list[list[Any]]]:
    headers = [
        _("Rank"),
        _("Province or agency"),
        _("Trainings"),
        _("Learners who completed"),
        *(_(h) for h in FIGURE_HEADERS),
        *(_(COVERAGE_LABELS[k]) for k in COVERAGE_KINDS),
        _("Team members"),
        _("Visits"),
    ]
    rows: list[list[Any]] = []
    for r in report.rows:
        cov = r.extra["coverage"]
        rows.append(
            [
                r.rank,
                r.name,
                r.figures.completed,
                r.extra["learners"],
                *figure_cells(r.figures),
                *(f"{cov[k][0]}/{cov[k][1]}" for k in COVERAGE_KINDS),
                r.extra["members"],
                r.extra["visits"],
            ]
        )
    rows.append(
        [
            "",
            _("Whole country"),
            report.totals.completed,
            report.learners,
            *figure_cells(report.totals),
            *(f"{report.coverage[k].covered}/{report.coverage[k].total}" for k in COVERAGE_KINDS),
            report.team_members,
            report.visits,
        ]
    )
    return headers, rows


def learners_table(lines: list[LearnerLine], _: Translate) -> tuple[list[str], list[list[Any]]]:
    headers = [
        _("Full name"),
        _("Username"),
        _("Unit"),
        _("Course"),
        _("Enrolled on"),
        _("Started on"),
        _("Completed on"),
        _("Late"),
        _("Best score (%)"),
        _("Certified on"),
    ]

    def day(value: Any) -> str:
        return value.date().isoformat() if value else ""

    rows = [
        [
            line.user.full_name,
            line.user.username,
            line.unit_name,
            line.course_title,
            day(line.enrolment.enrolled_at),
            day(line.enrolment.started_at),
            day(line.enrolment.completed_at),
            _("Yes") if line.enrolment.late else "",
            "" if line.enrolment.best_score_percent is None else line.enrolment.best_score_percent,
            day(line.enrolment.certified_at),
        ]
        for line in lines
    ]
    return headers, rows


def kind_label(kind: str) -> str:
    return UNIT_KINDS.get(kind, kind)
