"""The `national-2022` profile: a dataset shaped like the ministry's published 2022 figures.

63 provinces (app/reports/data/provinces.csv) and one tenant for the 30 ministries and agencies, with units,
learners and completed enrolments ("trainings") so the national report shows what the ministry published
(app/reports/data/published_2022.csv): Quảng Ngãi 14,680, Hà Giang 7,227, Bình Phước 6,791, Hưng Yên 6,411,
Lạng Sơn 6,050, 116,348 in the provinces, 810 in the ministries, 117,158 in all. The other 58 provinces'
figures are generated deterministically (each below 6,050, summing to the published total).

Everything is set-based: one INSERT … SELECT per table over an integer sequence, no per-row ORM, no password
hashing (these accounts have no usable password). The enrolments are inserted with Core statements, so the
report counters are then rebuilt set-based (`counters.rebuild`) — see the warning in app.reports.counters.

`scale` multiplies every tenant's figures (the benchmark uses it to reach a million learners); only
`scale=1` reproduces the published numbers.
"""

# Every value interpolated into SQL below is an int or a module constant, never user input.
# ruff: noqa: S608, E501
from __future__ import annotations

import csv
import datetime as dt
import zlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from app.catalog import service as catalog_service
from app.catalog.models import Course, Lesson
from app.reports import counters
from app.tenancy import service as tenants
from app.tenancy.models import NATIONAL_SLUG
from app.tenancy.scoping import bind_tenant, unbind_tenant

DATA_DIR = Path(__file__).parent / "data"
MINISTRIES_SLUG = "bonganh"
MINISTRIES_NAME = "Các bộ, ngành Trung ương"
MINISTRIES = 30
COURSES = (
    ("cds-2022-cbcc", "Chuyển đổi số cho cán bộ, công chức (2022)"),
    ("cds-2022-nang-cao", "Chuyển đổi số nâng cao (2022)"),
)
LESSONS_PER_COURSE = 5
USERNAME_PREFIX = "n22-"
# Per province: districts × communes per district × (villages + one team) per commune.
DISTRICTS, COMMUNES, VILLAGES = 2, 3, 2
FIRST_DAY = dt.datetime(2022, 1, 3, 2, 0, tzinfo=dt.UTC)
LAST_DAY = dt.date(2022, 9, 30)


def published() -> dict[tuple[str, str], str]:
    with (DATA_DIR / "published_2022.csv").open(encoding="utf-8") as f:
        return {(r["scope"], r["figure"]): r["value"] for r in csv.DictReader(f)}


