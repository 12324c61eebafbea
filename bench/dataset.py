"""A realistic benchmark dataset, built fast: the demo tenants, the shipped courses, thousands of learners.

Used by `bench/http.py` and `bench/soak.py`. What it builds on an empty database (SQLite or PostgreSQL):
- the national portal and three provinces (`onetouch seed`'s tenants, with the three `courses/` courses);
- `learners` learners per province, bulk-inserted (one argon2id hash shared by all: hashing thousands of
  passwords would take minutes and measures nothing), each enrolled in one to three courses with some
  lessons completed and the enrolment figures consistent with the rows;
- per province, `bench_users` "readers" enrolled in every course, mid-course (they read lessons), and
  `bench_users` "writers" enrolled in every course with only the first lesson done (they complete
  lessons), plus a cohort.
It returns what the load generators need: hosts, lesson ids and signed tokens (made with the server's
`SECRET_KEY`, exactly what `POST /api/v1/auth/token` would return).
"""

from __future__ import annotations

import random
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-pass-123"
PROVINCES = ("haiphong", "quangninh", "quangngai")


@dataclass
class BenchUser:
    host: str
    username: str
    user_id: int
    token: str


@dataclass
class Dataset:
    base_domain: str
    password: str
    lesson_ids: list[int]  # every non-quiz lesson of every shipped course, in reading order
    course_slugs: list[str]
    readers: list[BenchUser] = field(default_factory=list)
    writers: list[BenchUser] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def build(
    url: str, *, secret_key: str, learners: int = 2000, bench_users: int = 200, seed: int = 1
) -> Dataset:
    """Migrate `url` (an empty database), load the dataset and return what the load generators need."""
    from sqlalchemy import func, insert, select

    import app.models
    from app.accounts.models import User
    from app.catalog.models import Course, Lesson
    from app.cohorts.models import Cohort
    from app.core.db import make_engine, make_session_factory, utcnow
    from app.core.migrate import upgrade
    from app.core.security import create_access_token, hash_password
    from app.core.settings import Settings
    from app.progress.models import Enrolment, LessonProgress
    from app.seed import seed_demo
    from app.tenancy.scoping import cross_tenant

    rnd = random.Random(seed)
    upgrade(url)
    settings = Settings(database_url=url, secret_key=secret_key, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(url)
    factory = make_session_factory(engine)
    pw_hash = hash_password(PASSWORD)
    with factory() as s:
        seed_demo(s, settings=settings)
        s.commit()
    with factory() as s, cross_tenant(s):
        tenants = {t.slug: t.id for t in s.scalars(select(app.models.Tenant))}
        courses = list(s.scalars(select(Course).where(Course.status == "published").order_by(Course.id)))
        outline: dict[int, list[tuple[int, bool]]] = {}
        quiz_lessons: set[int] = set()
        for course in courses:
            quiz_lessons |= set(
                s.scalars(select(Lesson.id).where(Lesson.course_id == course.id, Lesson.kind == "quiz"))
            )
            rows = s.execute(
                select(Lesson.id, Lesson.required)
                .where(Lesson.course_id == course.id)
                .order_by(Lesson.module_id, Lesson.position)
            ).all()
            outline[course.id] = [(r[0], bool(r[1])) for r in rows]
        ds = Dataset(
            base_domain=settings.base_domain,
            password=PASSWORD,
            # Lessons a learner ticks off by hand: a quiz lesson is completed by passing its quiz (403 here).
            lesson_ids=[lid for c in courses for lid, _ in outline[c.id] if lid not in quiz_lessons],
            course_slugs=[c.slug for c in courses],
        )
        now = utcnow()
        for slug in PROVINCES:
            tid = tenants[slug]
            s.execute(
                insert(Cohort),
                [
                    {
                        "tenant_id": tid,
                        "course_id": c.id,
                        "code": f"BENCH-{c.id}",
                        "title": f"Đợt bench {c.slug}",
                        "self_enrolment": True,
                    }
                    for c in courses
                ],
            )
            cohort_ids = dict(
                s.execute(select(Cohort.course_id, Cohort.id).where(Cohort.tenant_id == tid)).all()
            )
            kinds = ["learner"] * learners + ["reader"] * bench_users + ["writer"] * bench_users
            users = []
            for i, kind in enumerate(kinds):
                users.append(
                    {
                        "tenant_id": tid,
                        "username": f"{kind[0]}{i:06d}",
                        "full_name": f"Học viên {kind} {i}",
                        "name_folded": f"hoc vien {kind} {i}",
                        "roles": ["learner"],
                        "password_hash": pw_hash,
                        "is_active": True,
                        "must_change_password": False,
                        "token_version": 0,
                        "created_at": now,
                    }
                )
            s.execute(insert(User), users)
            ids = dict(s.execute(select(User.username, User.id).where(User.tenant_id == tid)).all())
            enrolments = []
            for i, kind in enumerate(kinds):
                uid = ids[f"{kind[0]}{i:06d}"]
                picked = courses if kind != "learner" else rnd.sample(courses, rnd.randint(1, len(courses)))
                for c in picked:
                    lessons = outline[c.id]
                    # Readers and writers are mid-course, as most learners are on a contest day: started
                    # (the first lesson done), not finished. Other learners are anywhere from 0 to done.
                    if kind == "learner":
                        done = rnd.randint(0, len(lessons))
                    else:
                        done = 1 if kind == "writer" else rnd.randint(1, max(1, len(lessons) - 2))
                    enrolments.append((uid, c, lessons[:done]))
            s.execute(
                insert(Enrolment),
                [
                    {
                        "tenant_id": tid,
                        "user_id": uid,
                        "course_id": c.id,
                        "cohort_id": cohort_ids[c.id] if uid % 2 else None,
                        "lessons_total": c.required_lessons,
                        "lessons_completed": sum(1 for _, req in done if req),
                        "percent": min(
                            100, sum(1 for _, req in done if req) * 100 // max(1, c.required_lessons)
                        ),
                        "enrolled_at": now,
                        "started_at": now if done else None,
                        "last_lesson_id": done[-1][0] if done else None,
                        "late": False,
                    }
                    for uid, c, done in enrolments
                ],
            )
            enrol_ids = {
                (u, c): e
                for e, u, c in s.execute(
                    select(Enrolment.id, Enrolment.user_id, Enrolment.course_id).where(
                        Enrolment.tenant_id == tid
                    )
                ).all()
            }
            progress = [
                {
                    "tenant_id": tid,
                    "enrolment_id": enrol_ids[(uid, c.id)],
                    "lesson_id": lid,
                    "completed_at": now,
                }
                for uid, c, done in enrolments
                for lid, _ in done
            ]
            for start in range(0, len(progress), 20_000):
                s.execute(insert(LessonProgress), progress[start : start + 20_000])
            host = f"{slug}.{settings.base_domain}"
            for kind, target in (("reader", ds.readers), ("writer", ds.writers)):
                for i in range(bench_users):
                    index = learners + (0 if kind == "reader" else bench_users) + i
                    uid = ids[f"{kind[0]}{index:06d}"]
                    token, _ = create_access_token(
                        secret=secret_key,
                        algorithm=settings.jwt_algorithm,
                        user_id=uid,
                        tenant_id=tid,
                        version=0,
                        ttl_minutes=24 * 60,
                    )
                    target.append(BenchUser(host, f"{kind[0]}{index:06d}", uid, token))
        s.commit()
        ds.counts = {
            "users": s.scalar(select(func.count()).select_from(User)) or 0,
            "enrolments": s.scalar(select(func.count()).select_from(Enrolment)) or 0,
            "lesson_progress": s.scalar(select(func.count()).select_from(LessonProgress)) or 0,
            "courses": len(courses),
            "lessons": len(ds.lesson_ids),
        }
    engine.dispose()
    return ds
