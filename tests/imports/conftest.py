"""The cohort that the sample spreadsheets' `Đợt học` column names: code HP-01, title "Đợt 01"."""

from __future__ import annotations

import pytest

from tests.factories import make_cohort, make_course


@pytest.fixture()
def batch01(world, db):  # type: ignore[no-untyped-def]
    course = make_course(db, world.national, "cds-co-ban", "Chuyển đổi số cơ bản")
    return make_cohort(db, world.haiphong, course, "HP-01", title="Đợt 01")


@pytest.fixture(autouse=True)
def _cohort_for_sample_files(request):  # type: ignore[no-untyped-def]
    if "world" in request.fixturenames:
        request.getfixturevalue("batch01")
