"""No N+1: the SQL statements a page or API call runs do not grow with the data.

Each page is requested once with a small data set and once after adding many more courses, lessons,
learners, enrolments and completions; the statement count must not change. Counted on the engine
(`before_cursor_execute`), without the test harness's own SAVEPOINT/RELEASE statements; the content cache
is emptied before each request, so the count is the cold one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from app.catalog import service as catalog
from app.cohorts.models import Cohort
from app.core.cache import MemoryCache
from app.progress import service as progress
from tests.factories import in_tenant, lesson_ids, make_cohort, make_course, make_user


@contextmanager
def counting(engine: Any) -> Iterator[list[str]]:
    """The statements run; a transaction's row-level security declaration (PostgreSQL) is kept apart, in
    `declarations` below: it is one per transaction, whatever the data."""
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        head = statement.lstrip().upper()
        if head.startswith("SELECT SET_CONFIG('APP.TENANT_ID'"):
            declarations.append(statement)
        elif not head.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


declarations: list[str] = []


def add_data(db, world, *, courses: int, lessons: int, learners: int, tag: str) -> None:  # type: ignore[no-untyped-def]
    """More national courses, learners enrolled (in the roster's cohort too) with lessons completed."""
    made = [
        make_course(
            db, world.national, f"{tag}-{i}", f"Khóa {tag} {i}", lessons=[f"B{j}" for j in range(lessons)]
        )
        for i in range(courses)
    ]
    cohort_id = world.cohort_id
    for n in range(learners):
        user = make_user(db, world.haiphong, f"{tag}hv{n}")
        with in_tenant(db, world.haiphong):
            cohort = db.get(Cohort, cohort_id)
            enrolment, _ = progress.enrol(
                db, user, catalog.get_course_by_id(db, world.course_id), cohort=cohort
            )
            for lesson_id in lesson_ids_of(db, world.course_id)[: 1 + n % 3]:
                progress.complete_lesson(db, enrolment, catalog.get_lesson(db, lesson_id))
    learner = world.users["haiphong_learner"]
    with in_tenant(db, world.haiphong):
        for course in made:
            enrolment, _ = progress.enrol(db, learner, catalog.get_course_by_id(db, course.id))
            full = catalog.get_course_by_id(db, course.id)
            for lesson in catalog.course_lessons(full)[:2]:
                progress.complete_lesson(db, enrolment, lesson)
    db.commit()


def lesson_ids_of(db, course_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    return [x.id for x in catalog.course_lessons(catalog.get_course_by_id(db, course_id))]


def test_statement_counts_do_not_grow_with_the_data(world, db, app, make_client) -> None:
    course = make_course(db, world.national, "cds", "Chuyển đổi số", lessons=("A", "B", "C"))
    world.course_id = course.id
    ids = lesson_ids(db, world.national, course.id)
    trainer_id = world.users["haiphong_trainer"].id  # runs the cohort: their roster is theirs to read
    world.cohort_id = make_cohort(
        db, world.haiphong, course, "HP-01", self_enrolment=True, created_by_id=trainer_id
    ).id
    learner = make_client("haiphong")
    learner.login_api("learner")
    assert (
        learner.api("POST", "/api/v1/courses/cds/enrol", json={"cohort_id": world.cohort_id}).status_code
        == 201
    )
    learner.api("POST", f"/api/v1/lessons/{ids[0]}/complete")
    page = make_client("haiphong")
    page.login_page("learner")
    trainer = make_client("haiphong")
    trainer.login_page("trainer")
    trainer_api = make_client("haiphong")
    trainer_api.login_api("trainer")
    add_data(db, world, courses=1, lessons=2, learners=2, tag="s")

    calls: dict[str, Callable[[], Any]] = {
        "catalog page": lambda: page.get("/courses"),
        "catalog API": lambda: learner.api("GET", "/api/v1/courses"),
        "course page": lambda: page.get("/courses/cds"),
        "course API": lambda: learner.api("GET", "/api/v1/courses/cds"),
        "lesson page": lambda: page.get(f"/lessons/{ids[1]}"),
        "lesson API": lambda: learner.api("GET", f"/api/v1/lessons/{ids[1]}"),
        "my learning page": lambda: page.get("/learning"),
        "my progress API": lambda: learner.api("GET", "/api/v1/me/progress"),
        "cohort roster page": lambda: trainer.get(f"/cohorts/{world.cohort_id}"),
        "cohort roster API": lambda: trainer_api.api("GET", f"/api/v1/cohorts/{world.cohort_id}"),
    }

    def measure() -> dict[str, int]:
        counts = {}
        for name, call in calls.items():
            call()  # the visit write of a first lesson read is not what is measured here
            app.state.cache = MemoryCache()
            declarations.clear()
            with counting(db.get_bind().engine) as statements:
                r = call()
            assert r.status_code == 200, (name, r.status_code, r.text[:300])
            counts[name] = len(statements)
            assert len(declarations) <= 3, (name, declarations)  # a few transactions, each declared once
        return counts

    small = measure()
    add_data(db, world, courses=6, lessons=8, learners=25, tag="l")
    large = measure()
    assert large == small, {k: (small[k], large[k]) for k in small if small[k] != large[k]}
    # The hot read paths stay small in absolute terms too (cold cache; warm ones skip the content queries).
    assert small["lesson API"] <= 8 and small["lesson page"] <= 8, small
