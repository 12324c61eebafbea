"""The `national-2022` profile reproduces the ministry's published figures in the national report."""

from __future__ import annotations

from app.reports import national2022, service
from app.reports.service import Filters


def test_national_report_reproduces_the_published_2022_figures(db) -> None:
    made = national2022.generate(db)
    db.commit()
    report = service.national_report(db, Filters())
    assert made["trainings"] == 117_158
    top = [(r.key, r.figures.completed) for r in report.rows[:5]]
    assert top == [
        ("quangngai", 14_680),
        ("hagiang", 7_227),
        ("binhphuoc", 6_791),
        ("hungyen", 6_411),
        ("langson", 6_050),
    ]
    assert report.rows[5].figures.completed < 6_050
    assert report.totals.completed == 117_158
    assert report.provinces.completed == 116_348
    ministries = next(r for r in report.rows if r.key == national2022.MINISTRIES_SLUG)
    assert ministries.figures.completed == 810 and not ministries.extra["province"]
    # Trainings count completions, learners count people: some completed both courses.
    assert report.learners < report.totals.completed
    assert sum(1 for r in report.rows if r.extra["province"]) == 63
    # Grouped under the 34 provinces of 2025, the totals stay the same.
    merged = service.national_report(db, Filters(), merged=True)
    assert (merged.totals.completed, merged.learners) == (117_158, report.learners)
    assert sum(1 for r in merged.rows if r.extra["province"]) == 34
    # Running the profile again adds nothing.
    assert national2022.generate(db)["trainings"] == 0