def province_rows() -> list[dict[str, str]]:
    with (DATA_DIR / "provinces.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def trainings_plan() -> dict[str, int]:
    """Trainings per tenant slug: the published ones, and the rest spread deterministically."""
    figures = published()
    fixed = {
        scope: int(value)
        for (scope, figure), value in figures.items()
        if figure == "civil_servant_trainings" and scope != "national"
    }
    provinces_total = int(figures[("national", "civil_servant_trainings_provinces")])
    ceiling = min(fixed.values())
    others = [r["slug"] for r in province_rows() if r["slug"] not in fixed]
    rest = provinces_total - sum(fixed.values())
    weights = {slug: 1000 + zlib.crc32(slug.encode()) % 3000 for slug in others}
    total_weight = sum(weights.values())
    plan = {slug: rest * w // total_weight for slug, w in weights.items()}
    for slug in sorted(others)[: rest - sum(plan.values())]:
        plan[slug] += 1
    assert all(n < ceiling for n in plan.values()), "a generated province would enter the published top five"
    plan.update(fixed)
    plan[MINISTRIES_SLUG] = int(figures[("national", "civil_servant_trainings_ministries")])
    return plan


@dataclass
class Plan:
    tenant_id: int
    trainings: int
    second: int  # learners who complete the second course too (trainings = learners + second)
    learners: int  # learners who completed at least one course
    unfinished: int  # further learners enrolled in the first course who have not finished it


def _plan_for(tenant_id: int, trainings: int) -> Plan:
    second = trainings // 5
    learners = trainings - second
    return Plan(tenant_id, trainings, second, learners, trainings // 10)


def _seq_sql(conn: Connection, n: int) -> str:
    if conn.dialect.name == "postgresql":
        return f"SELECT generate_series(1, {int(n)}) AS i"
    return (
        f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {int(n)}) SELECT i FROM s"
    )


def _plus_days(conn: Connection, expr: str) -> str:
    """FIRST_DAY + `expr` days, as a timestamp in the column's storage form."""
    if conn.dialect.name == "postgresql":
        return f"(TIMESTAMPTZ '{FIRST_DAY.isoformat()}' + ({expr}) * INTERVAL '1 day')"
    return f"strftime('%Y-%m-%d %H:%M:%f', '{FIRST_DAY.strftime('%Y-%m-%d %H:%M:%S')}', '+' || ({expr}) || ' days')"


def _ensure_tenants(session: Session) -> dict[str, int]:
    ids: dict[str, int] = {}
    rows = [(r["slug"], r["name"]) for r in province_rows()] + [(MINISTRIES_SLUG, MINISTRIES_NAME)]
    for slug, name in [(NATIONAL_SLUG, "Cổng đào tạo quốc gia"), *rows]:
        tenant = tenants.get_by_slug(session, slug)
        if tenant is None:
            tenant = tenants.create_tenant(session, slug=slug, display_name=name)
        ids[slug] = tenant.id
    session.flush()
    return ids


def _ensure_courses(session: Session, national_id: int) -> list[tuple[int, list[int]]]:
    """The two national courses of the dataset, with their lesson ids (created once, through the catalog)."""
    session.flush()
    session.expunge_all()
    bind_tenant(session, national_id, national_tenant_id=national_id)
    result = []
    for slug, title in COURSES:
        course = session.scalars(select(Course).where(Course.slug == slug)).first()
        if course is None:
            course = catalog_service.create_course(session, title=title, slug=slug)
            module = catalog_service.add_module(session, course, title="Phần 1")
            for n in range(1, LESSONS_PER_COURSE + 1):
                lesson = catalog_service.add_lesson(session, module, title=f"Bài {n}")
                catalog_service.update_lesson(
                    session,
                    lesson,
                    title=f"Bài {n}",
                    kind="text",
                    body_md=f"Nội dung bài {n}.",
                    required=True,
                )
            catalog_service.set_published(session, course, True)
            session.flush()
        lessons = list(
            session.scalars(
                select(Lesson.id)
                .where(Lesson.course_id == course.id)
                .order_by(Lesson.module_id, Lesson.position)
            )
        )
        result.append((course.id, lessons))
    session.flush()
    session.expunge_all()
    unbind_tenant(session)
    return result


def _insert_units(conn: Connection, plans: list[Plan], ministries_id: int) -> None:
    """Districts, communes, villages and teams for each province; departments for the ministries' tenant."""
    provinces = [p.tenant_id for p in plans if p.tenant_id != ministries_id]
    conn.execute(text("CREATE TEMPORARY TABLE n22_tenant (tenant_id INTEGER PRIMARY KEY)"))
    conn.execute(text("INSERT INTO n22_tenant (tenant_id) VALUES (:t)"), [{"t": t} for t in provinces])
    seq = _seq_sql(conn, max(DISTRICTS, COMMUNES, VILLAGES, MINISTRIES))
    now = "CURRENT_TIMESTAMP"
    level = (
        "INSERT INTO unit (tenant_id, code, name, name_folded, kind, parent_id, path, depth, created_at) "
        "SELECT {tenant}, {code}, {name}, {folded}, '{kind}', {parent}, '/', {depth}, {now} FROM {source}"
    )
    conn.execute(
        text(
            level.format(
                tenant="t.tenant_id",
                code="'H' || s.i",
                name="'Huyện ' || s.i",
                folded="'huyen ' || s.i",
                kind="district",
                parent="NULL",
                depth=0,
                now=now,
                source=f"n22_tenant t CROSS JOIN ({seq}) s WHERE s.i <= {DISTRICTS}",
            )
        )
    )
    conn.execute(
        text(
            level.format(
                tenant="p.tenant_id",
                code="p.code || '-X' || s.i",
                name="'Xã ' || s.i || ' ' || p.name",
                folded="'xa ' || s.i || ' ' || p.name_folded",
                kind="commune",
                parent="p.id",
                depth=1,
                now=now,
                source=f"unit p JOIN n22_tenant t ON t.tenant_id = p.tenant_id CROSS JOIN ({seq}) s "
                f"WHERE p.kind = 'district' AND p.code LIKE 'H%' AND s.i <= {COMMUNES}",
            )
        )
    )
    for kind, code, name, count in (("village", "T", "Thôn", VILLAGES), ("team", "CNS", "Tổ CNSCĐ", 1)):
        conn.execute(
            text(
                level.format(
                    tenant="p.tenant_id",
                    code=f"p.code || '-{code}' || s.i",
                    name=f"'{name} ' || s.i || ' ' || p.name",
                    folded=f"'{name.lower()} ' || s.i || ' ' || p.name_folded",
                    kind=kind,
                    parent="p.id",
                    depth=2,
                    now=now,
                    source=f"unit p JOIN n22_tenant t ON t.tenant_id = p.tenant_id CROSS JOIN ({seq}) s "
                    f"WHERE p.kind = 'commune' AND p.code LIKE 'H%' AND s.i <= {count}",
                )
            )
        )
    conn.execute(
        text(
            level.format(
                tenant=str(int(ministries_id)),
                code="'BO' || s.i",
                name="'Bộ, ngành ' || s.i",
                folded="'bo nganh ' || s.i",
                kind="department",
                parent="NULL",
                depth=0,
                now=now,
                source=f"({seq}) s WHERE s.i <= {MINISTRIES}",
            )
        )
    )
    # Materialised paths, level by level (each level's parents already have theirs).
    tenants_in = ",".join(str(int(t)) for t in [*provinces, ministries_id])
    conn.execute(
        text(
            f"UPDATE unit SET path = '/' || CAST(id AS VARCHAR(20)) || '/' "
            f"WHERE tenant_id IN ({tenants_in}) AND parent_id IS NULL AND path = '/'"
        )
    )
    for depth in (1, 2):
        conn.execute(
            text(
                f"UPDATE unit SET path = (SELECT p.path FROM unit p WHERE p.id = unit.parent_id) "
                f"|| CAST(id AS VARCHAR(20)) || '/' WHERE tenant_id IN ({tenants_in}) AND depth = {depth} "
                f"AND path = '/'"
            )
        )
    conn.execute(text("DROP TABLE n22_tenant"))


def generate(session: Session, *, scale: float = 1.0, lesson_progress: bool = False) -> dict[str, int]:
    """Build the dataset (idempotent per tenant: a tenant that already has `n22-` learners is skipped).

    Takes an unbound session: it binds the national tenant for the courses, and every other statement is
    Core SQL that names its tenants itself.
    """
    slugs = _ensure_tenants(session)
    courses = _ensure_courses(session, slugs[NATIONAL_SLUG])
    conn = session.connection()
    existing = set(
        conn.execute(
            text("SELECT DISTINCT tenant_id FROM user_account WHERE username LIKE :p"),
            {"p": USERNAME_PREFIX + "%"},
        ).scalars()
    )
    plans = [
        _plan_for(slugs[slug], max(0, round(n * scale)))
        for slug, n in sorted(trainings_plan().items())
        if slugs[slug] not in existing
    ]
    if not plans:
        return {"tenants": 0, "learners": 0, "trainings": 0}
    _insert_units(conn, plans, slugs[MINISTRIES_SLUG])
    conn.execute(
        text(
            "CREATE TEMPORARY TABLE n22_plan (tenant_id INTEGER PRIMARY KEY, learners INTEGER, second INTEGER, "
            "everyone INTEGER, slots INTEGER)"
        )
    )
    conn.execute(
        text("INSERT INTO n22_plan VALUES (:t, :l, :s, :e, 0)"),
        [{"t": p.tenant_id, "l": p.learners, "s": p.second, "e": p.learners + p.unfinished} for p in plans],
    )
    # Learners live in villages and teams (departments for the ministries), dealt out round-robin.
    conn.execute(
        text(
            "CREATE TEMPORARY TABLE n22_slot AS SELECT u.tenant_id, u.id AS unit_id, "
            "ROW_NUMBER() OVER (PARTITION BY u.tenant_id ORDER BY u.id) AS slot "
            "FROM unit u JOIN n22_plan p ON p.tenant_id = u.tenant_id "
            "WHERE u.kind IN ('village', 'team', 'department')"
        )
    )
    conn.execute(
        text(
            "UPDATE n22_plan SET slots = (SELECT COUNT(*) FROM n22_slot s WHERE s.tenant_id = n22_plan.tenant_id)"
        )
    )
    top = max(p.learners + p.unfinished for p in plans)
    conn.execute(
        text(
            "INSERT INTO user_account (tenant_id, username, full_name, name_folded, target_group, unit_id, roles, "
            "is_active, must_change_password, token_version, created_at) "
            f"SELECT p.tenant_id, '{USERNAME_PREFIX}' || s.i, 'Học viên ' || s.i, 'hoc vien ' || s.i, "
            "CASE WHEN sl.slot % 3 = 0 THEN 'digital_team_member' ELSE 'civil_servant' END, sl.unit_id, "
            "'[\"learner\"]', TRUE, FALSE, 0, CURRENT_TIMESTAMP "
            f"FROM n22_plan p CROSS JOIN ({_seq_sql(conn, top)}) s "
            "JOIN n22_slot sl ON sl.tenant_id = p.tenant_id AND sl.slot = (s.i % p.slots) + 1 "
            "WHERE s.i <= p.everyone"
        )
    )
    ordinal = f"CAST(SUBSTR(u.username, {len(USERNAME_PREFIX) + 1}) AS INTEGER)"
    enrolled = _plus_days(conn, f"({ordinal} * 31) % 200")
    completed = _plus_days(conn, f"({ordinal} * 31) % 200 + 7 + {ordinal} % 60")
    for index, (course_id, lessons) in enumerate(courses):
        who = "<= p.learners" if index == 0 else "<= p.second"
        conn.execute(
            text(
                "INSERT INTO enrolment (tenant_id, user_id, course_id, cohort_id, lessons_completed, lessons_total, "
                "percent, enrolled_at, started_at, completed_at, late, best_score_percent, counted_unit_id, "
                "counted_group) "
                f"SELECT u.tenant_id, u.id, {int(course_id)}, NULL, {len(lessons)}, {len(lessons)}, 100, "
                f"{enrolled}, {enrolled}, {completed}, FALSE, 60 + ({ordinal} * 7) % 41, "
                "COALESCE(u.unit_id, 0), COALESCE(u.target_group, '') "
                "FROM user_account u JOIN n22_plan p ON p.tenant_id = u.tenant_id "
                f"WHERE u.username LIKE '{USERNAME_PREFIX}%' AND {ordinal} {who}"
            )
        )
    first_id, first_lessons = courses[0]
    conn.execute(
        text(
            "INSERT INTO enrolment (tenant_id, user_id, course_id, cohort_id, lessons_completed, lessons_total, "
            "percent, enrolled_at, started_at, completed_at, late, counted_unit_id, counted_group) "
            f"SELECT u.tenant_id, u.id, {int(first_id)}, NULL, 1, {len(first_lessons)}, "
            f"{100 // len(first_lessons)}, {enrolled}, {enrolled}, NULL, FALSE, COALESCE(u.unit_id, 0), "
            "COALESCE(u.target_group, '') "
            "FROM user_account u JOIN n22_plan p ON p.tenant_id = u.tenant_id "
            f"WHERE u.username LIKE '{USERNAME_PREFIX}%' AND {ordinal} > p.learners"
        )
    )
    if lesson_progress:
        lessons_values = ",".join(
            f"({int(c)}, {int(lesson)}, {n})" for c, ls in courses for n, lesson in enumerate(ls, start=1)
        )
        conn.execute(
            text("CREATE TEMPORARY TABLE n22_lesson (course_id INTEGER, lesson_id INTEGER, n INTEGER)")
        )
        conn.execute(text(f"INSERT INTO n22_lesson VALUES {lessons_values}"))
        conn.execute(
            text(
                "INSERT INTO lesson_progress (tenant_id, enrolment_id, lesson_id, completed_at) "
                "SELECT e.tenant_id, e.id, l.lesson_id, e.enrolled_at FROM enrolment e "
                "JOIN n22_plan p ON p.tenant_id = e.tenant_id "
                "JOIN n22_lesson l ON l.course_id = e.course_id AND l.n <= e.lessons_completed"
            )
        )
        conn.execute(text("DROP TABLE n22_lesson"))
    for table in ("n22_slot", "n22_plan"):
        conn.execute(text(f"DROP TABLE {table}"))
    for plan in plans:
        counters.rebuild(session, plan.tenant_id, rehome=False)
    return {
        "tenants": len(plans),
        "learners": sum(p.learners + p.unfinished for p in plans),
        "trainings": sum(p.trainings for p in plans),
    }


__all__ = ["LAST_DAY", "generate", "published", "trainings_plan"]
