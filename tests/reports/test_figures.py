"""Every figure of the tenant report against the hand-counted province in conftest.py."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.accounts.models import User
from app.reports import counters, service
from app.reports.service import Filters
from app.tenancy.scoping import cross_tenant
from tests.factories import in_tenant
from tests.reports.conftest import DAY2, counter_rows, study


def _fig(f: service.Figures) -> tuple[int, int, int, int, int]:
    return (f.assigned, f.started, f.completed, f.certified, f.late)


def _rows(report: service.Report) -> dict[str, tuple[int, int, int, int, int]]:
    return {r.name or r.key: _fig(r.figures) for r in report.rows}


def test_totals_by_course_group_and_cohort(province, db) -> None:
    with in_tenant(db, province.world.haiphong):
        whole = Filters()
        by_course = service.tenant_report(db, "course", whole)
        assert _fig(by_course.totals) == (7, 6, 5, 0, 1)
        assert by_course.totals.completion_rate == round(5 * 100 / 7, 1)
        assert _rows(by_course) == {
            "Chuyển đổi số cơ bản": (6, 5, 4, 0, 1),
            "An toàn thông tin": (1, 1, 1, 0, 0),
        }
        groups = {r.key: _fig(r.figures) for r in service.tenant_report(db, "group", whole).rows}
        assert groups == {
            "civil_servant": (2, 2, 2, 0, 1),
            "digital_team_member": (3, 3, 2, 0, 0),
            "commune_leader": (1, 0, 0, 0, 0),
            "": (1, 1, 1, 0, 0),
        }
        cohorts = {r.key: _fig(r.figures) for r in service.tenant_report(db, "cohort", whole).rows}
        assert cohorts == {str(province.cohort.id): (3, 3, 2, 0, 1), "0": (4, 3, 3, 0, 0)}
        # Distinct learners with a completion: an, binh, dung (twice, counted once), giang.
        assert service.learners_with_completion(db, province.world.haiphong.id) == 4


def test_units_roll_up_a_three_level_tree(province, db) -> None:
    u = province.units
    with in_tenant(db, province.world.haiphong):
        top = service.tenant_report(db, "unit", Filters())
        rows = {r.key: _fig(r.figures) for r in top.rows}
        assert rows == {str(u["Q1"]): (6, 5, 4, 0, 1), str(u["Q2"]): (0, 0, 0, 0, 0), "none": (1, 1, 1, 0, 0)}
        district = service.tenant_report(db, "unit", Filters(), parent_unit_id=u["Q1"])
        assert {r.key: _fig(r.figures) for r in district.rows} == {
            str(u["X1"]): (5, 5, 4, 0, 1),
            str(u["X2"]): (1, 0, 0, 0, 0),
        }
        assert _fig(district.totals) == (6, 5, 4, 0, 1)
        commune = service.tenant_report(db, "unit", Filters(), parent_unit_id=u["X1"])
        assert {r.key: _fig(r.figures) for r in commune.rows} == {
            str(u["T1"]): (2, 2, 2, 0, 1),
            str(u["T2"]): (1, 1, 0, 0, 0),
            str(u["CNS1"]): (2, 2, 2, 0, 0),
        }
        assert [b.name for b in commune.breadcrumbs] == ["Quận Hồng Bàng", "Phường Hoàng Văn Thụ"]
        coverage = {c.kind: (c.covered, c.total) for c in service.coverage(db)}
        assert coverage == {"commune": (1, 2), "village": (1, 2), "team": (1, 1)}


def test_a_learner_counts_once_per_course_however_many_events(province, db) -> None:
    with in_tenant(db, province.world.haiphong):
        before = service.totals(db, Filters())
    # an completes every lesson again, twice, and enrols again: nothing changes.
    for _ in range(2):
        study(db, province.world.haiphong, "an", province.course, lessons=3, cohort=province.cohort, now=DAY2)
    with in_tenant(db, province.world.haiphong):
        assert _fig(service.totals(db, Filters())) == _fig(before)
        assert service.learners_with_completion(db, province.world.haiphong.id) == 4


def test_date_range_counts_each_event_on_its_day(province, db) -> None:
    day2 = dt.date(2026, 3, 12)
    with in_tenant(db, province.world.haiphong):
        ranged = service.totals(db, Filters(day2, day2))
        # Completed on 12/3: binh (late), dung's second course, giang. Started that day: the same three.
        assert (ranged.started, ranged.completed, ranged.late) == (3, 3, 1)
        series, step = service.time_series(db, Filters(dt.date(2026, 3, 9), day2))
        assert step == "day"
        assert [(p.day.day, p.completed) for p in series] == [(9, 0), (10, 2), (11, 0), (12, 3)]
        lines, total = service.drill_down(
            db, Filters(day2, day2), group_by="all", key="", measure="completed"
        )
        assert total == 3
        assert sorted(line.user.username for line in lines) == ["binh", "dung", "giang"]


def test_drill_down_lists_the_learners_behind_a_number(province, db) -> None:
    u = province.units
    with in_tenant(db, province.world.haiphong):
        lines, total = service.drill_down(
            db, Filters(), group_by="unit", key=str(u["X1"]), measure="completed"
        )
        assert total == 4
        assert sorted(line.user.username for line in lines) == ["an", "binh", "dung", "dung"]
        lines, total = service.drill_down(db, Filters(), group_by="unit", key=str(u["X1"]), measure="late")
        assert [line.user.username for line in lines] == ["binh"]
        page, total = service.drill_down(
            db, Filters(), group_by="all", key="", measure="assigned", limit=2, offset=6
        )
        assert total == 7 and len(page) == 1


def test_incremental_counters_equal_a_rebuild(province, db) -> None:
    tenant_id = province.world.haiphong.id
    # Change figures through the ORM too: a certificate, a best score, a cohort joined later.
    from app.progress.models import Enrolment

    with in_tenant(db, province.world.haiphong):
        an = db.scalars(select(User).where(User.username == "an")).one()
        e = db.scalars(select(Enrolment).where(Enrolment.user_id == an.id)).one()
        e.best_score_percent = 80.0
        e.certified_at = DAY2
        db.flush()
        e.best_score_percent = 90.0
        db.flush()
    db.commit()
    incremental = counter_rows(db, tenant_id)
    with cross_tenant(db):
        counters.rebuild(db, tenant_id)
    db.commit()
    assert counter_rows(db, tenant_id) == incremental
    with in_tenant(db, province.world.haiphong):
        totals = service.totals(db, Filters())
        assert (totals.certified, totals.average_score) == (1, 90.0)


def test_rebuild_rehomes_a_learner_who_moved(province, db) -> None:
    u = province.units
    with in_tenant(db, province.world.haiphong):
        user = db.scalars(select(User).where(User.username == "em")).one()
        user.unit_id = u["T2"]
    db.commit()
    with in_tenant(db, province.world.haiphong):
        # Counted where em was when enrolling, until the rebuild.
        rows = {
            r.key: r.figures.assigned
            for r in service.tenant_report(db, "unit", Filters(), parent_unit_id=u["Q1"]).rows
        }
        assert rows[str(u["X2"])] == 1
    with cross_tenant(db):
        counters.rebuild(db, province.world.haiphong.id)
    db.commit()
    with in_tenant(db, province.world.haiphong):
        rows = {
            r.key: r.figures.assigned
            for r in service.tenant_report(db, "unit", Filters(), parent_unit_id=u["Q1"]).rows
        }
        assert rows[str(u["X2"])] == 0 and rows[str(u["X1"])] == 6
