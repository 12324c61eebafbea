"""Report groupings, figures and limits."""

from __future__ import annotations

from app.core.errors import N_

GROUP_BY = {
    "unit": N_("By unit"),
    "group": N_("By target group"),
    "course": N_("By course"),
    "cohort": N_("By cohort"),
}
# Figures a user can click to see the learners behind them.
DRILL_MEASURES = ("assigned", "started", "completed", "certified", "late")
# Unit kinds whose coverage (share with at least one completion) the reports show.
COVERAGE_KINDS = ("commune", "village", "team")
# The time series covers this many days when no range is chosen; longer ranges are shown per week.
SERIES_DAYS = 30
WEEKLY_AFTER_DAYS = 92
DRILL_PAGE_SIZE = 50
# Rows of a learner export (the drill-down as a spreadsheet).
EXPORT_MAX_ROWS = 100_000
